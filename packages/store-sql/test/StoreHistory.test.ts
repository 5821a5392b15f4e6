/**
 * Core's model-based history check (DESIGN.md invariants 1–3) against the SQL engines. Each history gets its
 * own store id in one shared database and a fresh TestClock; the memory store runs it in core's own suite.
 */
import { afterAll, it } from "@effect/vitest"
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
await withPostgres(() => checkHistories("PostgreSQL", pgLayer()), it)
