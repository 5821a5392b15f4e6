import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { type PosSimulator, SimServer } from "@posbridge/pos-testkit"
import { Effect, Option, Schema } from "effect"
import * as HeartlandSource from "../src/HeartlandSource.js"
import * as Settings from "../src/Settings.js"
import { Standalone } from "../src/testing/index.js"
import { collect, ordersStore } from "./helpers.js"

const standalone = (accounts: number) => Standalone.make({ baseUrl: "http://heartland.sim", accounts })

/** A store's source over the standalone simulator's account, with pages of `perPage`. */
const storeOn = (pos: PosSimulator.PosSimulator, account: string, perPage = 100) =>
  Effect.gen(function* () {
    const raw = yield* pos.storeSettings(account, "orders")
    const settings = Schema.decodeUnknownSync(Settings.HeartlandSettings)({ ...raw, perPage })
    const client = yield* SimServer.makeClient(pos.app)
    return yield* Effect.provideService(HeartlandSource.make(ordersStore, settings), HttpClient.HttpClient, client)
  })

describe("the standalone Heartland simulator", () => {
  it.live("serves each account under its own base URL: a store pulls its own account's orders, as logged", () =>
    Effect.gen(function* () {
      const pos = yield* standalone(3)
      expect(pos.accounts).toEqual(["1000", "1001", "1002"])
      const pulled = new Map<string, ReadonlyArray<string>>()
      for (const account of ["1000", "1002"]) {
        const batches = yield* collect(yield* storeOn(pos, account))
        const docs = batches.flatMap((b) => b.documents)
        pulled.set(
          account,
          docs.map((d) => `${d.order.posRef} ${d.order.billTo.name}`)
        )
        const logged = new Set(pos.changes.entries({ account, kind: "orders" }).map((c) => c.ref))
        expect(new Set(docs.map((d) => d.order.posRef))).toEqual(logged)
      }
      // Same ids (each account numbers its own orders), different merchants' customers.
      expect(pulled.get("1000")).not.toEqual(pulled.get("1002"))
      expect(yield* pos.storeSettings("1002", "orders")).toEqual({
        baseUrl: "http://heartland.sim/1002",
        apiToken: Standalone.token
      })
    })
  )

  it.live("a re-save, an edit and a new order through the control actions are logged and pulled again", () =>
    Effect.gen(function* () {
      const pos = yield* standalone(1)
      const source = yield* storeOn(pos, "1000")
      const first = yield* collect(source)
      const cursor = Option.some(first.at(-1)!.cursor)
      const [resaved] = yield* pos.resave("1000", "orders", "1001")
      const [edited] = yield* pos.setField("1000", "orders", "1002", "shippingCharge", "12.50")
      const [added] = yield* pos.addDocument("1000", "orders")
      expect([resaved?.what, resaved?.version, edited?.what, edited?.version, added?.what]).toEqual([
        "re-saved",
        2,
        "edited shippingCharge",
        2,
        "created"
      ])
      const again = (yield* collect(source, cursor)).flatMap((b) => b.documents)
      for (const c of [resaved!, edited!, added!]) {
        const doc = again.find((d) => d.order.posRef === c.ref)
        expect(doc?.order.posModifiedAt.epochMillis).toBe(c.posModifiedAt)
      }
      expect(again.find((d) => d.order.posRef === "1002")?.order.shippingAmount).toBe("12.5")
      const refused = yield* Effect.flip(pos.resave("1000", "invoices", "5001"))
      expect(refused.reason).toBe("unknown-document")
    })
  )

  it.live("two stores walking one account's orders at once are two pulls in flight; one after the other are not", () =>
    Effect.gen(function* () {
      const pos = yield* standalone(2)
      const a = yield* storeOn(pos, "1000", 5)
      const b = yield* storeOn(pos, "1000", 5)
      yield* collect(a)
      yield* collect(b)
      const now = yield* pos.now
      expect(pos.pulls.stats(now, "1000")).toMatchObject({ maxInFlight: 1, overlaps: 0 })
      expect(pos.pulls.stats(now, "1000").feeds[0]?.recent.map((p) => [p.outcome, p.pages])).toEqual([
        ["finished", 10],
        ["finished", 10]
      ])
      yield* Effect.all([collect(a), collect(b)], { concurrency: 2 })
      const stats = pos.pulls.stats(yield* pos.now, "1000")
      expect(stats.maxInFlight).toBe(2)
      expect(stats.overlaps).toBeGreaterThanOrEqual(1)
      // The other account saw no pull at all.
      expect(pos.pulls.stats(yield* pos.now, "1001").feeds).toEqual([])
    })
  )

  it.live("stores of two accounts walking at the same time are one pull each, not an overlap", () =>
    Effect.gen(function* () {
      const pos = yield* standalone(2)
      const a = yield* storeOn(pos, "1000", 5)
      const b = yield* storeOn(pos, "1001", 5)
      // Their pages interleave: one account's requests must not end the other's walk.
      yield* Effect.all([collect(a), collect(b)], { concurrency: 2 })
      const now = yield* pos.now
      for (const account of ["1000", "1001"]) {
        const stats = pos.pulls.stats(now, account)
        expect(stats).toMatchObject({ maxInFlight: 1, overlaps: 0 })
        expect(stats.feeds[0]?.recent.map((p) => [p.outcome, p.pages])).toEqual([["finished", 10]])
      }
    })
  )
})
