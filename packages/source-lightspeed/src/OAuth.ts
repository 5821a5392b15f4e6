/**
 * Connecting a Lightspeed store: the authorization URL (with state and PKCE), the callback's code exchange, and
 * the refresh grant. Base URLs are parameters so the simulator's authorize and token endpoints can stand in.
 *
 * Lightspeed refresh tokens rotate: each refresh returns a new one and the old one dies. Callers must persist
 * the new refresh token before they use the new access token (see `completeAuthorization` and the adapter's
 * token manager), so a crash in between never strands the merchant with a dead token.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { TokenVault } from "@posbridge/core"
import { Effect, Redacted, Schema } from "effect"
import { defaults, refreshTokenVaultKey } from "./Settings.js"

export class OAuthError extends Schema.TaggedError<OAuthError>()("OAuthError", {
  reason: Schema.Literal("invalid_state", "denied", "invalid_grant", "invalid_client", "transient", "malformed"),
  message: Schema.String
}) {}

export const defaultScope = "employee:all"

export const authorizeEndpoint = (authBaseUrl: string = defaults.authBaseUrl) =>
  `${authBaseUrl.replace(/\/$/, "")}/auth/oauth/authorize`
export const tokenEndpoint = (authBaseUrl: string = defaults.authBaseUrl) =>
  `${authBaseUrl.replace(/\/$/, "")}/auth/oauth/token`

const base64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")

const randomToken = (bytes: number): string => base64Url(crypto.getRandomValues(new Uint8Array(bytes)))

/** A fresh `state` value for one authorization attempt (store it server-side until the callback). */
export const makeState: Effect.Effect<string> = Effect.sync(() => randomToken(24))

/** RFC 7636 S256 challenge of a verifier. */
export const codeChallenge = (verifier: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).pipe(
    Effect.map((digest) => base64Url(new Uint8Array(digest)))
  )

/** A PKCE pair: keep `verifier` server-side, send `challenge` in the authorization URL. */
export const makePkce: Effect.Effect<{ readonly verifier: string; readonly challenge: string }> = Effect.flatMap(
  Effect.sync(() => randomToken(48)),
  (verifier) => Effect.map(codeChallenge(verifier), (challenge) => ({ verifier, challenge }))
)

export interface AuthorizationUrlOptions {
  readonly authBaseUrl?: string | undefined
  readonly clientId: string
  readonly redirectUri: string
  readonly state: string
  readonly codeChallenge?: string | undefined
  readonly scope?: string | undefined
}

/** The URL `posbridge stores add --adapter lightspeed` prints for the merchant to open. */
export const authorizationUrl = (options: AuthorizationUrlOptions): string => {
  const url = new URL(authorizeEndpoint(options.authBaseUrl))
  url.searchParams.set("response_type", "code")
  url.searchParams.set("client_id", options.clientId)
  url.searchParams.set("redirect_uri", options.redirectUri)
  url.searchParams.set("scope", options.scope ?? defaultScope)
  url.searchParams.set("state", options.state)
  if (options.codeChallenge !== undefined) {
    url.searchParams.set("code_challenge", options.codeChallenge)
    url.searchParams.set("code_challenge_method", "S256")
  }
  return url.toString()
}

export interface Tokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
  /** Seconds, as the token endpoint said: never assumed. */
  readonly expiresIn: number
  readonly scope?: string | undefined
}

const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  refresh_token: Schema.String,
  expires_in: Schema.Union(Schema.Number, Schema.NumberFromString),
  scope: Schema.optional(Schema.String)
})

const ErrorResponse = Schema.Struct({ error: Schema.String, error_description: Schema.optional(Schema.String) })

const postToken = (authBaseUrl: string | undefined, form: Record<string, string>) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const response = yield* http
      .execute(
        HttpClientRequest.post(tokenEndpoint(authBaseUrl)).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams(form)
        )
      )
      .pipe(
        Effect.timeout("30 seconds"),
        Effect.mapError(
          (e) => new OAuthError({ reason: "transient", message: `Lightspeed token endpoint unreachable: ${e.message}` })
        )
      )
    const text = yield* Effect.orElseSucceed(response.text, () => "")
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return yield* new OAuthError({
        reason: response.status >= 500 ? "transient" : "malformed",
        message: `Lightspeed token endpoint answered ${response.status} with a body that is not JSON`
      })
    }
    if (response.status >= 500) {
      return yield* new OAuthError({
        reason: "transient",
        message: `Lightspeed token endpoint answered ${response.status}`
      })
    }
    if (response.status !== 200) {
      const error = Schema.decodeUnknownOption(ErrorResponse)(body)
      const code = error._tag === "Some" ? error.value.error : "unknown"
      const detail = error._tag === "Some" ? (error.value.error_description ?? "") : ""
      return yield* new OAuthError({
        reason: code === "invalid_client" ? "invalid_client" : "invalid_grant",
        message: `Lightspeed refused the token request (${response.status} ${code}${detail === "" ? "" : `: ${detail}`})`
      })
    }
    const tokens = yield* Schema.decodeUnknown(TokenResponse)(body).pipe(
      Effect.mapError(() => new OAuthError({ reason: "malformed", message: "Lightspeed token response lacks a token" }))
    )
    return {
      accessToken: Redacted.make(tokens.access_token),
      refreshToken: Redacted.make(tokens.refresh_token),
      expiresIn: tokens.expires_in,
      scope: tokens.scope
    } satisfies Tokens
  })

export interface ExchangeCodeOptions {
  readonly authBaseUrl?: string | undefined
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly code: string
  readonly codeVerifier?: string | undefined
  readonly redirectUri: string
}

/** The authorization-code grant (the callback route's step). */
export const exchangeCode = (options: ExchangeCodeOptions): Effect.Effect<Tokens, OAuthError, HttpClient.HttpClient> =>
  postToken(options.authBaseUrl, {
    grant_type: "authorization_code",
    client_id: options.clientId,
    client_secret: Redacted.value(options.clientSecret),
    code: options.code,
    redirect_uri: options.redirectUri,
    ...(options.codeVerifier === undefined ? {} : { code_verifier: options.codeVerifier })
  })

export interface RefreshOptions {
  readonly authBaseUrl?: string | undefined
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string>
}

/** The refresh grant. The returned refresh token replaces the presented one, which is now dead. */
export const refresh = (options: RefreshOptions): Effect.Effect<Tokens, OAuthError, HttpClient.HttpClient> =>
  postToken(options.authBaseUrl, {
    grant_type: "refresh_token",
    client_id: options.clientId,
    client_secret: Redacted.value(options.clientSecret),
    refresh_token: Redacted.value(options.refreshToken)
  })

/** Constant-time string comparison (the state check must not leak through timing). */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  let diff = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}

export interface CompleteAuthorizationOptions extends Omit<ExchangeCodeOptions, "code"> {
  readonly storeId: string
  /** The state issued with the authorization URL. */
  readonly expectedState: string
  /** The callback's query parameters. */
  readonly callback: URLSearchParams | Readonly<Record<string, string | undefined>>
}

/**
 * The callback route in one call: checks `state`, exchanges the code (with the PKCE verifier) and stores the
 * refresh token in the TokenVault before returning the tokens.
 */
export const completeAuthorization = (
  options: CompleteAuthorizationOptions
): Effect.Effect<Tokens, OAuthError, HttpClient.HttpClient | TokenVault.TokenVault> =>
  Effect.gen(function* () {
    const get = (k: string) =>
      options.callback instanceof URLSearchParams ? (options.callback.get(k) ?? undefined) : options.callback[k]
    const error = get("error")
    if (error !== undefined) {
      return yield* new OAuthError({ reason: "denied", message: `The merchant did not authorize posbridge (${error})` })
    }
    const state = get("state") ?? ""
    if (!constantTimeEqual(state, options.expectedState)) {
      return yield* new OAuthError({
        reason: "invalid_state",
        message: "The authorization callback carries an unknown state: start the connection again"
      })
    }
    const code = get("code")
    if (code === undefined || code === "") {
      return yield* new OAuthError({ reason: "malformed", message: "The authorization callback has no code" })
    }
    const tokens = yield* exchangeCode({ ...options, code })
    const vault = yield* TokenVault.TokenVault
    yield* vault.set(options.storeId, refreshTokenVaultKey, tokens.refreshToken)
    return tokens
  })
