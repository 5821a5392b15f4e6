/**
 * DESIGN.md invariant 1 under real concurrency: ingests racing snapshot creation for one store never produce
 * a version stamped inside a window that was already served without it. On PostgreSQL the ingests and the
 * polls go through two separate connection pools (two replicas) on one database.
 */
import { expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Clock, Context, Duration, Effect, Layer, ManagedRuntime, Option, TestClock, TestContext } from "effect"
import * as PgStore from "../src/PgStore.js"
import { pgDatabase, sqliteLayer, withPostgres } from "./support/Databases.js"
import { baseTime, doc, ms, storeId, utc } from "./support/Fixtures.js"

class PollStore extends Context.Tag("test/PollStore")<PollStore, OrderStore.OrderStoreService>() {}

const ingesters = 4
const batches = 40
const batchSize = 5
const polls = 60

/** Races the ingest fibers against a ShipStation-like poller and checks every served window afterwards. */
/** A real (not TestClock) pause of up to 3 ms, so fibers interleave the way concurrent requests do. */
const jitter = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 3)))

const race = (ingestStore: OrderStore.OrderStoreService, pollStore: OrderStore.OrderStoreService) =>
  Effect.gen(function* () {
    const s = storeId("race")
    yield* TestClock.setTime(baseTime)
    const ingest = (fiber: number) =>
      Effect.forEach(
        Array.from({ length: batches }, (_, b) => b),
        (b) =>
          Effect.zipRight(
            jitter,
            ingestStore.ingest(
              { id: s, kind: "invoices" },
              Array.from({ length: batchSize }, (_, j) => doc({ storeId: s, posRef: `f${fiber}-b${b}-${j}` })),
              Option.some(`f${fiber}-b${b}`)
            )
          ),
        { discard: true }
      )
    // ShipStation polls contiguous windows ending at the current minute; time moves between polls.
    const served: Array<{ window: OrderWindow.OrderWindow; members: ReadonlyArray<string> }> = []
    const poll = Effect.gen(function* () {
      let start = baseTime - 60 * 60_000
      for (let i = 0; i < polls; i++) {
        yield* jitter
        yield* TestClock.adjust(Duration.seconds(17))
        const now = yield* Clock.currentTimeMillis
        const window = OrderWindow.make(utc(start), utc(now))
        const page = yield* pollStore.exportPage({ storeId: s, window, page: 1, pageSize: 10_000 })
        served.push({ window, members: page.orders.map((o) => o.order.posRef) })
        start = ms(window.end)
      }
    })
    yield* Effect.all([poll, ...Array.from({ length: ingesters }, (_, f) => ingest(f))], { concurrency: "unbounded" })

    const all = yield* pollStore.exportPage({
      storeId: s,
      window: OrderWindow.make(utc(baseTime - 60 * 60_000), utc(baseTime + 24 * 60 * 60_000)),
      page: 1,
      pageSize: 10_000
    })
    expect(all.total).toBe(ingesters * batches * batchSize)
    let behind = 0
    const seen = new Set<string>()
    let pollsWithNewDocuments = 0
    for (const { window, members } of served) {
      const inside = all.orders
        .filter((o) => OrderWindow.contains(window, o.stamp))
        .map((o) => o.order.posRef)
        .sort()
      behind += inside.filter((posRef) => !members.includes(posRef)).length
      expect(inside).toEqual([...members].sort())
      if (members.some((posRef) => !seen.has(posRef))) pollsWithNewDocuments++
      for (const posRef of members) seen.add(posRef)
    }
    expect(behind).toBe(0)
    // The race was real: documents kept arriving between polls.
    expect(pollsWithNewDocuments).toBeGreaterThanOrEqual(3)
  })

/**
 * Two replicas claim the outbox at once, repeatedly: no item is ever handed to both. Replica A claims the store's
 * items (its loop for that store, as in a hand-over where both runners still run it); replica B alternates between
 * that store's claim and a claim of every store.
 */
const claimRace = (replicaA: OrderStore.OrderStoreService, replicaB: OrderStore.OrderStoreService) =>
  Effect.gen(function* () {
    const s = storeId("outbox")
    yield* TestClock.setTime(baseTime + 86_400_000)
    const items = 60
    yield* Effect.forEach(
      Array.from({ length: items }, (_, i) => i),
      (i) =>
        replicaA.recordShipNotice(
          { storeId: s as never, orderNumber: `N-${i}`, carrier: "UPS", trackingNumber: `T${i}`, items: [] },
          { key: `${s}|${i}`, posRef: Option.some(String(i)) }
        ),
      { discard: true }
    )
    const claimer = (replica: OrderStore.OrderStoreService, perStore: (round: number) => boolean) =>
      Effect.gen(function* () {
        const mine: Array<string> = []
        for (let round = 0; round < 12; round++) {
          yield* jitter
          const claimed = yield* replica.claimWriteBacks({
            storeId: perStore(round) ? s : undefined,
            limit: 4,
            leaseFor: Duration.minutes(5)
          })
          mine.push(...claimed.filter((o) => o.storeId === s).map((o) => o.id))
        }
        return mine
      })
    const [a, b] = yield* Effect.all([claimer(replicaA, () => true), claimer(replicaB, (round) => round % 2 === 0)], {
      concurrency: 2
    })
    const both = a.filter((id) => b.includes(id))
    expect(both).toEqual([])
    expect(new Set([...a, ...b]).size).toBe(a.length + b.length)
    expect(a.length).toBeGreaterThan(0)
    expect(b.length).toBeGreaterThan(0)
  })

const runUnderTestClock = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.runPromise(Effect.provide(effect, TestContext.TestContext))

it("SQLite: ingests racing polls from several fibers never land behind a served window", async () => {
  const runtime = ManagedRuntime.make(sqliteLayer({ synchronous: "normal" }))
  try {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    await runUnderTestClock(race(store, store))
  } finally {
    await runtime.dispose()
  }
}, 60_000)

await withPostgres(() =>
  it("PostgreSQL, two replicas on one database: ingests racing polls never land behind a served window, and outbox claims never overlap", async () => {
    const runtime = ManagedRuntime.make(
      Layer.unwrapScoped(
        Effect.map(pgDatabase, ({ url }) =>
          Layer.merge(
            PgStore.layer({ url }),
            // A second, independent pool on the same database: another replica serving ShipStation.
            Layer.project(PgStore.layer({ url }), OrderStore.OrderStore, PollStore, (store) => store)
          )
        )
      )
    )
    try {
      const ingestStore = await runtime.runPromise(OrderStore.OrderStore)
      const pollStore = await runtime.runPromise(PollStore)
      expect(pollStore).not.toBe(ingestStore)
      await runUnderTestClock(race(ingestStore, pollStore))
      await runUnderTestClock(claimRace(ingestStore, pollStore))
    } finally {
      await runtime.dispose()
    }
  }, 60_000)
)
