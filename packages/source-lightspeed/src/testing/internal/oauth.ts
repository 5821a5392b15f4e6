/**
 * Lightspeed's OAuth 2 as the simulator plays it: `GET /auth/oauth/authorize` (the merchant approves at once: no
 * consent page), `POST /auth/oauth/token` for the `authorization_code` grant (PKCE S256 checked when a challenge
 * was sent) and the `refresh_token` grant. Access tokens expire; refresh tokens rotate, the presented one dying
 * at each refresh. Every token opens one account: the one the merchant approved from (the simulator's first
 * account, or `account_id` on the authorize URL, a simulator-only parameter), or the one `grant` names.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { Faults } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { json } from "./render.js"

export interface Client {
  readonly clientId: string
  readonly clientSecret: string
}

export const defaultClient: Client = { clientId: "sim-client", clientSecret: "sim-secret" }

interface Token {
  readonly clientId: string
  readonly accountId: string
  readonly expiresAt: number
  revoked: boolean
}

interface PendingCode {
  readonly clientId: string
  readonly accountId: string
  readonly redirectUri: string
  readonly challenge: string | undefined
  readonly scope: string
  readonly expiresAt: number
}

export interface OAuthOptions {
  readonly clients: ReadonlyArray<Client>
  /** The account a merchant approves from when the authorize URL names none. */
  readonly defaultAccount: string
  /** Whether the simulator has this account. */
  readonly hasAccount: (accountId: string) => boolean
  readonly accessTokenTtlMillis: number
  /** Source of the random parts of tokens and codes. */
  readonly prng: Faults.Prng
  /** Simulated epoch millis. */
  readonly now: Effect.Effect<number>
}

const refreshTokenTtlMillis = 30 * 24 * 3600 * 1000
const codeTtlMillis = 10 * 60 * 1000

const s256 = (verifier: string) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).pipe(
    Effect.map((digest) =>
      btoa(String.fromCharCode(...new Uint8Array(digest)))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "")
    )
  )

export const makeOAuth = (options: OAuthOptions) => {
  const { clients, now } = options
  const accessTokens = new Map<string, Token>()
  const refreshTokens = new Map<string, Token>()
  const codes = new Map<string, PendingCode>()
  /** Refresh tokens already rotated away: presenting one again is what a runner that lost a race does. */
  const usedRefreshTokens = new Set<string>()
  const counts = { tokenGrants: 0, tokenRefreshes: 0, refreshRefused: 0, refreshReused: 0 }

  const secret = (prefix: string) =>
    `${prefix}-${Array.from({ length: 4 }, () => options.prng.nextInt(2 ** 30).toString(36)).join("")}`

  const issueTokens = (clientId: string, accountId: string, nowMs: number, scope: string) => {
    const access = secret("at")
    const refresh = secret("rt")
    accessTokens.set(access, { clientId, accountId, expiresAt: nowMs + options.accessTokenTtlMillis, revoked: false })
    refreshTokens.set(refresh, { clientId, accountId, expiresAt: nowMs + refreshTokenTtlMillis, revoked: false })
    return {
      access_token: access,
      expires_in: Math.floor(options.accessTokenTtlMillis / 1000),
      token_type: "bearer",
      scope,
      refresh_token: refresh
    }
  }

  const authorize = (url: URL) =>
    Effect.gen(function* () {
      const p = url.searchParams
      const clientId = p.get("client_id") ?? ""
      const redirectUri = p.get("redirect_uri") ?? ""
      if (p.get("response_type") !== "code") return json({ error: "unsupported_response_type" }, 400)
      if (!clients.some((c) => c.clientId === clientId)) return json({ error: "invalid_client" }, 400)
      if (redirectUri === "") return json({ error: "invalid_request", error_description: "redirect_uri" }, 400)
      const accountId = p.get("account_id") ?? options.defaultAccount
      if (!options.hasAccount(accountId))
        return json({ error: "invalid_request", error_description: "account_id" }, 400)
      const challenge = p.get("code_challenge") ?? undefined
      if (challenge !== undefined && p.get("code_challenge_method") !== "S256") {
        return json({ error: "invalid_request", error_description: "only S256 is supported" }, 400)
      }
      const code = secret("code")
      codes.set(code, {
        clientId,
        accountId,
        redirectUri,
        challenge,
        scope: p.get("scope") ?? "employee:all",
        expiresAt: (yield* now) + codeTtlMillis
      })
      const target = new URL(redirectUri)
      target.searchParams.set("code", code)
      const state = p.get("state")
      if (state !== null) target.searchParams.set("state", state)
      return HttpServerResponse.redirect(target.toString(), { status: 302 })
    })

  const token = (request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function* () {
      const text = yield* Effect.orElseSucceed(request.text, () => "")
      const form = new URLSearchParams(text)
      const nowMs = yield* now
      const client = clients.find((c) => c.clientId === form.get("client_id"))
      if (client === undefined || client.clientSecret !== form.get("client_secret")) {
        return json({ error: "invalid_client", error_description: "Client authentication failed" }, 401)
      }
      const invalidGrant = (why: string) => json({ error: "invalid_grant", error_description: why }, 400)
      switch (form.get("grant_type")) {
        case "authorization_code": {
          const code = codes.get(form.get("code") ?? "")
          if (code === undefined || code.expiresAt < nowMs || code.clientId !== client.clientId) {
            return invalidGrant("The authorization code is invalid or expired")
          }
          codes.delete(form.get("code") ?? "")
          if (code.redirectUri !== (form.get("redirect_uri") ?? code.redirectUri)) {
            return invalidGrant("redirect_uri does not match")
          }
          if (code.challenge !== undefined && (yield* s256(form.get("code_verifier") ?? "")) !== code.challenge) {
            return invalidGrant("code_verifier does not match the code_challenge")
          }
          counts.tokenGrants++
          return json(issueTokens(client.clientId, code.accountId, nowMs, code.scope))
        }
        case "refresh_token": {
          const presented = form.get("refresh_token") ?? ""
          const token = refreshTokens.get(presented)
          if (token === undefined || token.revoked || token.expiresAt < nowMs || token.clientId !== client.clientId) {
            counts.refreshRefused++
            if (usedRefreshTokens.has(presented)) counts.refreshReused++
            return invalidGrant("The refresh token is invalid")
          }
          // Rotation: the presented refresh token dies now.
          refreshTokens.delete(presented)
          usedRefreshTokens.add(presented)
          counts.tokenRefreshes++
          return json(issueTokens(client.clientId, token.accountId, nowMs, "employee:all"))
        }
        default:
          return json({ error: "unsupported_grant_type" }, 400)
      }
    })

  return {
    counts,
    authorize,
    token,
    /** Whether an `Authorization` header carries a live access token of `accountId`. */
    isAuthorized: (authorization: string, nowMs: number, accountId: string) => {
      const found = accessTokens.get(authorization.replace(/^Bearer\s+/i, ""))
      return found !== undefined && !found.revoked && found.expiresAt > nowMs && found.accountId === accountId
    },
    /** Issues a refresh token directly, as if the merchant of `accountId` had just authorized `clientId`. */
    grant: (accountId: string, clientId = clients[0]?.clientId ?? defaultClient.clientId) =>
      Effect.map(now, (nowMs) => {
        counts.tokenGrants++
        return issueTokens(clientId, accountId, nowMs, "employee:all").refresh_token
      }),
    /** The refresh tokens of `accountId` that would be accepted now (rotation leaves one per grant). */
    liveRefreshTokens: (accountId: string, nowMs: number): ReadonlyArray<string> =>
      [...refreshTokens]
        .filter(([, t]) => t.accountId === accountId && !t.revoked && t.expiresAt >= nowMs)
        .map(([token]) => token),
    /** Kills the access tokens of `accountId` (refresh tokens still work). */
    revokeAccessTokens: (accountId: string) =>
      Effect.sync(() => {
        for (const t of accessTokens.values()) if (t.accountId === accountId) t.revoked = true
      }),
    /** The merchant of `accountId` revoked the app: every token of the account dies. */
    revokeGrant: (accountId: string) =>
      Effect.sync(() => {
        for (const t of [...accessTokens.values(), ...refreshTokens.values()])
          if (t.accountId === accountId) t.revoked = true
      })
  }
}

export type OAuth = ReturnType<typeof makeOAuth>
