/**
 * Core's model-based history check (DESIGN.md invariants 1–3 and the watermark clamp) against the SQL
 * engines. Each history gets its own store id in one shared database; the replay brings its own clock. The
 * memory store runs it in core's own suite, with more histories.
 */
import { afterAll, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { StoreHistory } from "@posbridge/core/testing"
import { Duration, Effect, FastCheck as fc, type Layer, ManagedRuntime } from "effect"
import { pgLayer, sqliteLayer, withPostgres } from "./support/Databases.js"
import { storeId } from "./support/Fixtures.js"

/**
 * Histories per engine: each is long (about 70 steps and 16 polls), and a PostgreSQL commit costs a few
 * milliseconds, so PostgreSQL runs fewer. `POSBRIDGE_HISTORIES` sets both.
 */
const histories = (engineDefault: number) => Number(process.env.POSBRIDGE_HISTORIES ?? engineDefault)

const replayOn = (store: OrderStore.OrderStoreService, label: string) => (history: StoreHistory.History) =>
  Effect.runPromise(
    StoreHistory.run(history, { storeId: storeId(label) }).pipe(Effect.provideService(OrderStore.OrderStore, store))
  )

const checkHistories = (name: string, storeLayer: Layer.Layer<OrderStore.OrderStore, unknown>, numRuns: number) => {
  const runtime = ManagedRuntime.make(storeLayer)
  afterAll(() => runtime.dispose())
  it(`${name}: no version is missed, paging is stable, refreshes restamp and far-future windows push no stamp, over ${numRuns} long random histories`, async () => {
    const replay = replayOn(await runtime.runPromise(OrderStore.OrderStore), "h")
    await fc.assert(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await replay(history)
        if (!verdict.ok) throw new Error(StoreHistory.format(verdict))
      }),
      { numRuns }
    )
  }, 180_000)
}

checkHistories("SQLite file", sqliteLayer({ synchronous: "normal" }), histories(150))
await withPostgres(() => checkHistories("PostgreSQL", pgLayer(), histories(40)))

/** The violations of the first of 150 random histories that breaks `invariant` on a deliberately broken SQLite store. */
const brokenBy = async (options: OrderStore.Options, invariant: StoreHistory.Invariant) => {
  const runtime = ManagedRuntime.make(sqliteLayer({ synchronous: "normal", ...options }))
  try {
    const replay = replayOn(await runtime.runPromise(OrderStore.OrderStore), "n")
    const reports: Array<string> = []
    const result = await fc.check(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await replay(history)
        if (!verdict.violations.some((v) => v.invariant === invariant)) return true
        reports.push(StoreHistory.format(verdict))
        return false
      }),
      { numRuns: histories(150), endOnFailure: true }
    )
    expect(result.failed).toBe(true)
    return reports.join("\n")
  } finally {
    await runtime.dispose()
  }
}

// The SQL store honours core's mutation switches, and the same check catches them on it.
it("SQLite file with the naive rule 'stamp = POS modified time': the history check reports missed orders", async () => {
  expect(await brokenBy({ stampRule: "posModified" }, "missed")).toMatch(/\[missed\].*never appeared/)
}, 120_000)

it("SQLite file trusting any window end (the clamp removed): the history check reports missed orders", async () => {
  expect(await brokenBy({ watermarkTolerance: Duration.days(3650) }, "missed")).toMatch(/\[missed\].*never appeared/)
}, 120_000)
