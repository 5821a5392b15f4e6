/**
 * Connecting a Lightspeed store: `posbridge stores add --adapter lightspeed --store S` prints the authorization
 * URL (state + PKCE kept encrypted in the TokenVault); the merchant approves in Lightspeed, which redirects to
 * `/oauth/lightspeed/{storeId}/callback`; the route checks the state, exchanges the code with the PKCE verifier
 * and stores the refresh token, encrypted, before anything uses it. The store then syncs.
 */
import { HttpClient, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { TokenVault } from "@posbridge/core"
import { OAuth, Settings } from "@posbridge/source-lightspeed"
import { Effect, Option, Redacted, Schema } from "effect"
import type * as Config from "./Config.js"

export const pendingKey = "lightspeed.pendingAuthorization"
export const callbackPath = "/oauth/lightspeed/:storeId/callback"
export const callbackUrl = (publicUrl: string, storeId: string) =>
  `${publicUrl.replace(/\/$/, "")}/oauth/lightspeed/${encodeURIComponent(storeId)}/callback`

const Pending = Schema.parseJson(
  Schema.Struct({ state: Schema.String, verifier: Schema.String, redirectUri: Schema.String })
)

const settingsOf = (entry: Config.ResolvedStore) =>
  Settings.decode(entry.settings).pipe(
    Effect.mapError((e) => `store "${entry.id}": its Lightspeed settings do not decode: ${e.message}`)
  )

/** Creates a pending authorization for the store and returns the URL the merchant must open. */
export const begin = (entry: Config.ResolvedStore, publicUrl: string) =>
  Effect.gen(function* () {
    if (entry.adapter !== "lightspeed") {
      return yield* Effect.fail(`store "${entry.id}" uses the ${entry.adapter} adapter, not lightspeed`)
    }
    const settings = yield* settingsOf(entry)
    const state = yield* OAuth.makeState
    const pkce = yield* OAuth.makePkce
    const redirectUri = callbackUrl(publicUrl, entry.id)
    const vault = yield* TokenVault.TokenVault
    yield* vault.set(
      entry.id,
      pendingKey,
      Redacted.make(Schema.encodeSync(Pending)({ state, verifier: pkce.verifier, redirectUri }))
    )
    return OAuth.authorizationUrl({
      authBaseUrl: Settings.authBaseUrl(settings),
      clientId: settings.clientId,
      redirectUri,
      state,
      codeChallenge: pkce.challenge
    })
  })

const page = (status: number, sentence: string) =>
  HttpServerResponse.text(`${sentence}\n`, { status, contentType: "text/plain; charset=utf-8" })

/** The callback route. `entryOf` finds the configured store; `clientFor` gives its HttpClient. */
export const callbackRoute = (options: {
  readonly entryOf: (storeId: string) => Effect.Effect<Option.Option<Config.ResolvedStore>>
  readonly clientFor: (storeId: string) => HttpClient.HttpClient
  readonly vault: Effect.Effect<TokenVault.TokenVaultService>
  readonly connected: (storeId: string) => Effect.Effect<void>
}) =>
  HttpRouter.get(
    callbackPath,
    Effect.gen(function* () {
      const { storeId = "" } = yield* HttpRouter.params
      const request = yield* HttpServerRequest.HttpServerRequest
      const query = new URL(request.originalUrl, "http://posbridge").searchParams
      const entry = yield* options.entryOf(storeId)
      if (Option.isNone(entry) || entry.value.adapter !== "lightspeed") {
        return page(404, `There is no Lightspeed store "${storeId}" on this server.`)
      }
      const settings = yield* settingsOf(entry.value).pipe(Effect.either)
      if (settings._tag === "Left") return page(500, settings.left)
      const vault = yield* options.vault
      const stored = yield* vault.get(storeId, pendingKey)
      const pending = Option.flatMap(stored, (r) => Schema.decodeOption(Pending)(Redacted.value(r)))
      if (Option.isNone(pending)) {
        return page(400, `No connection of store "${storeId}" is waiting: run \`posbridge stores add\` again.`)
      }
      const result = yield* OAuth.completeAuthorization({
        storeId,
        expectedState: pending.value.state,
        callback: query,
        authBaseUrl: Settings.authBaseUrl(settings.right),
        clientId: settings.right.clientId,
        clientSecret: settings.right.clientSecret,
        codeVerifier: pending.value.verifier,
        redirectUri: pending.value.redirectUri
      }).pipe(
        Effect.provideService(TokenVault.TokenVault, vault),
        Effect.provideService(HttpClient.HttpClient, options.clientFor(storeId)),
        Effect.either
      )
      if (result._tag === "Left") return page(400, result.left.message)
      // A used authorization cannot be replayed.
      yield* vault.set(storeId, pendingKey, Redacted.make(""))
      yield* Effect.forkDaemon(options.connected(storeId))
      return page(200, `Lightspeed is connected to posbridge store "${storeId}". Its orders will sync now.`)
    })
  )
