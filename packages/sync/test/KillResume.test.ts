/**
 * Kill the engine at random points (mid-page, mid-commit, mid-sleep) twenty times over a SQLite file while the
 * POS keeps changing; after each restart the store resumes from its committed cursor. At the end every POS
 * document is stored exactly once, in its latest version, and the cursor is the last document's.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { SqliteStore } from "@posbridge/store-sql"
import { DateTime, Effect, Exit, Layer, Option, Random, Scope } from "effect"
import * as SyncEngine from "../src/SyncEngine.js"
import { cursorOf, makeFakePos, settings } from "./support/FakePos.js"
import { nowUtc } from "./support/Harness.js"
import { withVirtualClock } from "./support/VirtualClock.js"

describe("SyncEngine kill and resume", () => {
  it.scoped(
    "after 20 kills at random points every document is stored exactly once in its latest version",
    () =>
      withVirtualClock((clock) =>
        Effect.gen(function* () {
          const dir = yield* Effect.acquireRelease(
            Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-sync-"))),
            (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
          )
          const filename = path.join(dir, "store.db")
          const pos = makeFakePos("shop", { pageSize: 25, delayMillis: 200 })
          const versions = new Map<number, number>()
          let next = 0
          const spec = { settings: settings("shop"), source: pos.source, intervalMillis: 2_000 }
          const life = (kill: boolean) =>
            Effect.gen(function* () {
              // The POS moves on between lives: new documents and re-saves of old ones, stamped with the POS clock
              // (later than anything read before, as the fake has no overlap re-read).
              yield* clock.advance(1_000)
              const now = yield* nowUtc
              for (let k = 0; k < 15; k++) {
                versions.set(next, 1)
                pos.save(next, now, 1)
                next++
              }
              for (let k = 0; k < 10; k++) {
                const n = yield* Random.nextIntBetween(0, next)
                const v = (versions.get(n) ?? 1) + 1
                versions.set(n, v)
                pos.save(n, now, v)
              }
              const scope = yield* Scope.make()
              const context = yield* Layer.buildWithScope(
                Layer.provideMerge(SyncEngine.layer({ jitter: 0 }), SqliteStore.layer({ filename })),
                scope
              )
              const engine = yield* Effect.provide(SyncEngine.SyncEngine, context)
              yield* engine.setStores([spec])
              if (kill) {
                // Run for a random while, then let woken fibers take a random number of steps and kill.
                yield* clock.advance(yield* Random.nextIntBetween(0, 2_000))
                clock.jump(yield* Random.nextIntBetween(0, 400))
                const steps = yield* Random.nextIntBetween(0, 60)
                for (let k = 0; k < steps; k++) yield* Effect.yieldNow()
              } else {
                yield* clock.advance(60_000)
              }
              yield* Scope.close(scope, Exit.void)
              return context
            })
          for (let k = 0; k < 20; k++) yield* life(true)
          yield* life(false)

          const store = yield* Effect.provide(
            OrderStore.OrderStore,
            yield* Layer.build(SqliteStore.layer({ filename }))
          )
          expect((yield* store.stats("shop")).documents).toBe(pos.documents.size)
          for (const [posRef, order] of pos.documents) {
            const explained = yield* store.explain("shop", posRef)
            expect(explained.current.order.customerNotes).toBe(order.customerNotes)
            expect(DateTime.toEpochMillis(explained.current.order.posModifiedAt)).toBe(
              DateTime.toEpochMillis(order.posModifiedAt)
            )
            expect(explained.history.filter((e) => e._tag === "Inserted")).toHaveLength(1)
          }
          const last = [...pos.documents.values()].map(cursorOf).sort().at(-1)
          expect(yield* store.cursor("shop")).toEqual(Option.fromNullable(last))
          // The kills really interrupted runs: the POS was asked more often than the lives alone explain.
          expect(pos.pullStarts.length).toBeGreaterThan(21)
        })
      ),
    60_000
  )
})
