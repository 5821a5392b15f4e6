/**
 * The adapter's access token: refreshed before it expires and once on a 401. The rotated refresh token is
 * written to the TokenVault BEFORE the new access token is used: if the process dies between the two, the vault
 * holds the only refresh token that still works.
 *
 * Several runners may refresh one store at once (two replicas during a failover; the OAuth callback on another
 * replica), each with its own cache but one vault. Lightspeed kills a refresh token at its first use, so:
 * - the rotated token is stored with `compareAndSet` against the token read: a runner whose read is stale never
 *   overwrites a newer token;
 * - a runner that loses (its CAS fails, or Lightspeed answers `invalid_grant` for a token another runner already
 *   used) re-reads the vault and refreshes with the token found there;
 * - the store is parked (an `auth` error) only when Lightspeed refuses the token that is still the stored one,
 *   re-read a few times over a few seconds so a winner between its token response and its write is waited for.
 * Within one TokenManager a semaphore keeps two fibers from refreshing at once. It is per manager, not per
 * process: two managers of one store in one process are two runners, and the vault alone keeps them safe.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { PosSource, TokenVault } from "@posbridge/core"
import { Clock, Duration, Effect, Either, Fiber, Option, Redacted, Ref, Schedule } from "effect"
import * as OAuth from "../OAuth.js"
import { authBaseUrl, type LightspeedSettings, refreshTokenVaultKey } from "../Settings.js"

export interface TokenManager {
  /** A usable access token (refreshing first when none is cached or it expires within a minute). */
  readonly current: Effect.Effect<string, PosSource.PosSourceError>
  /** The API rejected `token`: forget it so the next `current` refreshes (once, even if several callers saw it). */
  readonly invalidate: (token: string) => Effect.Effect<void>
  /** Refresh grants this manager completed. */
  readonly refreshes: Effect.Effect<number>
  /** Times another runner had rotated the refresh token first, so this one re-read the vault. */
  readonly racesLost: Effect.Effect<number>
}

const earlyMillis = 60_000
/** Refresh attempts in one `current` before giving up (each one follows a token another runner stored). */
const maxAttempts = 5
/** Re-reads of the vault after `invalid_grant` for the stored token, before the store is parked. */
const settleDelays = [200, 400, 800, 1600].map(Duration.millis)

export const make = (options: {
  readonly storeId: string
  readonly settings: LightspeedSettings
  readonly http: HttpClient.HttpClient
  readonly vault: TokenVault.TokenVaultService
}): Effect.Effect<TokenManager> =>
  Effect.gen(function* () {
    const cached = yield* Ref.make<Option.Option<{ token: string; expiresAt: number }>>(Option.none())
    const count = yield* Ref.make(0)
    const lost = yield* Ref.make(0)
    const lock = yield* Effect.makeSemaphore(1)
    const { storeId, settings, vault } = options

    const stored = vault.get(storeId, refreshTokenVaultKey)

    /**
     * One refresh grant and the compare-and-set of the token it returns, never separated: once Lightspeed answers,
     * the presented token is dead, so a runner stopped in between (its store moved to another runner, a graceful
     * shutdown) would lose the only live token and park the store. The pair runs in a fiber of its own (its
     * 30 s request timeout still works) that the caller waits for without being interruptible.
     */
    const rotateOnce = (refreshToken: Redacted.Redacted<string>, read: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkDaemon(
          OAuth.refresh({
            authBaseUrl: authBaseUrl(settings),
            clientId: settings.clientId,
            clientSecret: settings.clientSecret,
            refreshToken
          }).pipe(
            // The token endpoint is reached with the same client as the API.
            Effect.provideService(HttpClient.HttpClient, options.http),
            Effect.flatMap((tokens) =>
              Effect.map(vault.compareAndSet(storeId, refreshTokenVaultKey, read, tokens.refreshToken), (stored) => ({
                tokens,
                stored
              }))
            )
          )
        )
        return yield* Effect.uninterruptible(Fiber.join(fiber))
      })

    const refreshWith = (refreshToken: Redacted.Redacted<string>, read: Option.Option<Redacted.Redacted<string>>) =>
      rotateOnce(refreshToken, read).pipe(
        Effect.retry({
          while: (e) => e.reason === "transient",
          schedule: Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(4)))
        })
      )

    /** Whether the vault no longer holds `read`, waiting a little for a runner that is about to store its token. */
    const rotatedSince = (read: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function* () {
        for (const delay of [Duration.zero, ...settleDelays]) {
          yield* Effect.sleep(delay)
          const now = yield* stored
          if (Option.isSome(now) && !TokenVault.sameValue(now, read)) return true
        }
        return false
      })

    const lostRace = (why: string) =>
      Effect.zipRight(
        Ref.update(lost, (n) => n + 1),
        Effect.logInfo(`Lightspeed store ${storeId}: ${why}; using the refresh token it stored`)
      )

    /** Other runners kept rotating first: not a revoked grant, so `transient` (retried later), never `auth`. */
    const keptChanging = (attempts: number) =>
      new PosSource.PosSourceError({
        kind: "transient",
        message: `The Lightspeed refresh token of store ${storeId} kept changing under this runner (${attempts} attempts); retrying later`
      })

    const doRefresh = Effect.gen(function* () {
      for (let attempt = 1; ; attempt++) {
        const read = yield* stored
        const presented = Option.orElse(read, () => Option.fromNullable(settings.refreshToken))
        if (Option.isNone(presented)) {
          return yield* new PosSource.PosSourceError({
            kind: "auth",
            message: "The Lightspeed store is not connected yet (no refresh token): authorize posbridge first"
          })
        }
        const result = yield* Effect.either(refreshWith(presented.value, read))
        if (Either.isLeft(result)) {
          const e = result.left
          if (e.reason === "invalid_grant" && (yield* rotatedSince(read))) {
            if (attempt >= maxAttempts) return yield* keptChanging(attempt)
            yield* lostRace("another runner used the refresh token first")
            continue
          }
          return yield* new PosSource.PosSourceError({
            kind: e.reason === "transient" ? "transient" : "auth",
            message:
              e.reason === "transient" ? e.message : `${e.message}. The Lightspeed connection must be authorized again.`
          })
        }
        // Persisted before use (in `rotateOnce`), only over the token we read: if the vault moved meanwhile, the
        // token there is newer than ours.
        const { tokens, stored: won } = result.right
        if (!won) {
          if (attempt >= maxAttempts) return yield* keptChanging(attempt)
          yield* lostRace("another runner stored a refresh token first")
          continue
        }
        const now = yield* Clock.currentTimeMillis
        const token = Redacted.value(tokens.accessToken)
        yield* Ref.set(cached, Option.some({ token, expiresAt: now + tokens.expiresIn * 1000 }))
        yield* Ref.update(count, (n) => n + 1)
        return token
      }
    })

    const current = lock.withPermits(1)(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const c = yield* Ref.get(cached)
        if (Option.isSome(c) && c.value.expiresAt - earlyMillis > now) return c.value.token
        return yield* doRefresh
      })
    )

    const invalidate = (token: string) =>
      Ref.update(cached, (c) => (Option.isSome(c) && c.value.token === token ? Option.none() : c))

    return { current, invalidate, refreshes: Ref.get(count), racesLost: Ref.get(lost) }
  })
