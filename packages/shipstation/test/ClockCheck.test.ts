import { describe, expect, it } from "@effect/vitest"
import type { OrderStore } from "@posbridge/core"
import { DateTime as DT } from "effect"
import * as ClockCheck from "../src/ClockCheck.js"

const poll = (at: string, end: string, page = 1): OrderStore.PollRecord => ({
  at: DT.unsafeMake(at),
  storeId: "shop",
  window: { start: DT.unsafeMake("2026-05-01T00:00:00Z"), end: DT.unsafeMake(end) },
  page,
  pages: 1,
  count: 0,
  snapshotId: "s"
})

describe("the ShipStation clock check", () => {
  it("stays quiet for windows ending near the bridge clock", () => {
    const polls = [
      poll("2026-05-01T12:00:30Z", "2026-05-01T12:00:00Z"),
      poll("2026-05-01T12:10:20Z", "2026-05-01T12:08:00Z")
    ]
    expect(ClockCheck.warning(polls, "utc")).toBeUndefined()
  })

  it("warns when ShipStation seems to send Pacific time", () => {
    const polls = [
      poll("2026-05-01T19:00:30Z", "2026-05-01T12:00:00Z"),
      poll("2026-05-01T19:10:20Z", "2026-05-01T12:10:00Z")
    ]
    const w = ClockCheck.warning(polls, "utc")
    expect(w?.code).toBe("shipstation-clock")
    expect(w?.message).toContain("about 7 h behind the bridge clock")
    expect(w?.message).toContain("America/Los_Angeles")
  })

  it("needs more than one poll and ignores later pages of the same poll", () => {
    expect(ClockCheck.warning([poll("2026-05-01T19:00:30Z", "2026-05-01T12:00:00Z")], "utc")).toBeUndefined()
    const pages = [
      poll("2026-05-01T19:00:30Z", "2026-05-01T12:00:00Z"),
      poll("2026-05-01T19:00:31Z", "2026-05-01T12:00:00Z", 2)
    ]
    expect(ClockCheck.warning(pages, "utc")).toBeUndefined()
  })
})
