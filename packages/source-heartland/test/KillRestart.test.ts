import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, type PosSource } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { SqliteStore } from "@posbridge/store-sql"
import { DateTime, Effect, Fiber, Option, Stream } from "effect"
import { Simulator } from "../src/testing/index.js"
import { ordersStore, sourceFor, storeId } from "./helpers.js"

const ref = { id: storeId, kind: "orders" as const }

/** One sync run as the server does it: pull from the committed cursor, commit each batch with its cursor. */
const sync = (source: PosSource.PosSourceService) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const cursor = yield* store.cursor(storeId)
    yield* Stream.runForEach(source.pull(cursor, { since: DateTime.unsafeMake("2024-03-01T00:00:00Z") }), (batch) =>
      store.ingest(ref, batch.documents, Option.some(batch.cursor))
    )
  })

describe("kill and restart (SQLite store)", () => {
  it.live(
    "a sync killed at random points resumes from the committed cursor without losing or duplicating orders",
    () =>
      Effect.gen(function* () {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "heartland-kill-"))
        const filename = Path.join(dir, "posbridge.db")
        const sim = yield* Simulator.make()
        yield* Simulator.seedDemo(sim.control, { seed: 9, orders: 90, start: "2024-03-02T00:00:00Z" })
        const source = yield* sourceFor(sim, ordersStore, { perPage: 10 })
        const storeLayer = SqliteStore.layer({ filename, synchronous: "normal" })
        const rng = Faults.makePrng(2024)
        let kills = 0
        for (let round = 0; round < 6; round++) {
          // A fresh store layer per round is a process restart: nothing survives but the database file.
          const finished = yield* Effect.scoped(
            Effect.gen(function* () {
              const before = (yield* sim.control.stats).requests
              const fiber = yield* Effect.fork(sync(source))
              const killAt = before + 5 + rng.nextInt(40)
              // Busy-wait with yieldNow: the in-process HTTP is a chain of promises that can starve a timer.
              while ((yield* sim.control.stats).requests < killAt && Option.isNone(yield* Fiber.poll(fiber))) {
                yield* Effect.yieldNow()
              }
              const exit = yield* Fiber.poll(fiber)
              if (Option.isSome(exit)) return true
              yield* Fiber.interrupt(fiber)
              kills++
              return false
            }).pipe(Effect.provide(storeLayer))
          )
          // Re-saves between runs: the resumed sync must see them too.
          if (round === 2) yield* sim.control.updateOrder(1003, { shippingCharge: "1.11", at: "2024-03-04T00:00:00Z" })
          if (finished) break
        }
        yield* sync(source).pipe(Effect.provide(storeLayer))

        const result = yield* Effect.gen(function* () {
          const store = yield* OrderStore.OrderStore
          const stats = yield* store.stats(storeId)
          const inserts = yield* Effect.forEach(yield* sim.control.orders, (o) =>
            Effect.map(
              store.explain(storeId, String(o.id)),
              (e) => e.history.filter((h) => h._tag === "Inserted").length
            )
          )
          const resaved = yield* store.find(storeId, "1003")
          return { documents: stats.documents, inserts, shipping: Option.map(resaved, (s) => s.order.shippingAmount) }
        }).pipe(Effect.provide(storeLayer))
        Fs.rmSync(dir, { recursive: true, force: true })

        expect(kills).toBeGreaterThan(0)
        expect(result.documents).toBe(90)
        expect(result.inserts.every((n) => n === 1)).toBe(true)
        expect(result.shipping).toEqual(Option.some("1.11"))
      }),
    60_000
  )
})
