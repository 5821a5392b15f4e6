import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { ContentHash, OrderStore } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { SqliteStore } from "@posbridge/store-sql"
import { Deferred, Effect, Exit, Fiber, Option, Stream } from "effect"
import { Simulator } from "../src/testing/index.js"
import { connected, fast, latest, pullAll, since } from "./helpers.js"

describe("resuming a Lightspeed sync from the SQL store", () => {
  it.live(
    "a sync killed at random points resumes from the committed cursor without losing or duplicating documents",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "ls-resume-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const filename = join(dir, "orders.db")
        const { sim, service } = yield* connected({ settings: { pageLimit: 20 } })
        yield* Simulator.seedDemo(sim.control, { sales: 600, quoteShare: 0, until: Date.UTC(2024, 5, 1) })
        const storeRef = { id: "shop-1", kind: "invoices" } as const
        let inserted = 0
        let batchesCommitted = 0
        let killAfter = Number.POSITIVE_INFINITY
        let reached = yield* Deferred.make<void>()
        // Each call is one "process": it opens the SQLite file, syncs from the stored cursor, and closes.
        const sync = Effect.gen(function* () {
          const store = yield* OrderStore.OrderStore
          const cursor = yield* store.cursor(storeRef.id)
          yield* Stream.runForEach(service.pull(cursor, { since }), (batch) =>
            Effect.map(store.ingest(storeRef, batch.documents, Option.some(batch.cursor)), (summary) => {
              inserted += summary.inserted
              batchesCommitted++
              if (--killAfter <= 0) Deferred.unsafeDone(reached, Exit.void)
            })
          )
        }).pipe(Effect.provide(SqliteStore.layer({ filename, synchronous: "normal" })))

        const prng = Faults.makePrng(2024)
        let killedMidway = 0
        for (let round = 0; round < 4; round++) {
          // Kill it after a random number of committed pages plus a random slice of the next one.
          reached = yield* Deferred.make<void>()
          killAfter = 1 + prng.nextInt(round === 0 ? 20 : 4)
          const fiber = yield* Effect.fork(sync)
          yield* Effect.raceFirst(Deferred.await(reached), Fiber.await(fiber))
          // Timers starve while the sync runs on microtasks, so the kill point is moved by yields, not sleeps.
          for (let i = prng.nextInt(200); i > 0; i--) yield* Effect.yieldNow()
          const exit = yield* Fiber.interrupt(fiber)
          if (Exit.isInterrupted(exit)) killedMidway++
          // The POS keeps changing while the sync is down.
          const count = yield* sim.control.saleCount
          for (let i = 0; i < 20; i++) yield* sim.control.resaveSale(1001 + prng.nextInt(count))
          for (let i = 0; i < 120; i++) {
            yield* sim.control.addSale({ lines: [{ systemSku: "X", description: "New", quantity: 1, unitPrice: "1" }] })
          }
          yield* Effect.sleep("2 seconds")
        }
        yield* sync
        expect(batchesCommitted).toBeGreaterThan(0)
        expect(killedMidway).toBeGreaterThanOrEqual(2)

        const truth = latest(yield* pullAll(service))
        const check = Effect.gen(function* () {
          const store = yield* OrderStore.OrderStore
          const stats = yield* store.stats(storeRef.id)
          expect(stats.documents).toBe(truth.size)
          for (const [posRef, doc] of truth) {
            const stored = yield* store.find(storeRef.id, posRef)
            expect(Option.map(stored, (s) => ContentHash.ofOrder(s.order))).toEqual(
              Option.some(ContentHash.ofOrder(doc.order))
            )
            expect(Option.map(stored, (s) => s.order.posModifiedAt.epochMillis)).toEqual(
              Option.some(doc.order.posModifiedAt.epochMillis)
            )
          }
        }).pipe(Effect.provide(SqliteStore.layer({ filename, synchronous: "normal" })))
        yield* check
        // Every document was inserted exactly once across all the killed and resumed runs.
        expect(inserted).toBe(truth.size)
      }).pipe(Effect.scoped, fast),
    60_000
  )
})
