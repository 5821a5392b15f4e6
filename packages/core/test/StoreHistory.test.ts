import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck as fc } from "effect"
import { StoreHistory } from "../src/testing/index.js"
import { check, ciRuns, runOn } from "./support/Histories.js"

describe("OrderStore histories (model-based)", () => {
  it(`no version is missed, paging is stable, refreshes restamp and far-future windows push no stamp, over ${ciRuns} long random histories`, async () => {
    const run = runOn()
    const seen = { histories: 0, steps: 0, polls: 0, unreadChanged: 0, clamped: 0 }
    await fc.assert(
      fc.asyncProperty(StoreHistory.arbitrary, async (history) => {
        const verdict = await run(history)
        if (!verdict.ok) throw new Error(StoreHistory.format(verdict))
        seen.histories++
        seen.steps += verdict.stats.steps
        seen.polls += verdict.stats.polls
        if (verdict.stats.unreadChanged > 0) seen.unreadChanged++
        if (verdict.stats.clampedPages > 0) seen.clamped++
      }),
      { numRuns: ciRuns }
    )
    // The histories reach what the invariants are about (fast-check's default size once capped them at 12
    // steps and 1.5 polls, and almost none re-saved a member between two pages of a poll).
    expect(seen.steps / seen.histories).toBeGreaterThan(50)
    expect(seen.polls / seen.histories).toBeGreaterThan(10)
    expect(seen.unreadChanged / seen.histories).toBeGreaterThan(0.8)
    expect(seen.clamped / seen.histories).toBeGreaterThan(0.6)
  }, 120_000)

  it("the naive rule 'stamp = POS modified time' is caught missing orders", async () => {
    const outcome = await check({ stampRule: "posModified" }, { numRuns: ciRuns }, ["missed"])
    expect(outcome.failed).toBe(true)
    expect(outcome.report).toMatch(/\[missed\].*never appeared/)
  }, 120_000)

  it("paging by plain offsets is caught skipping or repeating orders", async () => {
    const outcome = await check({ pagingMode: "offset" }, { numRuns: ciRuns }, ["paging"])
    expect(outcome.failed).toBe(true)
    expect(outcome.report).toMatch(/\[paging\].*(twice|another snapshot|served \d+ orders)/)
  }, 120_000)

  it("a store that trusts any window end is caught missing orders and stamping them in the future", async () => {
    // A tolerance of ten years is the clamp removed: a one-off window ending far ahead moves the watermark.
    const trusting = { watermarkTolerance: Duration.days(3650) }
    const missed = await check(trusting, { numRuns: ciRuns }, ["missed"])
    expect(missed.failed).toBe(true)
    expect(missed.report).toMatch(/\[missed\].*never appeared/)
    const pushed = await check(trusting, { numRuns: ciRuns }, ["stamp"])
    expect(pushed.failed).toBe(true)
    // Either stamp check may trip first (the histories are random): an order stamped past bridge-now, or a page
    // of a window beyond the tolerance that the model says must be clamped and the store did not clamp.
    expect(pushed.report).toMatch(/\[stamp\].*(past bridge-now \+ tolerance \+ 1 min|clamped=false)/)
  }, 120_000)
})
