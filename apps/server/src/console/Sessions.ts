/**
 * The console's sign-in sessions: in memory (a restart signs everyone out), each with an expiry, its CSRF token
 * and a one-shot flash sentence for the page after a redirect. Ids and tokens are 32 random bytes; every secret is
 * compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { Clock, Duration, Effect } from "effect"

export const cookieName = "posbridge_session"

export interface Session {
  readonly id: string
  readonly csrf: string
  expiresAt: number
  flash: { readonly text: string; readonly error?: boolean } | undefined
}

/** Equal strings, in time that does not depend on where they differ (both are hashed to the same length first). */
export const constantTimeEqual = (a: string, b: string) =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())

const token = () => randomBytes(32).toString("base64url")

export interface Sessions {
  readonly create: Effect.Effect<Session>
  /** The live session of `id`, its expiry pushed forward (an idle session ends after `idle`). */
  readonly get: (id: string | undefined) => Effect.Effect<Session | undefined>
  readonly end: (id: string) => Effect.Effect<void>
}

export const make = (idle: Duration.Duration = Duration.hours(8)): Sessions => {
  const sessions = new Map<string, Session>()
  const ttl = Duration.toMillis(idle)
  const sweep = (now: number) => {
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id)
  }
  return {
    create: Effect.map(Clock.currentTimeMillis, (now) => {
      sweep(now)
      const session: Session = { id: token(), csrf: token(), expiresAt: now + ttl, flash: undefined }
      sessions.set(session.id, session)
      return session
    }),
    get: (id) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (id === undefined) return undefined
        // The map lookup is by the id itself; ids are random 256-bit values, so lookup timing reveals nothing useful.
        const s = sessions.get(id)
        if (s === undefined || !constantTimeEqual(s.id, id)) return undefined
        if (s.expiresAt <= now) {
          sessions.delete(id)
          return undefined
        }
        s.expiresAt = now + ttl
        return s
      }),
    end: (id) => Effect.sync(() => void sessions.delete(id))
  }
}

/** The value of cookie `name` in a `Cookie` header. */
export const readCookie = (header: string | undefined, name: string): string | undefined => {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** The session cookie; `Secure` when the request came over https (directly or through a proxy that says so). */
export const sessionCookie = (value: string, secure: boolean, maxAgeSeconds?: number) =>
  [
    `${cookieName}=${value}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/admin",
    ...(maxAgeSeconds === undefined ? [] : [`Max-Age=${maxAgeSeconds}`]),
    ...(secure ? ["Secure"] : [])
  ].join("; ")
