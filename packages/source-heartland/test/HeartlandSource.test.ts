import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, type Order, OrderStore, PosSource, type ShipNotice } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { DateTime, Effect, Option, Stream } from "effect"
import { Simulator } from "../src/testing/index.js"
import {
  collect,
  invoicesStore,
  orderBy,
  ordersStore,
  shipment,
  smallAccount,
  sourceFor,
  storeId,
  withTime,
  writeBackClock
} from "./helpers.js"

const orderIds = (batches: ReadonlyArray<PosSource.PullBatch>) =>
  batches.flatMap((b) => b.documents.map((d) => d.order.posRef))

const lastCursor = (batches: ReadonlyArray<PosSource.PullBatch>) => Option.fromNullable(batches.at(-1)?.cursor)

const notice = (overrides: Partial<ShipNotice.ShipNotice> = {}): ShipNotice.ShipNotice => ({
  storeId,
  ...shipment,
  ...overrides
})

describe("HeartlandSource against the simulator", () => {
  it.effect("a backfill reads every order once, in updated_at order, one batch per page with progress", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make()
      yield* Simulator.seedDemo(sim.control, { seed: 7, orders: 120, start: "2024-03-02T00:00:00Z" })
      const source = yield* sourceFor(sim, ordersStore, { perPage: 25 })
      const batches = yield* collect(source)
      const ids = orderIds(batches)
      expect(ids).toHaveLength(120)
      expect(new Set(ids).size).toBe(120)
      expect(batches.length).toBeGreaterThanOrEqual(5)
      expect(batches.at(-1)?.progress).toMatchObject({ seen: 120, total: 120 })
      const times = batches.flatMap((b) => b.documents.map((d) => DateTime.toEpochMillis(d.order.posModifiedAt)))
      expect([...times].sort((a, b) => a - b)).toEqual(times)
    })
  )

  it.effect("items and address books are fetched at most once per pull, batched", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make()
      const seeded = yield* Simulator.seedDemo(sim.control, {
        seed: 3,
        orders: 150,
        customers: 12,
        items: 20,
        start: "2024-03-02T00:00:00Z"
      })
      const source = yield* sourceFor(sim, ordersStore, { perPage: 50 })
      yield* collect(source)
      const stats = yield* sim.control.stats
      expect(stats.byRoute["items.list"]).toBeLessThanOrEqual(seeded.items.length)
      expect(stats.byRoute["customers.addresses"]).toBeLessThanOrEqual(seeded.customers.length)
      // Without the cache every page would ask again for the items and customers it shares with earlier pages.
      expect(stats.byRoute["items.list"]).toBeLessThanOrEqual(3)
      expect(source.lastRun().addressRequests).toBe(stats.byRoute["customers.addresses"])
    })
  )

  it.effect("resuming from the cursor re-reads only the overlap and picks up a re-saved order", () =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount()
      for (let i = 0; i < 5; i++) yield* sim.control.addOrder(orderBy(s, "ana", `2024-03-02T10:0${i}:00Z`))
      const source = yield* sourceFor(sim, ordersStore, {}, { overlapMillis: 90_000 })
      const first = yield* collect(source)
      expect(orderIds(first)).toEqual(["1001", "1002", "1003", "1004", "1005"])
      // Nothing new: only the order inside the 90 s overlap before the cursor is read again (not the boundary one).
      const again = yield* collect(source, lastCursor(first))
      expect(orderIds(again)).toEqual(["1004"])
      yield* sim.control.updateOrder(1002, { shippingCharge: "4.00", at: "2024-03-02T11:00:00Z" })
      const third = yield* collect(source, lastCursor(again))
      expect(orderIds(third)).toEqual(["1004", "1002"])
      expect(third.flatMap((b) => b.documents).at(-1)?.order.shippingAmount).toBe("4")
    })
  )

  it.effect("more orders sharing one updated_at than fit on a page are all read", () =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount()
      const pair = { lines: [{ itemId: s.socks.id, qty: 2, unitPrice: "6.50" }] }
      for (let i = 0; i < 23; i++) yield* sim.control.addOrder(orderBy(s, "bo", "2024-03-02T12:00:00Z", pair))
      const source = yield* sourceFor(sim, ordersStore, { perPage: 5 })
      const ids = orderIds(yield* collect(source))
      expect(new Set(ids).size).toBe(23)
      expect(ids).toHaveLength(23)
    })
  )

  it.effect("orders re-saved while a backfill walks the pages are not skipped", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make()
      yield* Simulator.seedDemo(sim.control, { seed: 11, orders: 60, start: "2024-03-02T00:00:00Z" })
      const source = yield* sourceFor(sim, ordersStore, { perPage: 10 })
      let n = 0
      const batches = yield* source.pull(Option.none(), { since: DateTime.unsafeMake("2024-03-01T00:00:00Z") }).pipe(
        // After each page, re-save an order from the start of the walk: with offset paging, every re-save
        // shifts one unseen order into a page already read.
        Stream.tap(() =>
          sim.control.updateOrder(1001 + n++, { at: `2024-03-03T00:00:${String(n).padStart(2, "0")}Z` })
        ),
        Stream.runCollect
      )
      const ids = new Set([...batches].flatMap((b) => b.documents.map((d) => d.order.posRef)))
      expect(ids.size).toBe(60)
    })
  )

  it.effect("a rejected token fails the pull at once with an auth error naming the store", () =>
    Effect.gen(function* () {
      const { sim } = yield* smallAccount({ token: "new-token" })
      const source = yield* sourceFor(sim, ordersStore, { apiToken: "old-token" })
      const error = yield* Effect.flip(collect(source))
      expect(error).toBeInstanceOf(PosSource.PosSourceError)
      expect(error.kind).toBe("auth")
      expect(error.message).toBe(
        "Heartland rejected the API token for store heartland-test; update the token in the store's settings."
      )
      expect((yield* sim.control.stats).unauthorized).toBe(1)
    })
  )

  it.effect("a 429 is waited out for its Retry-After, then the pull succeeds", () =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount({ faults: Faults.scripted([Faults.rateLimited(30)]) })
      yield* sim.control.addOrder(
        orderBy(s, "ana", "2024-03-02T09:00:00Z", {
          lines: [{ itemId: s.boots.id, qty: 1, unitPrice: "120.00" }]
        })
      )
      const source = yield* sourceFor(sim)
      const started = yield* DateTime.now
      const batches = yield* withTime(collect(source))
      const waited = DateTime.distance(started, yield* DateTime.now)
      expect(orderIds(batches)).toEqual(["1001"])
      expect(waited).toBeGreaterThanOrEqual(30_000)
      expect(waited).toBeLessThan(60_000)
      expect((yield* sim.control.stats).rateLimited).toBe(1)
    })
  )

  it.effect(
    "with 20% failures and 429s, sync ends with the same orders as a clean run and the cursor never skips",
    () =>
      Effect.gen(function* () {
        const seedAndRun = (plan: Faults.FaultPlan) =>
          Effect.gen(function* () {
            const sim = yield* Simulator.make({ faults: plan })
            yield* Simulator.seedDemo(sim.control, { seed: 5, orders: 60, start: "2024-03-02T00:00:00Z" })
            // Small retry budget so some pulls fail outright and the sync has to resume from its committed cursor.
            const source = yield* sourceFor(
              sim,
              ordersStore,
              { perPage: 15 },
              { retry: { maxAttempts: 3, maxRateLimitedAttempts: 3 } }
            )
            const store = yield* OrderStore.OrderStore
            const ref = { id: storeId, kind: "orders" as const }
            let failures = 0
            for (let attempt = 0; attempt < 200; attempt++) {
              const cursor = yield* store.cursor(storeId)
              const result = yield* source.pull(cursor, { since: DateTime.unsafeMake("2024-03-01T00:00:00Z") }).pipe(
                Stream.runForEach((batch) => store.ingest(ref, batch.documents, Option.some(batch.cursor))),
                Effect.either
              )
              if (result._tag === "Right") break
              failures++
            }
            const all = yield* Effect.forEach(yield* sim.control.orders, (o) => store.find(storeId, String(o.id)))
            return {
              failures,
              orders: all.map((o) => Option.map(o, (s) => [s.order.posRef, s.order.orderTotal, s.order.lines.length]))
            }
          }).pipe(Effect.provide(MemoryOrderStore.layer()))

        const clean = yield* seedAndRun(Faults.none)
        const faulty = yield* withTime(
          seedAndRun(
            Faults.random(42, [
              { probability: 0.1, fault: Faults.serverError(503) },
              { probability: 0.05, fault: Faults.rateLimited(2) },
              { probability: 0.03, fault: Faults.malformed },
              { probability: 0.02, fault: Faults.timeout() }
            ])
          )
        )
        expect(clean.failures).toBe(0)
        expect(faulty.failures).toBeGreaterThan(0)
        expect(clean.orders.every(Option.isSome)).toBe(true)
        expect(faulty.orders).toEqual(clean.orders)
      }),
    60_000
  )

  it.effect("invoices: complete is paid, void is cancelled, and lines come from the invoice", () =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount()
      const order = yield* sim.control.addOrder(
        orderBy(s, "ana", "2024-03-02T09:00:00Z", {
          lines: [
            { itemId: s.boots.id, qty: 1, unitPrice: "120.00", tax: "9.60" },
            { itemId: s.socks.id, qty: 3, unitPrice: "12.00" }
          ],
          shippingCharge: "5.99"
        })
      )
      const kept = yield* sim.control.completeToInvoice(order.id, { at: "2024-03-02T10:00:00Z" })
      const other = yield* sim.control.addOrder(
        orderBy(s, "bo", "2024-03-02T09:30:00Z", {
          lines: [{ itemId: s.mug.id, qty: 1, unitPrice: "8.00" }]
        })
      )
      const voided = yield* sim.control.completeToInvoice(other.id, { at: "2024-03-02T10:05:00Z" })
      yield* sim.control.voidInvoice(voided.id, { at: "2024-03-02T11:00:00Z" })
      const source = yield* sourceFor(sim, invoicesStore)
      const orders = (yield* collect(source)).flatMap((b) => b.documents.map((d) => d.order))
      expect(orders.map((o) => [o.posRef, o.kind, o.status])).toEqual([
        [String(kept.id), "invoices", "paid"],
        [String(voided.id), "invoices", "cancelled"]
      ])
      expect(orders[0]?.orderTotal).toBe("171.59")
      expect(orders[0]?.lines.map((l) => [l.sku, l.quantity, l.unitPrice])).toEqual([
        ["BOOT-42", 1, "120"],
        ["SOCK-M", 3, "12"]
      ])
    })
  )
})

describe("write-back", () => {
  const setup = (writeBack: "custom-field" | "none" = "custom-field") =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount({ clock: writeBackClock() })
      yield* sim.control.addOrder(
        orderBy(s, "ana", "2024-03-02T09:00:00Z", {
          lines: [{ itemId: s.boots.id, qty: 1, unitPrice: "120.00" }],
          custom: { gift_wrap: "yes" }
        })
      )
      const source = yield* sourceFor(sim, ordersStore, { writeBack })
      return { sim, source }
    })

  it.effect("a ship notice is written to the order's tracking custom field, keeping the other custom fields", () =>
    Effect.gen(function* () {
      const { sim, source } = yield* setup()
      const result = yield* source.recordShipment(notice(), Option.none<Order.Order>())
      expect(result.summary).toContain("shipstation_tracking")
      const order = yield* sim.control.order(1001)
      expect(order?.custom).toEqual({
        gift_wrap: "yes",
        shipstation_tracking: "UPS Ground 1Z999AA10123456784 2024-03-05"
      })
    })
  )

  it.effect("the same notice delivered twice is written once; a second parcel is appended", () =>
    Effect.gen(function* () {
      const { sim, source } = yield* setup()
      yield* source.recordShipment(notice(), Option.none())
      const again = yield* source.recordShipment(notice(), Option.none())
      expect(again.summary).toContain("already has tracking")
      yield* source.recordShipment(
        notice({ trackingNumber: "1Z999AA10123456785", shipDate: "2024-03-06" }),
        Option.none()
      )
      const order = yield* sim.control.order(1001)
      expect(order?.custom.shipstation_tracking).toBe(
        "UPS Ground 1Z999AA10123456784 2024-03-05; UPS Ground 1Z999AA10123456785 2024-03-06"
      )
      expect((yield* sim.control.stats).byRoute["orders.put"]).toBe(2)
    })
  )

  it.effect("with write-back off, nothing is sent to Heartland and the notice is reported as kept", () =>
    Effect.gen(function* () {
      const { sim, source } = yield* setup("none")
      const result = yield* source.recordShipment(notice(), Option.none())
      expect(result.summary).toBe(
        "Write-back to Heartland is off for this store; the ship notice is kept in posbridge."
      )
      expect((yield* sim.control.stats).requests).toBe(0)
    })
  )

  it.effect("a write-back that re-saves the order exports it once more, as shipped, and then never again", () =>
    Effect.gen(function* () {
      const { sim, source } = yield* setup()
      const store = yield* OrderStore.OrderStore
      const ref = { id: storeId, kind: "orders" as const }
      const sync = Effect.gen(function* () {
        const cursor = yield* store.cursor(storeId)
        const summaries: Array<OrderStore.IngestSummary> = []
        yield* source
          .pull(cursor, { since: DateTime.unsafeMake("2024-03-01T00:00:00Z") })
          .pipe(
            Stream.runForEach((batch) =>
              Effect.map(store.ingest(ref, batch.documents, Option.some(batch.cursor)), (s) => summaries.push(s))
            )
          )
        return {
          inserted: summaries.reduce((n, s) => n + s.inserted, 0),
          resaved: summaries.reduce((n, s) => n + s.restamped["pos-resaved"] + s.restamped["content-changed"], 0)
        }
      })
      expect((yield* sync).inserted).toBe(1)
      yield* source.recordShipment(notice(), Option.none())
      const afterWrite = yield* sync
      expect(afterWrite.resaved).toBe(1)
      const stored = yield* store.find(storeId, "1001")
      expect(Option.map(stored, (s) => s.order.status)).toEqual(Option.some("shipped"))
      // The same notice again (ShipStation's retry) writes nothing, so nothing changes on the next sync.
      yield* source.recordShipment(notice(), Option.none())
      const quiet = yield* sync
      expect(quiet).toEqual({ inserted: 0, resaved: 0 })
      expect((yield* sim.control.stats).byRoute["orders.put"]).toBe(1)
    }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("an invoice's tracking goes to the Sales Order it was completed from", () =>
    Effect.gen(function* () {
      const { sim, s } = yield* smallAccount()
      const order = yield* sim.control.addOrder(
        orderBy(s, "ana", "2024-03-02T09:00:00Z", {
          lines: [{ itemId: s.boots.id, qty: 1, unitPrice: "120.00" }]
        })
      )
      const invoice = yield* sim.control.completeToInvoice(order.id)
      const source = yield* sourceFor(sim, invoicesStore)
      const result = yield* source.recordShipment(notice({ orderId: String(invoice.id) }), Option.none())
      expect(result.summary).toContain(`sales order ${order.id}`)
      expect((yield* sim.control.order(order.id))?.custom.shipstation_tracking).toContain("1Z999AA10123456784")
    })
  )
})
