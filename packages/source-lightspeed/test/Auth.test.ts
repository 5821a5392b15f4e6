import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Effect, Exit, Option, Redacted } from "effect"
import * as LightspeedSource from "../src/LightspeedSource.js"
import * as OAuth from "../src/OAuth.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"
import { fast, line, makeVault, person, pullAll, settings, storeSettings } from "./helpers.js"

const redirectUri = "https://posbridge.example/lightspeed/callback"

/** The adapter as the server builds it (default options), with a refresh token the simulator just granted. */
const authorizedSource = (sim: Simulator.Simulator) =>
  Effect.gen(function* () {
    const http = yield* SimServer.makeClient(sim.app)
    const vault = yield* makeVault
    return yield* LightspeedSource.make(
      storeSettings("invoices"),
      settings({ refreshToken: Redacted.make(yield* sim.control.grant()) })
    ).pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.provideService(TokenVault.TokenVault, vault.service)
    )
  })

describe("Lightspeed OAuth", () => {
  it.live("authorize → callback → code exchange stores the refresh token, and the store can then sync", () =>
    fast(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ accountId: "12345" })
        yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        const http = yield* SimServer.makeClient(sim.app)
        const vault = yield* makeVault
        const state = yield* OAuth.makeState
        const pkce = yield* OAuth.makePkce
        const url = OAuth.authorizationUrl({
          clientId: "sim-client",
          redirectUri,
          state,
          codeChallenge: pkce.challenge
        })
        expect(url).toMatch(/^https:\/\/cloud\.lightspeedapp\.com\/auth\/oauth\/authorize\?/)
        const consent = yield* http.execute(HttpClientRequest.get(url))
        expect(consent.status).toBe(302)
        const callback = new URL(consent.headers.location ?? "")
        expect(callback.origin + callback.pathname).toBe(redirectUri)
        const complete = (expectedState: string, codeVerifier: string) =>
          OAuth.completeAuthorization({
            storeId: "shop-1",
            expectedState,
            callback: callback.searchParams,
            clientId: "sim-client",
            clientSecret: Redacted.make("sim-secret"),
            codeVerifier,
            redirectUri
          }).pipe(
            Effect.provideService(HttpClient.HttpClient, http),
            Effect.provideService(TokenVault.TokenVault, vault.service)
          )
        const wrongState = yield* Effect.exit(complete("another-state", pkce.verifier))
        expect(Exit.isFailure(wrongState) && String(wrongState.cause)).toContain("unknown state")
        yield* complete(state, pkce.verifier)
        expect(vault.events.map((e) => e.name)).toEqual([Settings.refreshTokenVaultKey])
        const source = yield* LightspeedSource.make(storeSettings("invoices"), settings()).pipe(
          Effect.provideService(HttpClient.HttpClient, http),
          Effect.provideService(TokenVault.TokenVault, vault.service)
        )
        const batches = yield* pullAll(source)
        expect(batches.flatMap((b) => b.documents)).toHaveLength(1)
      })
    )
  )

  it.live("a code exchanged with the wrong PKCE verifier is refused", () =>
    fast(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ accountId: "12345" })
        const http = yield* SimServer.makeClient(sim.app)
        const pkce = yield* OAuth.makePkce
        const consent = yield* http.execute(
          HttpClientRequest.get(
            OAuth.authorizationUrl({ clientId: "sim-client", redirectUri, state: "s", codeChallenge: pkce.challenge })
          )
        )
        const code = new URL(consent.headers.location ?? "").searchParams.get("code") ?? ""
        const exit = yield* Effect.exit(
          OAuth.exchangeCode({
            clientId: "sim-client",
            clientSecret: Redacted.make("sim-secret"),
            code,
            codeVerifier: "not-the-verifier",
            redirectUri
          }).pipe(Effect.provideService(HttpClient.HttpClient, http))
        )
        expect(Exit.isFailure(exit) && String(exit.cause)).toContain("code_verifier does not match")
      })
    )
  )

  it.live("on a 401 mid-walk the token is refreshed once and the rotated refresh token is stored before use", () =>
    fast(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ accountId: "12345" })
        for (let i = 0; i < 5; i++)
          yield* sim.control.addSale({ customer: person("Ada", `${i}`), lines: [line("A", 1)] })
        const inner = yield* SimServer.makeClient(sim.app)
        const log: Array<string> = []
        let apiCalls = 0
        const http = HttpClient.transform(inner, (effect, request) =>
          Effect.gen(function* () {
            if (request.url.includes("/API/")) {
              log.push(`api ${request.headers.authorization}`)
              if (++apiCalls === 2) yield* sim.control.revokeAccessTokens
            }
            const response = yield* effect
            if (request.url.endsWith("/token")) {
              const body = (yield* response.json) as { access_token: string; refresh_token: string }
              log.push(`issued ${body.access_token} ${body.refresh_token}`)
            }
            return response
          })
        )
        const vault = yield* makeVault
        const logged: TokenVault.TokenVaultService = {
          ...vault.service,
          compareAndSet: (storeId, name, expected, value) =>
            Effect.tap(vault.service.compareAndSet(storeId, name, expected, value), (written) =>
              Effect.sync(() => written && log.push(`stored ${Redacted.value(value)}`))
            )
        }
        const initial = yield* sim.control.grant()
        const source = yield* LightspeedSource.make(
          storeSettings("invoices"),
          settings({ pageLimit: 2, refreshToken: Redacted.make(initial) })
        ).pipe(Effect.provideService(HttpClient.HttpClient, http), Effect.provideService(TokenVault.TokenVault, logged))
        const batches = yield* pullAll(source)
        expect(batches.flatMap((b) => b.documents)).toHaveLength(5)
        const issued = log.filter((l) => l.startsWith("issued")).map((l) => l.split(" "))
        expect(issued).toHaveLength(2)
        for (const [, access, refresh] of issued) {
          const storedAt = log.indexOf(`stored ${refresh}`)
          const firstUse = log.indexOf(`api Bearer ${access}`)
          expect(storedAt).toBeGreaterThan(-1)
          expect(storedAt).toBeLessThan(firstUse)
        }
        expect((yield* sim.control.stats).unauthorized).toBe(1)
        expect(Option.map(yield* vault.service.get("shop-1", Settings.refreshTokenVaultKey), Redacted.value)).toEqual(
          Option.some(issued[1]?.[2])
        )
      })
    )
  )

  it.live("an access token is refreshed before it expires, without a 401", () =>
    fast(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ accountId: "12345", accessTokenTtlSeconds: 120 })
        yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        const source = yield* authorizedSource(sim)
        yield* pullAll(source)
        yield* Effect.sleep("90 seconds")
        yield* pullAll(source)
        const stats = yield* sim.control.stats
        expect(stats.unauthorized).toBe(0)
        expect(stats.tokenRefreshes).toBe(2)
      })
    )
  )

  it.live("a revoked grant fails the pull as an auth error the operator can act on", () =>
    fast(
      Effect.gen(function* () {
        const sim = yield* Simulator.make({ accountId: "12345" })
        const source = yield* authorizedSource(sim)
        yield* sim.control.revokeGrant
        const exit = yield* Effect.exit(pullAll(source))
        expect(Exit.isFailure(exit) && String(exit.cause)).toContain("must be authorized again")
      })
    )
  )
})
