/**
 * The 200-store cadence check of Cadence.test.ts again, with nothing fake on the POS side: every store is the
 * real Heartland adapter, built from its descriptor the way the server loads it (settings decoded with
 * `adapter.settingsSchema`, `adapter.layer(store, settings)`), talking HTTP to its own Heartland simulator served
 * in-process by pos-testkit's SimServer. The failing store's simulator answers every request 503 and the slow
 * one answers every request 5 s late, both through the simulator's own fault plan. Cadence is read off the wire:
 * each exchange between an adapter and its simulator is logged with the virtual time it was sent and answered.
 */
import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, StoreSettings } from "@posbridge/core"
import { Faults, SimServer } from "@posbridge/pos-testkit"
import { adapter } from "@posbridge/source-heartland"
import { Simulator } from "@posbridge/source-heartland/testing"
import { Clock, DateTime, Effect, Layer, Option, Schema } from "effect"
import type * as SyncEngine from "../src/SyncEngine.js"
import { expectSteadyCadence } from "./support/Cadence.js"
import { nowUtc } from "./support/Harness.js"
import { withEngine } from "./support/VirtualClock.js"

const STORES = 200
const ORDERS_PER_STORE = 4
const FAILING = 0
const SLOW = 1

interface Exchange {
  readonly path: string
  readonly sentAt: number
  readonly answeredAt: number
  readonly status: number
}

interface SimulatedStore {
  readonly id: string
  readonly spec: SyncEngine.StoreSpec
  readonly seededOrders: number
  /** Every request the adapter sent to this store's simulator, in order. */
  readonly wire: Array<Exchange>
}

const ordersPath = "/api/sales/orders"

/** Virtual times at which the adapter listed orders: with fewer orders than a page, one list per run. */
const listTimes = (store: SimulatedStore) => store.wire.filter((e) => e.path === ordersPath).map((e) => e.sentAt)

const makeStore = (i: number, seededAt: DateTime.Utc) =>
  Effect.gen(function* () {
    const id = `hl-${i}`
    const token = `token-${i}-secret`
    const sim = yield* Simulator.make({ token })
    const seeded = yield* Simulator.seedDemo(sim.control, {
      seed: i,
      orders: ORDERS_PER_STORE,
      customers: 2,
      items: 3,
      start: seededAt
    })
    if (i === FAILING) {
      yield* sim.control.setFaults(Faults.random(i, [{ probability: 1, fault: Faults.serverError(503) }]))
    }
    if (i === SLOW) {
      // Timeout with a delay answers normally after that long (on the fiber's Clock, here the virtual one).
      yield* sim.control.setFaults(Faults.random(i, [{ probability: 1, fault: Faults.timeout(5_000) }]))
    }
    const wire: Array<Exchange> = []
    const inProcess = yield* SimServer.makeClient(sim.app)
    const client = HttpClient.transform(inProcess, (effect, request) =>
      Effect.gen(function* () {
        const sentAt = yield* Clock.currentTimeMillis
        const response = yield* effect
        const answeredAt = yield* Clock.currentTimeMillis
        wire.push({ path: new URL(request.url).pathname, sentAt, answeredAt, status: response.status })
        return response
      })
    )
    const storeSettings = Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
      id,
      adapter: "heartland",
      documentKind: "orders",
      shipstation: { username: "ss", password: `ss-${i}-password` },
      settings: { baseUrl: `http://sim-${i}.local`, apiToken: token }
    })
    const settings = Schema.decodeUnknownSync(adapter.settingsSchema)(storeSettings.settings)
    const source = adapter
      .layer(storeSettings, settings)
      .pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))
    const store: SimulatedStore = {
      id,
      spec: { settings: storeSettings, source, secrets: [token] },
      seededOrders: seeded.orders.length,
      wire
    }
    return store
  })

describe("SyncEngine cadence against Heartland simulators", () => {
  it.scoped(
    "200 real Heartland stores keep their interval while one answers 503 to everything and one answers in 5 s",
    () =>
      withEngine(
        (engine, clock) =>
          Effect.gen(function* () {
            const orderStore = yield* OrderStore.OrderStore
            const seededAt = DateTime.subtract(yield* nowUtc, { hours: 1 })
            const stores = yield* Effect.forEach(
              Array.from({ length: STORES }, (_, i) => i),
              (i) => makeStore(i, seededAt)
            )
            yield* engine.setStores(stores.map((s) => s.spec))
            const start = clock.now
            yield* clock.advance(5 * 60_000)

            // Healthy stores keep their cadence, every order they hold landed, and none ever failed.

            for (const store of stores.slice(2)) {
              const starts = listTimes(store)

              expectSteadyCadence(starts, start)
              expect(store.wire.every((e) => e.status === 200 && e.answeredAt === e.sentAt)).toBe(true)
              const status = yield* engine.status(store.id)
              expect(status.runs).toBe(starts.length)
              expect(status.lastError).toEqual(Option.none())
              expect((yield* orderStore.stats(store.id)).documents).toBe(store.seededOrders)
            }

            // The slow store: every answer took 5 s, yet it keeps going at its own pace and gets all its orders.
            const slow = stores[SLOW]!
            expect(slow.wire.length).toBeGreaterThan(0)
            expect(slow.wire.every((e) => e.status === 200 && e.answeredAt - e.sentAt === 5_000)).toBe(true)
            expect(listTimes(slow).length).toBeGreaterThanOrEqual(4)
            expect((yield* engine.status(slow.id)).lastError).toEqual(Option.none())
            expect((yield* orderStore.stats(slow.id)).documents).toBe(slow.seededOrders)

            // The failing store: every request got a 503; the adapter retries each run 8 times, then the engine
            // backs off 1 s, 2 s, 4 s … (minus up to 10 %) between runs instead of hammering the POS or parking it.
            const failing = stores[FAILING]!
            const failingStatus = yield* engine.status(failing.id)
            expect(failing.wire.every((e) => e.status === 503)).toBe(true)
            expect(failingStatus.parkedReason).toEqual(Option.none())
            expect(Option.map(failingStatus.lastError, (e) => e.kind)).toEqual(Option.some("transient"))
            expect(failingStatus.consecutiveFailures).toBeGreaterThanOrEqual(3)
            expect(failing.wire.length).toBeLessThanOrEqual(8 * failingStatus.runs)
            const runStarts = failing.wire.filter((_, k) => k % 8 === 0).map((e) => e.sentAt)
            const runEnds = failing.wire.filter((_, k) => k % 8 === 7).map((e) => e.answeredAt)
            expect(runEnds.length).toBe(failingStatus.consecutiveFailures)
            for (let k = 0; k + 1 < runStarts.length; k++) {
              const backoff = runStarts[k + 1]! - runEnds[k]!
              expect(backoff).toBeGreaterThanOrEqual(0.9 * 1_000 * 2 ** k)
              expect(backoff).toBeLessThanOrEqual(1_000 * 2 ** k)
            }
            expect((yield* orderStore.stats(failing.id)).documents).toBe(0)
          }),
        { settle: "event-loop" }
      ),
    120_000
  )
})
