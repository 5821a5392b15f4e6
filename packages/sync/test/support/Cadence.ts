/** What the 200-store cadence tests expect of every healthy store. */
import { expect } from "@effect/vitest"

/**
 * Pull starts (virtual millis) of a healthy store: the first within the start-up jitter after `start`, then one
 * every 54–60 s (the one-minute interval minus up to 10 % jitter), at least five in five minutes.
 */
export const expectSteadyCadence = (starts: ReadonlyArray<number>, start: number) => {
  expect(starts.length).toBeGreaterThanOrEqual(5)
  expect(starts[0]! - start).toBeLessThanOrEqual(6_000)
  for (let k = 1; k < starts.length; k++) {
    const gap = starts[k]! - starts[k - 1]!
    expect(gap).toBeGreaterThanOrEqual(54_000)
    expect(gap).toBeLessThanOrEqual(60_000)
  }
}
