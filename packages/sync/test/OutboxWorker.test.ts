import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, OrderStore, PosSource, ShipNotice, StoreId } from "@posbridge/core"
import { Duration, Effect, Option, TestClock } from "effect"
import * as OutboxWorker from "../src/OutboxWorker.js"

const storeId = StoreId.StoreId.make("shop")
const notice = (tracking: string): ShipNotice.ShipNotice => ({
  storeId,
  orderNumber: "1001",
  carrier: "UPS",
  trackingNumber: tracking,
  items: []
})

/** A POS whose write-backs fail `failures` times, then succeed; it counts every call. */
const flakyPos = (failures: number) => {
  const calls: Array<string> = []
  const source: PosSource.PosSourceService = {
    adapterId: "test",
    pull: () => {
      throw new Error("not used")
    },
    recordShipment: (n) =>
      Effect.suspend(() => {
        calls.push(n.trackingNumber)
        return calls.length <= failures
          ? Effect.fail(
              new PosSource.PosSourceError({ kind: "transient", message: `POS unavailable (${calls.length})` })
            )
          : Effect.succeed({ summary: `note written for ${n.trackingNumber}` })
      })
  }
  return { calls, source }
}

const options = (source: PosSource.PosSourceService, maxAttempts = 4): OutboxWorker.Options => ({
  sourceFor: () => Effect.succeed(Option.some(source)),
  maxAttempts,
  initialBackoff: Duration.seconds(30),
  maxBackoff: Duration.minutes(5)
})

describe("the outbox worker", () => {
  it.effect("writes a stored notice back once, even when ShipStation sent it twice", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const { calls, source } = flakyPos(0)
      const key = ShipNotice.idempotencyKey(notice("1Z1"), "1001")
      yield* store.recordShipNotice(notice("1Z1"), { key, posRef: Option.none() })
      yield* store.recordShipNotice(notice("1Z1"), { key, posRef: Option.none() })
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(1)
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(0)
      expect(calls).toEqual(["1Z1"])
      const [item] = yield* store.outbox("shop")
      expect(item?.state).toBe("done")
      expect(Option.getOrUndefined(item!.result)).toBe("note written for 1Z1")
    }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("retries a failed write-back with growing delays and succeeds", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const { calls, source } = flakyPos(2)
      yield* store.recordShipNotice(notice("1Z2"), { key: "k2", posRef: Option.none() })
      yield* OutboxWorker.deliverDue(options(source))
      // Not due again before its 30 s backoff.
      yield* TestClock.adjust(Duration.seconds(29))
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(0)
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(1)
      // The second failure waits twice as long.
      yield* TestClock.adjust(Duration.seconds(59))
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(0)
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* OutboxWorker.deliverDue(options(source))).toBe(1)
      expect(calls.length).toBe(3)
      const [item] = yield* store.outbox("shop")
      expect(item?.state).toBe("done")
      expect(item?.attempts).toBe(3)
    }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("gives up after the configured attempts and shows the last error", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const { source } = flakyPos(100)
      yield* store.recordShipNotice(notice("1Z3"), { key: "k3", posRef: Option.none() })
      for (let i = 0; i < 6; i++) {
        yield* OutboxWorker.deliverDue(options(source, 3))
        yield* TestClock.adjust(Duration.minutes(10))
      }
      const [item] = yield* store.outbox("shop")
      expect(item?.state).toBe("dead")
      expect(item?.attempts).toBe(3)
      expect(Option.getOrUndefined(item!.lastError)).toBe("POS unavailable (3)")
    }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("keeps a notice of a store that is not configured, retrying later", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      yield* store.recordShipNotice(notice("1Z4"), { key: "k4", posRef: Option.none() })
      yield* OutboxWorker.deliverDue({ ...options(flakyPos(0).source), sourceFor: () => Effect.succeed(Option.none()) })
      const [item] = yield* store.outbox("shop")
      expect(item?.state).toBe("pending")
      expect(Option.getOrUndefined(item!.lastError)).toBe('store "shop" is not configured on this server')
    }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("a held store's write-backs are delivered; a store held elsewhere is left to its owner", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const { calls, source } = flakyPos(0)
      const other = StoreId.StoreId.make("other")
      yield* store.recordShipNotice(notice("1Z5"), { key: "k5", posRef: Option.none() })
      yield* store.recordShipNotice({ ...notice("1Z6"), storeId: other }, { key: "k6", posRef: Option.none() })
      yield* store.recordShipNotice(notice("1Z7"), { key: "k7", posRef: Option.none() })
      yield* (yield* OutboxWorker.deliveries(options(source))).hold("shop")
      yield* TestClock.adjust(Duration.seconds(1))
      expect(calls).toEqual(["1Z5", "1Z7"])
      expect((yield* store.outbox("other")).map((o) => o.state)).toEqual(["pending"])
      // A notice stored later is picked up at the runner's next look, a second later.
      yield* store.recordShipNotice(notice("1Z8"), { key: "k8", posRef: Option.none() })
      yield* TestClock.adjust(Duration.seconds(1))
      expect(calls).toEqual(["1Z5", "1Z7", "1Z8"])
      expect((yield* store.outbox("shop")).map((o) => o.state)).toEqual(["done", "done", "done"])
    }).pipe(Effect.scoped, Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect("a POS adapter that crashes fails that attempt only: the delivery goes on with the next write-back", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const { calls, source } = flakyPos(0)
      const crashing: PosSource.PosSourceService = {
        ...source,
        recordShipment: (n, order) =>
          n.trackingNumber === "1Z9" ? Effect.die(new Error("adapter bug")) : source.recordShipment(n, order)
      }
      yield* store.recordShipNotice(notice("1Z9"), { key: "k9", posRef: Option.none() })
      yield* store.recordShipNotice(notice("1Z10"), { key: "k10", posRef: Option.none() })
      yield* (yield* OutboxWorker.deliveries(options(crashing))).hold("shop")
      yield* TestClock.adjust(Duration.seconds(1))
      expect(calls).toEqual(["1Z10"])
      const [crashed, next] = yield* store.outbox("shop")
      expect([crashed?.state, Option.getOrUndefined(crashed!.lastError)]).toEqual([
        "pending",
        "the POS adapter failed unexpectedly (see the server log)"
      ])
      expect(next?.state).toBe("done")
    }).pipe(Effect.scoped, Effect.provide(MemoryOrderStore.layer()))
  )

  it.effect(
    "200 held stores cost one look a second for all of them, not a claim each; a notice is delivered at the next look",
    () =>
      Effect.gen(function* () {
        const memory = yield* OrderStore.OrderStore
        let claims = 0
        let looks = 0
        const counted: OrderStore.OrderStoreService = {
          ...memory,
          claimWriteBacks: (claim) =>
            Effect.zipRight(
              Effect.sync(() => claims++),
              memory.claimWriteBacks(claim)
            ),
          storesWithDueWriteBacks: Effect.zipRight(
            Effect.sync(() => looks++),
            memory.storesWithDueWriteBacks
          )
        }
        const { calls, source } = flakyPos(0)
        yield* Effect.gen(function* () {
          const deliveries = yield* OutboxWorker.deliveries(options(source), Duration.seconds(1))
          for (let i = 0; i < 200; i++) yield* deliveries.hold(`store-${i}`)
          yield* TestClock.adjust(Duration.seconds(10))
          // Each store looked for its items once when held; then the runner looked once a second for all of them.
          expect(claims).toBe(200)
          expect(looks).toBeGreaterThanOrEqual(10)
          expect(looks).toBeLessThanOrEqual(11)
          yield* memory.recordShipNotice(
            { ...notice("1Z11"), storeId: StoreId.StoreId.make("store-7") },
            {
              key: "k11",
              posRef: Option.none()
            }
          )
          yield* TestClock.adjust(Duration.seconds(1))
          expect(calls).toEqual(["1Z11"])
          // Its store's delivery claimed it, then found nothing more and ended.
          expect(claims).toBe(202)
        }).pipe(Effect.provideService(OrderStore.OrderStore, counted))
      }).pipe(Effect.scoped, Effect.provide(MemoryOrderStore.layer()))
  )

  it("backs off exponentially up to the cap", () => {
    const b = (n: number) => Duration.toSeconds(OutboxWorker.backoff(n, Duration.seconds(30), Duration.minutes(5)))
    expect([1, 2, 3, 4, 5, 6].map(b)).toEqual([30, 60, 120, 240, 300, 300])
  })
})
