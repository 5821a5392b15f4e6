import { FetchHttpClient, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import { ShipStationApi } from "../src/index.js"
import { ApiSimulator } from "../src/testing/index.js"
import { client, credentials, keyA, keyB, serve, simulatorLayer } from "./support/ApiHarness.js"

const stores: ReadonlyArray<ApiSimulator.SimStore> = [
  {
    storeId: 101,
    storeName: "Bridge alpha",
    // as a merchant might paste it: host in capitals, default port, trailing slash, credentials in the query
    integrationUrl:
      "HTTPS://Bridge.EXAMPLE.invalid:443/shipstation/alpha/?SS-UserName=alpha-user&SS-Password=alpha-pass",
    username: "alpha-user",
    password: "alpha-pass"
  },
  { storeId: 102, storeName: "Amazon US", marketplaceName: "Amazon", integrationUrl: null },
  { storeId: 103, storeName: "Bridge beta", integrationUrl: "https://bridge.example.invalid/shipstation/beta" },
  {
    storeId: 104,
    storeName: "Bridge gamma (old)",
    integrationUrl: "https://bridge.example.invalid/shipstation/gamma",
    active: false
  },
  { storeId: 105, storeName: "Bridge delta", integrationUrl: "https://bridge.example.invalid/shipstation/delta" },
  { storeId: 106, storeName: "Bridge delta copy", integrationUrl: "https://bridge.example.invalid/shipstation/delta/" }
]

const accounts: ReadonlyArray<ApiSimulator.Account> = [
  { ...keyA, stores },
  {
    ...keyB,
    stores: [{ storeId: 201, storeName: "Other", integrationUrl: "https://other.example.invalid/shipstation/alpha" }]
  }
]

const withSimulator = (options: Partial<ApiSimulator.Options> = {}) =>
  Effect.provide(simulatorLayer({ accounts, ...options }))

const a = credentials(keyA)

/** No message of any error ever shows the key or the secret. */
const expectNoSecret = (error: { readonly message: string }) => {
  for (const secret of [keyA.apiKey, keyA.apiSecret, keyB.apiKey, keyB.apiSecret]) {
    expect(error.message).not.toContain(secret)
  }
  expect(String(error)).not.toContain(keyA.apiSecret)
}

const failure = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.exit(effect), (exit) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail"
      ? Effect.succeed(exit.cause.error)
      : Effect.dieMessage(`expected a failure, got ${String(exit)}`)
  )

describe("ShipStationApi against the simulator over HTTP", () => {
  it.effect("lists the key's stores with their integration URLs and the rate-limit headers", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const answer = yield* api.listStores(a)
      expect(answer.value.map((s) => s.storeId)).toEqual([101, 102, 103, 105, 106])
      const amazon = answer.value.find((s) => s.storeId === 102)!
      expect(amazon.integrationUrl).toEqual(Option.none())
      expect(amazon.marketplaceName).toBe("Amazon")
      expect(answer.value[0]!.integrationUrl).toEqual(Option.some(stores[0]!.integrationUrl))
      expect(answer.rateLimit).toEqual(
        Option.some(new ShipStationApi.RateLimit({ limit: 40, remaining: 39, resetSeconds: 60 }))
      )
      const all = yield* api.listStores(a, { showInactive: true })
      expect(all.value.find((s) => s.storeId === 104)?.active).toBe(false)
      expect(Option.map(all.rateLimit, (r) => r.remaining)).toEqual(Option.some(38))
      // key B sees only its own account
      const b = yield* api.listStores(credentials(keyB))
      expect(b.value.map((s) => s.storeId)).toEqual([201])
      expect(Option.map(b.rateLimit, (r) => r.remaining)).toEqual(Option.some(39))
    }).pipe(withSimulator())
  )

  it.effect("asks ShipStation to refresh exactly the named store and reads its refresh status", () =>
    Effect.gen(function* () {
      const sim = yield* ApiSimulator.ApiSimulator
      const api = yield* client()
      const started = yield* api.refreshStore(a, 103)
      expect(started.value).toEqual({ success: true, message: "Store refresh initiated" })
      expect(Option.isSome(started.rateLimit)).toBe(true)
      const status = yield* api.refreshStatus(a, 103)
      expect(status.value.storeId).toBe(103)
      expect(Option.isSome(status.value.refreshStatus)).toBe(true)
      expect(Option.isSome(status.value.lastRefreshAttempt)).toBe(true)
      const calls = yield* sim.calls
      expect(calls.map((c) => [c.endpoint, c.storeId, c.status, c.allStores])).toEqual([
        ["refreshStore", 103, 200, false],
        ["refreshStatus", 103, 200, false]
      ])
      expect(yield* sim.allStoreRefreshes).toBe(0)
    }).pipe(withSimulator())
  )

  it.effect("a refresh without a store id is refused before any request is sent", () =>
    Effect.gen(function* () {
      const sim = yield* ApiSimulator.ApiSimulator
      const api = yield* client()
      // @ts-expect-error a refresh must name its store
      const untyped: typeof api.refreshStore = (c) => api.refreshStore(c)
      for (const bad of [undefined, null, 0, -3, 1.5, Number.NaN, "101"] as ReadonlyArray<unknown>) {
        const error = yield* failure(api.refreshStore(a, bad as number))
        expect(error._tag).toBe("StoreIdRequired")
        expect(error.message).toContain("without one ShipStation refreshes every store of the account")
      }
      expect((yield* failure(untyped(a, 0)))._tag).toBe("StoreIdRequired")
      expect((yield* failure(api.refreshStatus(a, undefined as unknown as number)))._tag).toBe("StoreIdRequired")
      expect(yield* sim.calls).toEqual([])
      expect(yield* sim.allStoreRefreshes).toBe(0)
    }).pipe(withSimulator())
  )

  it.effect("a wrong secret is refused with a sentence that shows neither key nor secret", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const error = yield* failure(
        api.listStores({ apiKey: Redacted.make(keyA.apiKey), apiSecret: Redacted.make("wrong-secret") })
      )
      expect(error._tag).toBe("ApiRefused")
      expect(error.message).toBe(
        "ShipStation refused the API key (HTTP 401) when listing the account's stores: check the API key and secret in the store's settings."
      )
      expect(error.message).not.toContain("wrong-secret")
      expectNoSecret(error)
    }).pipe(withSimulator())
  )

  it.effect("a used-up rate limit is a 429 with the reset read from the headers", () =>
    Effect.gen(function* () {
      const sim = yield* ApiSimulator.ApiSimulator
      const api = yield* client()
      const remaining: Array<number> = []
      for (let i = 0; i < 3; i++) {
        const answer = yield* api.refreshStatus(a, 101)
        remaining.push(Option.getOrThrow(answer.rateLimit).remaining)
      }
      expect(remaining).toEqual([2, 1, 0])
      const error = yield* failure(api.refreshStore(a, 101))
      expect(error._tag).toBe("ApiRateLimited")
      if (error._tag !== "ApiRateLimited") return
      expect(error.resetSeconds).toEqual(Option.some(60))
      expect(error.message).toBe(
        "ShipStation's rate limit for this API key is used up (HTTP 429) when asking it to refresh a store; it resets in 60 seconds."
      )
      expectNoSecret(error)
      expect(yield* sim.tooManyRequests).toBe(1)
      // another key has its own budget
      expect((yield* api.listStores(credentials(keyB))).value).toHaveLength(1)
    }).pipe(withSimulator({ limit: 3 }))
  )

  it.effect("every call answered 401, 429 or 503 becomes ApiRefused, ApiRateLimited or ApiUnavailable", () =>
    Effect.gen(function* () {
      const sim = yield* ApiSimulator.ApiSimulator
      const api = yield* client()
      const tags: Array<string> = []
      for (const mode of [401, 429, 503] as const) {
        yield* sim.setMode(mode)
        for (const call of [api.listStores(a), api.refreshStore(a, 101), api.refreshStatus(a, 101)]) {
          const error = yield* failure(
            call as Effect.Effect<unknown, ShipStationApi.ApiError | ShipStationApi.StoreIdRequired>
          )
          tags.push(`${mode}:${error._tag}`)
          expectNoSecret(error)
        }
      }
      expect(tags).toEqual([
        "401:ApiRefused",
        "401:ApiRefused",
        "401:ApiRefused",
        "429:ApiRateLimited",
        "429:ApiRateLimited",
        "429:ApiRateLimited",
        "503:ApiUnavailable",
        "503:ApiUnavailable",
        "503:ApiUnavailable"
      ])
      const unavailable = yield* failure(api.refreshStore(a, 101))
      expect(unavailable.message).toBe("ShipStation's API answered HTTP 503 when asking it to refresh a store.")
      expect(yield* sim.tooManyRequests).toBe(3)
      // no store was refreshed while ShipStation refused
      expect(yield* sim.polls).toEqual([])
      yield* sim.setMode("normal")
      expect((yield* api.refreshStore(a, 101)).value.success).toBe(true)
    }).pipe(withSimulator())
  )

  it.effect("an unknown store id is ShipStation's rejection with its message", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const error = yield* failure(api.refreshStore(a, 201))
      expect(error._tag).toBe("ApiRejected")
      expect(error.message).toBe(
        "ShipStation rejected asking it to refresh a store (HTTP 400): Store 201 was not found."
      )
    }).pipe(withSimulator())
  )

  describe("discovery by integration URL", () => {
    it.effect("finds the store whose URL matches ours after normalising scheme, host, port, slash and query", () =>
      Effect.gen(function* () {
        const api = yield* client()
        const found = yield* api.discoverStoreId(a, "https://bridge.example.invalid/shipstation/alpha")
        expect(found.value).toBe(101)
        expect(Option.isSome(found.rateLimit)).toBe(true)
        expect((yield* api.discoverStoreId(a, "https://BRIDGE.example.invalid/shipstation/beta/")).value).toBe(103)
        // key B's store with the same path on another host is not ours
        expect(
          (yield* api.discoverStoreId(credentials(keyB), "https://other.example.invalid/shipstation/alpha")).value
        ).toBe(201)
      }).pipe(withSimulator())
    )

    it.effect("says which Custom Store URLs it saw, without their credentials, when none matches", () =>
      Effect.gen(function* () {
        const api = yield* client()
        const error = yield* failure(api.discoverStoreId(a, "https://bridge.example.invalid/shipstation/Alpha"))
        expect(error._tag).toBe("StoreNotDiscovered")
        expect(error.message).toBe(
          "No ShipStation store of this API key has the integration URL https://bridge.example.invalid/shipstation/Alpha; Custom Store URLs seen: https://bridge.example.invalid/shipstation/alpha (store 101), https://bridge.example.invalid/shipstation/beta (store 103), https://bridge.example.invalid/shipstation/gamma (store 104), https://bridge.example.invalid/shipstation/delta (store 105), https://bridge.example.invalid/shipstation/delta (store 106). Set the ShipStation store id in the settings."
        )
        expect(error.message).not.toContain("alpha-pass")
        expectNoSecret(error)
      }).pipe(withSimulator())
    )

    it.effect("refuses to guess when several active stores match, and names an inactive match", () =>
      Effect.gen(function* () {
        const api = yield* client()
        const several = yield* failure(api.discoverStoreId(a, "https://bridge.example.invalid/shipstation/delta"))
        expect(several.message).toBe(
          "2 active ShipStation stores have the integration URL https://bridge.example.invalid/shipstation/delta (ids 105, 106): set the store id in the settings."
        )
        const inactive = yield* failure(api.discoverStoreId(a, "https://bridge.example.invalid/shipstation/gamma"))
        expect(inactive.message).toBe(
          "The ShipStation store with the integration URL https://bridge.example.invalid/shipstation/gamma (id 104) is inactive: activate it in ShipStation or set the store id in the settings."
        )
        const invalid = yield* failure(api.discoverStoreId(a, "   "))
        expect(invalid._tag).toBe("StoreNotDiscovered")
      }).pipe(withSimulator())
    )
  })
})

describe("ShipStationApi against a broken ShipStation", () => {
  it.scoped("a 200 whose body is not the documented JSON is a bad answer", () =>
    Effect.gen(function* () {
      const baseUrl = yield* serve(
        Effect.succeed(HttpServerResponse.unsafeJson([{ storeId: "not a number", storeName: 5 }]))
      )
      const api = yield* ShipStationApi.make({ baseUrl }).pipe(Effect.provide(FetchHttpClient.layer))
      const error = yield* failure(api.listStores(a))
      expect(error._tag).toBe("ApiBadAnswer")
      expect(error.message).toMatch(
        /^ShipStation's answer \(HTTP 200\) to listing the account's stores was not what was expected: /
      )
      const html = yield* serve(Effect.succeed(HttpServerResponse.text("<html>maintenance</html>")))
      const api2 = yield* ShipStationApi.make({ baseUrl: html }).pipe(Effect.provide(FetchHttpClient.layer))
      expect((yield* failure(api2.refreshStatus(a, 1))).message).toContain("the body is not JSON")
    })
  )

  it.scoped("a refresh status about another store is a bad answer, and a refused refresh is a rejection", () =>
    Effect.gen(function* () {
      const baseUrl = yield* serve(
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          return request.url.includes("getrefreshstatus")
            ? HttpServerResponse.unsafeJson({ storeId: 999, refreshStatus: "Idle" })
            : HttpServerResponse.unsafeJson({ success: false, message: `key ${keyA.apiKey} may not refresh` })
        })
      )
      const api = yield* ShipStationApi.make({ baseUrl }).pipe(Effect.provide(FetchHttpClient.layer))
      expect((yield* failure(api.refreshStatus(a, 5))).message).toContain("it is about store 999, not 5")
      const refused = yield* failure(api.refreshStore(a, 5))
      expect(refused._tag).toBe("ApiRejected")
      expect(refused.message).toBe(
        "ShipStation rejected asking it to refresh a store (HTTP 200): key [redacted] may not refresh"
      )
      expectNoSecret(refused)
    })
  )

  it.effect("no answer at all is ShipStation being unavailable", () =>
    Effect.gen(function* () {
      const api = yield* ShipStationApi.make({ baseUrl: "http://127.0.0.1:1" }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      const error = yield* failure(api.listStores(a))
      expect(error._tag).toBe("ApiUnavailable")
      expect(error.message).toMatch(
        /^ShipStation's API could not be reached \(.*\) when listing the account's stores\.$/
      )
      expectNoSecret(error)
    })
  )

  it.live("an answer slower than the timeout is ShipStation being unavailable", () =>
    Effect.gen(function* () {
      const baseUrl = yield* serve(Effect.as(Effect.sleep("2 seconds"), HttpServerResponse.empty()))
      const api = yield* ShipStationApi.make({ baseUrl, timeout: "100 millis" }).pipe(
        Effect.provide(FetchHttpClient.layer)
      )
      const error = yield* failure(api.refreshStore(a, 7))
      expect(error.message).toBe("ShipStation's API did not answer within 100ms when asking it to refresh a store.")
    }).pipe(Effect.scoped)
  )
})
