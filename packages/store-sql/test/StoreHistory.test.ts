/**
 * Core's model-based history check (DESIGN.md invariants 1–3) against the SQL engines. Each history gets its
 * own store id in one shared database and a fresh TestClock; the memory store runs it in core's own suite.
 */
import { afterAll, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { StoreHistory } from "@posbridge/core/testing"
import { Effect, FastCheck as fc, type Layer, ManagedRuntime, TestContext } from "effect"
import { pgLayer, sqliteLayer, withPostgres } from "./support/Databases.js"
import { storeId } from "./support/Fixtures.js"

const histories = Number(process.env.POSBRIDGE_HISTORIES ?? 200)

const checkHistories = (name: string, storeLayer: Layer.Layer<OrderStore.OrderStore, unknown>) => {
  const runtime = ManagedRuntime.make(storeLayer)
  afterAll(() => runtime.dispose())
  it(`${name}: no version is missed, paging is stable and refreshes restamp, over ${histories} random histories`, async () => {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    await fc.assert(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await Effect.runPromise(
          StoreHistory.run(history, { storeId: storeId("h") }).pipe(
            Effect.provideService(OrderStore.OrderStore, store),
            Effect.provide(TestContext.TestContext)
          )
        )
        if (!verdict.ok) throw new Error(verdict.violation)
      }),
      { numRuns: histories }
    )
  }, 180_000)
}

checkHistories("SQLite file", sqliteLayer({ synchronous: "normal" }))
await withPostgres(() => checkHistories("PostgreSQL", pgLayer()))

// The SQL store honours core's mutation switch, and the same check catches the naive rule on it.
it("SQLite file with the naive rule 'stamp = POS modified time': the history check reports missed orders", async () => {
  const runtime = ManagedRuntime.make(sqliteLayer({ synchronous: "normal", stampRule: "posModified" }))
  try {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    const violations: Array<string> = []
    const result = await fc.check(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await Effect.runPromise(
          StoreHistory.run(history, { storeId: storeId("n") }).pipe(
            Effect.provideService(OrderStore.OrderStore, store),
            Effect.provide(TestContext.TestContext)
          )
        )
        if (!verdict.ok) violations.push(verdict.violation)
        return verdict.ok
      }),
      { numRuns: 200, endOnFailure: true }
    )
    expect(result.failed).toBe(true)
    expect(violations.join("\n")).toMatch(/missed/)
  } finally {
    await runtime.dispose()
  }
}, 120_000)
