/**
 * Running `StoreHistory` on the memory store, shared by the test and by `history-runs.ts` (seed sweeps, the
 * generator's distribution, long runs).
 */
import { Effect, FastCheck as fc } from "effect"
import { MemoryOrderStore, type OrderStore } from "../../src/index.js"
import { StoreHistory } from "../../src/testing/index.js"

/** The number of histories the CI test runs on the memory store; `history-runs.ts seeds` uses it too. */
export const ciRuns = 1000

export const runOn =
  (options: OrderStore.Options = {}) =>
  (history: StoreHistory.History): Promise<StoreHistory.Verdict> =>
    Effect.runPromise(
      StoreHistory.run(history, { storeId: "s1" }).pipe(Effect.provide(MemoryOrderStore.layer(options)))
    )

/** Which invariants a verdict says were broken; all of them when `invariants` is empty. */
export const breaks = (verdict: StoreHistory.Verdict, invariants: ReadonlyArray<StoreHistory.Invariant> = []) =>
  verdict.violations.some((v) => invariants.length === 0 || invariants.includes(v.invariant))

export interface Outcome {
  readonly failed: boolean
  /** 1-based index of the first failing history (before shrinking), if one failed. */
  readonly firstFailure: number | undefined
  /** The shrunk counterexample's violations. */
  readonly report: string
}

/**
 * Runs `numRuns` histories (from `seed` when given) on a memory store built with `options`; fails on the
 * first history that breaks one of `invariants` (any, when empty) and shrinks it.
 */
export const check = async (
  options: OrderStore.Options,
  params: { readonly numRuns: number; readonly seed?: number | undefined },
  invariants: ReadonlyArray<StoreHistory.Invariant> = []
): Promise<Outcome> => {
  const run = runOn(options)
  let index = 0
  let firstFailure: number | undefined
  const result = await fc.check(
    fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
      index++
      const broken = breaks(await run(history), invariants)
      if (broken && firstFailure === undefined) firstFailure = index
      return !broken
    }),
    { numRuns: params.numRuns, ...(params.seed === undefined ? {} : { seed: params.seed }) }
  )
  const counterexample = result.counterexample?.[0]
  const report = counterexample === undefined ? "" : StoreHistory.format(await run(counterexample))
  return { failed: result.failed, firstFailure, report }
}
