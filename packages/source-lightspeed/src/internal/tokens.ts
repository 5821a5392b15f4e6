/**
 * The adapter's access token: refreshed before it expires and once on a 401. The rotated refresh token is
 * written to the TokenVault BEFORE the new access token is used: if the process dies between the two, the vault
 * holds the only refresh token that still works.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { PosSource, type TokenVault } from "@posbridge/core"
import { Clock, Effect, Option, Redacted, Ref, Schedule } from "effect"
import * as OAuth from "../OAuth.js"
import { authBaseUrl, type LightspeedSettings, refreshTokenVaultKey } from "../Settings.js"

export interface TokenManager {
  /** A usable access token (refreshing first when none is cached or it expires within a minute). */
  readonly current: Effect.Effect<string, PosSource.PosSourceError>
  /** The API rejected `token`: forget it so the next `current` refreshes (once, even if several callers saw it). */
  readonly invalidate: (token: string) => Effect.Effect<void>
  readonly refreshes: Effect.Effect<number>
}

const earlyMillis = 60_000

export const make = (options: {
  readonly storeId: string
  readonly settings: LightspeedSettings
  readonly http: HttpClient.HttpClient
  readonly vault: TokenVault.TokenVaultService
}): Effect.Effect<TokenManager> =>
  Effect.gen(function* () {
    const cached = yield* Ref.make<Option.Option<{ token: string; expiresAt: number }>>(Option.none())
    const count = yield* Ref.make(0)
    const lock = yield* Effect.makeSemaphore(1)
    const { storeId, settings, vault } = options

    const doRefresh = Effect.gen(function* () {
      const stored = yield* vault.get(storeId, refreshTokenVaultKey)
      const refreshToken = Option.orElse(stored, () => Option.fromNullable(settings.refreshToken))
      if (Option.isNone(refreshToken)) {
        return yield* new PosSource.PosSourceError({
          kind: "auth",
          message: "The Lightspeed store is not connected yet (no refresh token): authorize posbridge first"
        })
      }
      const tokens = yield* OAuth.refresh({
        authBaseUrl: authBaseUrl(settings),
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        refreshToken: refreshToken.value
      }).pipe(
        Effect.retry({
          while: (e) => e.reason === "transient",
          schedule: Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(4)))
        }),
        // The token endpoint is reached with the same client as the API.
        Effect.provideService(HttpClient.HttpClient, options.http),
        Effect.mapError(
          (e) =>
            new PosSource.PosSourceError({
              kind: e.reason === "transient" ? "transient" : "auth",
              message:
                e.reason === "transient"
                  ? e.message
                  : `${e.message}. The Lightspeed connection must be authorized again.`
            })
        )
      )
      // Persist first: the presented refresh token is already dead on Lightspeed's side.
      yield* vault.set(storeId, refreshTokenVaultKey, tokens.refreshToken)
      const now = yield* Clock.currentTimeMillis
      const token = Redacted.value(tokens.accessToken)
      yield* Ref.set(cached, Option.some({ token, expiresAt: now + tokens.expiresIn * 1000 }))
      yield* Ref.update(count, (n) => n + 1)
      return token
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

    return { current, invalidate, refreshes: Ref.get(count) }
  })
