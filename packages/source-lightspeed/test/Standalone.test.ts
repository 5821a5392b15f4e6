import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { type PosSimulator, SimServer } from "@posbridge/pos-testkit"
import { Effect, Option, Schema } from "effect"
import * as LightspeedSource from "../src/LightspeedSource.js"
import * as Settings from "../src/Settings.js"
import { Standalone } from "../src/testing/index.js"
import { fast, latest, makeVault, pullAll, storeSettings } from "./helpers.js"

const standalone = (accounts: number) => Standalone.make({ baseUrl: "http://lightspeed.sim", accounts })

/** A store's source over the simulator's account, with the settings it hands out (pages of `pageLimit`). */
const storeOn = (pos: PosSimulator.PosSimulator, account: string, kind: "invoices" | "orders", pageLimit = 100) =>
  Effect.gen(function* () {
    const raw = yield* pos.storeSettings(account, kind)
    const settings = Schema.decodeUnknownSync(Settings.LightspeedSettings)({ ...raw, pageLimit })
    const http = yield* SimServer.makeClient(pos.app)
    const vault = yield* makeVault
    return yield* LightspeedSource.make(storeSettings(kind, `shop-${account}`), settings).pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.provide(vault.layer)
    )
  })

describe("the standalone Lightspeed simulator", () => {
  it.live(
    "a store set up from the simulator's settings authorizes at the API's origin and reads only its account",
    () =>
      Effect.gen(function* () {
        const pos = yield* standalone(2)
        const raw = yield* pos.storeSettings("1001", "invoices")
        // No authBaseUrl: the token endpoint follows apiBaseUrl to the simulator.
        expect(raw).toMatchObject({ accountId: "1001", apiBaseUrl: "http://lightspeed.sim" })
        expect(raw).not.toHaveProperty("authBaseUrl")
        const docs = latest(yield* pullAll(yield* storeOn(pos, "1001", "invoices")))
        const logged = new Set(pos.changes.entries({ account: "1001", kind: "invoices" }).map((c) => c.ref))
        expect(new Set(docs.keys())).toEqual(logged)
        // A token granted for account 1001 opens nothing of account 1000.
        const http = yield* SimServer.makeClient(pos.app)
        const token = yield* http.execute(
          HttpClientRequest.post("http://lightspeed.sim/auth/oauth/token").pipe(
            HttpClientRequest.bodyUrlParams({
              grant_type: "refresh_token",
              refresh_token: String((yield* pos.storeSettings("1001", "invoices")).refreshToken),
              client_id: "sim-client",
              client_secret: "sim-secret"
            })
          )
        )
        const { access_token } = (yield* token.json) as { access_token: string }
        const read = (account: string) =>
          Effect.map(
            http.execute(
              HttpClientRequest.get(`http://lightspeed.sim/API/V3/Account/${account}/Sale.json`).pipe(
                HttpClientRequest.bearerToken(access_token)
              )
            ),
            (r) => r.status
          )
        expect([yield* read("1001"), yield* read("1000")]).toEqual([200, 401])
      })
  )

  it.live("a re-save, a note edit, a quote edit and a new sale are logged with their versions and pulled again", () =>
    Effect.gen(function* () {
      const pos = yield* standalone(1)
      const invoices = yield* storeOn(pos, "1000", "invoices")
      const first = yield* pullAll(invoices)
      const cursor = Option.some(first.at(-1)!.cursor)
      const sale = pos.changes.entries({ kind: "invoices" })[0]!.ref
      const [resaved] = yield* pos.resave("1000", "invoices", sale)
      const [noted] = yield* pos.setField("1000", "invoices", sale, "internalNote", "Gift wrap")
      const [added] = yield* pos.addDocument("1000", "invoices")
      expect([resaved?.version, noted?.version, noted?.what, added?.unshippable]).toEqual([
        2,
        3,
        "edited notes",
        undefined
      ])
      const again = latest(yield* pullAll(invoices, cursor))
      expect(again.has(sale) && again.has(added!.ref)).toBe(true)
      const quote = pos.changes.entries({ kind: "orders" })[0]!.ref
      const [edited] = yield* pos.setField("1000", "orders", quote, "notes", "Rush")
      expect(edited).toMatchObject({ kind: "orders", ref: quote, what: "edited" })
      const orders = latest(yield* pullAll(yield* storeOn(pos, "1000", "orders")))
      expect(orders.get(quote)?.order.posModifiedAt.epochMillis).toBe(edited?.posModifiedAt)
    })
  )

  it.live("two stores walking one account's Sales at once are two pulls in flight; one after the other are not", () =>
    // The two stores share the account's leaky bucket: bucket time runs 100 times faster.
    fast(
      Effect.gen(function* () {
        const pos = yield* standalone(1)
        const a = yield* storeOn(pos, "1000", "invoices", 10)
        const b = yield* storeOn(pos, "1000", "invoices", 10)
        yield* pullAll(a)
        yield* pullAll(b)
        expect(pos.pulls.stats(yield* pos.now)).toMatchObject({ maxInFlight: 1, overlaps: 0 })
        expect(pos.pulls.stats(yield* pos.now).feeds[0]?.recent.map((p) => [p.outcome, p.pages])).toEqual([
          ["finished", 7],
          ["finished", 7]
        ])
        yield* Effect.all([pullAll(a), pullAll(b)], { concurrency: 2 })
        const stats = pos.pulls.stats(yield* pos.now)
        expect(stats.maxInFlight).toBe(2)
        expect(stats.overlaps).toBeGreaterThanOrEqual(1)
      })
    )
  )
})
