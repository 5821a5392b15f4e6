/**
 * Issue 15, acceptance 4: a slow POS (15 s per write-back, like Lightspeed after a burst) and a fast one (5 ms, like
 * Heartland), each with write-backs queued in the real SQL store. With a delivery per store (`deliveries`, started
 * by the runner's one look for due items) all 100 of the fast store's are delivered while the slow store's first is
 * still in flight; with the one loop for all stores (`run`, what the server ran before issue 15) they wait behind it.
 *
 * The slow POS sleeps 15 s on the TestClock, which the test moves only when it says so: "still in flight" is then
 * exact, not a race against a real 15 s. The fast POS takes a real 5 ms, and the test waits in real time.
 */
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, type PosSource, ShipNotice, StoreId } from "@posbridge/core"
import { Duration, Effect, Fiber, type Layer, Option, TestClock, TestServices } from "effect"
import { pgLayer, sqliteLayer, withPostgres } from "../../store-sql/test/support/Databases.js"
import * as OutboxWorker from "../src/OutboxWorker.js"

const slowStore = StoreId.StoreId.make("lightspeed-slow")
const fastStore = StoreId.StoreId.make("heartland-fast")

/** A POS that records which write-backs started and which finished; each takes `takes`. */
const pos = (takes: Effect.Effect<void>) => {
  const started: Array<string> = []
  const finished: Array<string> = []
  const source: PosSource.PosSourceService = {
    adapterId: "test",
    pull: () => {
      throw new Error("not used")
    },
    recordShipment: (notice) =>
      Effect.gen(function* () {
        started.push(notice.trackingNumber)
        yield* takes
        finished.push(notice.trackingNumber)
        return { summary: `shipment ${notice.trackingNumber} recorded` }
      })
  }
  return { started, finished, source }
}

const record = (storeId: StoreId.StoreId, tracking: string) =>
  Effect.flatMap(OrderStore.OrderStore, (store) => {
    const notice: ShipNotice.ShipNotice = {
      storeId,
      orderNumber: tracking,
      carrier: "UPS",
      trackingNumber: tracking,
      items: []
    }
    return store.recordShipNotice(notice, { key: ShipNotice.idempotencyKey(notice, tracking), posRef: Option.none() })
  })

const doneCount = (storeId: string) =>
  Effect.flatMap(OrderStore.OrderStore, (store) => Effect.map(store.outbox(storeId, ["done"]), (items) => items.length))

const stateOf = (storeId: string, tracking: string) =>
  Effect.flatMap(OrderStore.OrderStore, (store) =>
    Effect.map(store.outbox(storeId), (items) => items.find((o) => o.notice.trackingNumber === tracking)?.state)
  )

/** Waits in real time (the TestClock stands still) until `done` holds, or fails after `within`. */
const eventually = <R>(what: string, done: Effect.Effect<boolean, unknown, R>, within = Duration.seconds(30)) =>
  Effect.gen(function* () {
    const until = Date.now() + Duration.toMillis(within)
    while (!(yield* done)) {
      if (Date.now() > until) return yield* Effect.die(new Error(`not within ${Duration.format(within)}: ${what}`))
      yield* TestServices.provideLive(Effect.sleep(Duration.millis(20)))
    }
  })

/** Waits in real time until `count` has not moved for `quiet`; returns it. */
const settled = <R>(count: Effect.Effect<number, unknown, R>, quiet = Duration.seconds(3)) =>
  Effect.gen(function* () {
    let last = yield* count
    let since = Date.now()
    while (Date.now() - since < Duration.toMillis(quiet)) {
      yield* TestServices.provideLive(Effect.sleep(Duration.millis(50)))
      const now = yield* count
      if (now !== last) {
        last = now
        since = Date.now()
      }
    }
    return last
  })

const options = (slow: PosSource.PosSourceService, fast: PosSource.PosSourceService): OutboxWorker.Options => ({
  sourceFor: (storeId) =>
    Effect.succeed(
      storeId === slowStore ? Option.some(slow) : storeId === fastStore ? Option.some(fast) : Option.none()
    ),
  maxAttempts: 5,
  initialBackoff: Duration.seconds(30),
  maxBackoff: Duration.minutes(5)
})

/**
 * The burst: 100 fast-store notices and 10 slow-store ones, one slow after every ten fast (as ShipStation posts them
 * when both stores ship), all due at once. Then `start` runs the worker(s) until the fast store stops moving.
 */
const burst = <R>(start: (o: OutboxWorker.Options) => Effect.Effect<void, never, R>) =>
  Effect.gen(function* () {
    const slow = pos(Effect.sleep(Duration.seconds(15)))
    const fast = pos(Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5))))
    for (let i = 0; i < 100; i++) {
      yield* record(fastStore, `F${i}`)
      if (i % 10 === 9) yield* record(slowStore, `S${(i - 9) / 10}`)
    }
    yield* start(options(slow.source, fast.source))
    yield* eventually(
      "the slow store's first write-back starts",
      Effect.sync(() => slow.started.length > 0)
    )
    return { slow, fast }
  })

/** Holds `storeId`'s deliveries until interrupted, as the store's cluster entity does on its owner. */
const holding = (deliveries: OutboxWorker.Deliveries, storeId: string) =>
  Effect.scoped(Effect.zipRight(deliveries.hold(storeId), Effect.never))

/** The runner's deliveries, holding both stores. */
const perStore = (o: OutboxWorker.Options) =>
  Effect.gen(function* () {
    const deliveries = yield* OutboxWorker.deliveries(o)
    yield* Effect.forkScoped(holding(deliveries, slowStore))
    yield* Effect.forkScoped(holding(deliveries, fastStore))
  })

const acceptance = (name: string, storeLayer: Layer.Layer<OrderStore.OrderStore, unknown>) =>
  describe(`write-backs per store (${name})`, () => {
    it.effect(
      "all 100 of a fast store's write-backs are delivered while a slow store's first is still in flight",
      () =>
        Effect.gen(function* () {
          const { slow, fast } = yield* burst(perStore)
          yield* eventually(
            "the fast store's 100 write-backs are done",
            Effect.map(doneCount(fastStore), (n) => n === 100)
          )
          expect(fast.finished.length).toBe(100)
          expect(slow.started).toEqual(["S0"])
          expect(slow.finished).toEqual([])
          expect(yield* stateOf(slowStore, "S0")).toBe("in-flight")
          expect(yield* doneCount(slowStore)).toBe(0)

          // 15 s later the slow POS answers: its first is done and its second starts; the fast store is untouched.
          yield* TestClock.adjust(Duration.seconds(15))
          yield* eventually(
            "the slow store's first is done",
            Effect.map(stateOf(slowStore, "S0"), (s) => s === "done")
          )
          yield* eventually(
            "the slow store's second starts",
            Effect.sync(() => slow.started.length === 2)
          )
          expect(fast.started.length).toBe(100)
        }).pipe(Effect.scoped, Effect.provide(storeLayer)),
      60_000
    )

    it.effect(
      "a write-back in flight when its runner died is delivered by the store's next owner once its lease ends",
      () =>
        Effect.gen(function* () {
          const slow = pos(Effect.sleep(Duration.seconds(15)))
          const o = { ...options(slow.source, slow.source), leaseFor: Duration.minutes(1) }
          yield* record(slowStore, "S0")
          const dyingRunner = yield* OutboxWorker.deliveries(o)
          const dying = yield* Effect.forkScoped(holding(dyingRunner, slowStore))
          yield* eventually(
            "the write-back starts",
            Effect.sync(() => slow.started.length === 1)
          )
          yield* Fiber.interrupt(dying)
          expect(yield* stateOf(slowStore, "S0")).toBe("in-flight")

          // The store's next owner holds it: the lease still holds, so it does not deliver a second copy now.
          yield* Effect.forkScoped(holding(yield* OutboxWorker.deliveries(o), slowStore))
          yield* TestClock.adjust(Duration.seconds(30))
          yield* TestServices.provideLive(Effect.sleep(Duration.millis(300)))
          expect(slow.started).toEqual(["S0"])

          // Past the lease it is due again: delivered (the POS write is idempotent per notice), on its second attempt.
          yield* eventually(
            "the write-back is retried after the lease",
            Effect.zipRight(
              TestClock.adjust(Duration.seconds(1)),
              Effect.sync(() => slow.started.length === 2)
            )
          )
          yield* TestClock.adjust(Duration.seconds(15))
          yield* eventually(
            "the retry is done",
            Effect.map(stateOf(slowStore, "S0"), (s) => s === "done")
          )
          const [item] = yield* Effect.flatMap(OrderStore.OrderStore, (store) => store.outbox(slowStore))
          expect(item?.attempts).toBe(2)
          expect(slow.finished).toEqual(["S0"])
        }).pipe(Effect.scoped, Effect.provide(storeLayer)),
      60_000
    )
  })

acceptance("SQLite", sqliteLayer({ synchronous: "normal" }))

await withPostgres(() => acceptance("PostgreSQL", pgLayer()))

describe("write-backs in one loop for all stores (what the server ran before issue 15)", () => {
  it.effect(
    "wait behind a slow store's write-back: the fast store's are stuck while the slow one is in flight",
    () =>
      Effect.gen(function* () {
        const { slow, fast } = yield* burst((o) => Effect.asVoid(Effect.forkScoped(OutboxWorker.run(o))))
        const delivered = yield* settled(doneCount(fastStore))
        // The ten claimed ahead of the slow store's first went through; the other 90 wait behind it.
        expect(delivered).toBe(10)
        expect(fast.finished.length).toBe(10)
        expect(slow.finished).toEqual([])
      }).pipe(Effect.scoped, Effect.provide(sqliteLayer({ synchronous: "normal" }))),
    60_000
  )
})
