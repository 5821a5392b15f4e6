import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer, TestContext } from "effect"
import { MemoryOrderStore, type OrderStore } from "../src/index.js"
import { StoreHistory } from "../src/testing/index.js"

const runWith = (options: OrderStore.Options) => (history: StoreHistory.History) =>
  Effect.runPromise(
    StoreHistory.run(history, { storeId: "s1" }).pipe(
      Effect.provide(Layer.merge(MemoryOrderStore.layer(options), TestContext.TestContext))
    )
  )

/** Runs 1,000 random histories on a store built to be wrong; returns the violation of its counterexample. */
const violationOf = async (options: OrderStore.Options) => {
  const check = runWith(options)
  const result = await fc.check(
    fc.asyncProperty(StoreHistory.arbitrary, async (history) => (await check(history)).ok),
    { numRuns: 1000 }
  )
  expect(result.failed).toBe(true)
  expect(result.counterexample?.[0]).toBeDefined()
  const verdict = await check(result.counterexample![0])
  expect(verdict.ok).toBe(false)
  return verdict.ok ? "" : verdict.violation
}

describe("OrderStore histories (model-based)", () => {
  it("no version is missed, paging is stable and refreshes restamp, over 1,000 random histories", async () => {
    const check = runWith({})
    await fc.assert(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await check(history)
        if (!verdict.ok) throw new Error(verdict.violation)
      }),
      { numRuns: 1000 }
    )
  }, 120_000)

  it("the naive rule 'stamp = POS modified time' is caught missing orders", async () => {
    expect(await violationOf({ stampRule: "posModified" })).toMatch(/missed/)
  }, 120_000)

  it("paging by plain offsets is caught skipping or repeating orders", async () => {
    expect(await violationOf({ pagingMode: "offset" })).toMatch(/twice|another snapshot|served \d+ orders/)
  }, 120_000)
})
