import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { ContentHash, MemoryOrderStore, OrderStore, type PosSource, ShipNotice, StoreId } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { DateTime, Effect, Option } from "effect"
import * as Cursor from "../src/Cursor.js"
import { Simulator } from "../src/testing/index.js"
import { connected, latest, line, orderOf, person, pullAll, scaled } from "./helpers.js"

const fingerprint = (batches: ReadonlyArray<PosSource.PullBatch>) =>
  new Map([...latest(batches)].map(([ref, doc]) => [ref, `${ContentHash.ofOrder(doc.order)}|${doc.exclude ?? ""}`]))

const cursorsAreMonotonic = (batches: ReadonlyArray<PosSource.PullBatch>) => {
  const times = batches
    .map((b) => Cursor.decode(b.cursor))
    .map((c) => (c._tag === "Right" ? c.right.at.epochMillis : NaN))
  return times.every((t, i) => i === 0 || t >= (times[i - 1] ?? 0))
}

describe("Lightspeed resilience", () => {
  it.live(
    "a backfill of 10,000 sales with relations gets zero 429s once the bucket level is known",
    () =>
      scaled(400)(
        Effect.gen(function* () {
          const { sim, service } = yield* connected({})
          yield* Simulator.seedDemo(sim.control, { sales: 10_000, quoteShare: 0 })
          const batches = yield* pullAll(service)
          const stats = yield* sim.control.stats
          expect(stats.rateLimited).toBe(0)
          expect(latest(batches).size).toBe(10_000)
          expect(batches.at(-1)?.progress?.seen).toBe(10_000)
        })
      ),
    60_000
  )

  it.live("a small bucket is paced from its headers instead of answered with 429s", () =>
    scaled(100)(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({
          simulator: { bucketSize: 12, dripRate: 2 },
          settings: { pageLimit: 5 }
        })
        for (let i = 0; i < 60; i++)
          yield* sim.control.addSale({ customer: person("A", `${i}`), lines: [line("A", 1)] })
        yield* pullAll(service)
        const stats = yield* sim.control.stats
        expect(stats.rateLimited).toBe(0)
        expect(stats.apiRequests).toBeGreaterThanOrEqual(12)
      })
    )
  )

  it.live("a 429 is waited out for Retry-After and retried", () =>
    scaled(100)(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({
          simulator: { faults: Faults.scripted([Faults.rateLimited(3, { "x-ls-api-ratelimit-type": "bucket" })]) }
        })
        yield* sim.control.addSale({ customer: person("A", "B"), lines: [line("A", 1)] })
        const started = yield* DateTime.now
        const batches = yield* pullAll(service)
        const elapsed = (yield* DateTime.now).epochMillis - started.epochMillis
        expect(latest(batches).size).toBe(1)
        expect(elapsed).toBeGreaterThanOrEqual(3000)
      })
    )
  )

  it.live(
    "20% failing requests and a token revocation end with the same orders as a clean run",
    () =>
      scaled(200)(
        Effect.gen(function* () {
          const seedSales = (control: Simulator.Control) =>
            Simulator.seedDemo(control, { sales: 1500, seed: 3, until: Date.UTC(2024, 5, 1) })
          const clean = yield* connected({ settings: { pageLimit: 50 } })
          yield* seedSales(clean.sim.control)
          const expected = fingerprint(yield* pullAll(clean.service))

          let revoked = false
          const faulty = yield* connected({
            settings: { pageLimit: 50 },
            source: { requestTimeout: "20 seconds", maxAttempts: 10, baseBackoff: "100 millis" },
            simulator: {
              faults: Faults.random(99, [
                { probability: 0.08, fault: Faults.serverError(503) },
                { probability: 0.06, fault: Faults.timeout() },
                { probability: 0.06, fault: Faults.malformed }
              ])
            },
            // One revocation, in the middle of the walk.
            wrapHttp: (http, control) =>
              HttpClient.transform(http, (effect, request) =>
                request.url.includes("after=") && !revoked
                  ? Effect.zipRight(
                      Effect.zipRight(
                        control.revokeAccessTokens,
                        Effect.sync(() => (revoked = true))
                      ),
                      effect
                    )
                  : effect
              )
          })
          yield* seedSales(faulty.sim.control)
          const source = faulty.service
          const batches = yield* pullAll(source)
          const stats = yield* faulty.sim.control.stats
          expect(stats.faultsInjected).toBeGreaterThan(5)
          expect(stats.unauthorized).toBeGreaterThanOrEqual(1)
          expect(fingerprint(batches)).toEqual(expected)
          expect(cursorsAreMonotonic(batches)).toBe(true)
        })
      ),
    60_000
  )

  it.live("a ship notice becomes an internal note once, and the order is re-exported once as shipped", () =>
    scaled(100)(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({ settings: { markShipTo: true } })
        const { saleID } = yield* sim.control.addSale({
          customer: person("Ada", "L"),
          shipTo: person("Grace", "H"),
          lines: [line("A", 1)]
        })
        const first = yield* pullAll(service)
        const order = orderOf(latest(first).get(String(saleID)))
        const notice = ShipNotice.ShipNotice.make({
          storeId: StoreId.StoreId.make("shop-1"),
          orderId: order.posRef,
          orderNumber: order.orderNumber,
          carrier: "UPS",
          service: "Ground",
          trackingNumber: "1Z999AA10123456784",
          shipDate: "2024-06-01",
          items: []
        })
        yield* Effect.sleep("2 seconds")
        const written = yield* service.recordShipment(notice, Option.some(order))
        expect(written.summary).toContain("1Z999AA10123456784")
        const view = yield* sim.control.sale(saleID)
        expect(view?.internalNote).toBe("[posbridge] Shipped 2024-06-01 via UPS (Ground), tracking 1Z999AA10123456784")
        expect(view?.shipped).toBe(true)
        const again = yield* service.recordShipment(notice, Option.some(order))
        expect(again.summary).toContain("already")
        expect((yield* sim.control.stats).puts).toBe(1)
        const second = yield* pullAll(service, Option.fromNullable(first.at(-1)?.cursor))
        expect(orderOf(latest(second).get(String(saleID))).status).toBe("shipped")
        yield* Effect.sleep("5 minutes")
        const third = yield* pullAll(service, Option.fromNullable(second.at(-1)?.cursor))
        // Through the refresh rule: inserted, restamped once (the write-back re-save), then unchanged for good.
        const store = yield* OrderStore.OrderStore
        const ref = { id: "shop-1", kind: "invoices" } as const
        const summaries = []
        for (const pull of [first, second, third]) {
          summaries.push(
            yield* store.ingest(
              ref,
              pull.flatMap((b) => b.documents),
              Option.some(pull.at(-1)?.cursor ?? "")
            )
          )
        }
        expect(summaries.map((s) => [s.inserted, s.restamped["pos-resaved"], s.unchanged])).toEqual([
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1]
        ])
      }).pipe(Effect.provide(MemoryOrderStore.layer()))
    )
  )
})
