import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { OrderWindow } from "../src/index.js"

const iso = (e: Either.Either<DateTime.Utc, OrderWindow.WindowError>) =>
  Either.match(e, { onLeft: (err) => `error: ${err.message}`, onRight: (t) => DateTime.formatIso(t) })

describe("OrderWindow.parseDate", () => {
  it.each([
    ["01/23/2012 17:28", "2012-01-23T17:28:00.000Z"],
    ["01/23/2012+17:28", "2012-01-23T17:28:00.000Z"],
    ["1/3/2012 7:05", "2012-01-03T07:05:00.000Z"],
    ["01/23/2012 17:28:59", "2012-01-23T17:28:00.000Z"],
    ["01/23/2012 05:28 PM", "2012-01-23T17:28:00.000Z"],
    ["01/23/2012 5:28:10 pm", "2012-01-23T17:28:00.000Z"],
    ["01/23/2012 12:00 AM", "2012-01-23T00:00:00.000Z"],
    ["01/23/2012 12:30 PM", "2012-01-23T12:30:00.000Z"],
    ["02/29/2024 00:00", "2024-02-29T00:00:00.000Z"],
    [" 12/31/2026 23:59 ", "2026-12-31T23:59:00.000Z"]
  ])("accepts %s as UTC", (raw, expected) => {
    expect(iso(OrderWindow.parseDate("start_date", raw))).toBe(expected)
  })

  it.each([
    [undefined, "start_date: the date is required (it is missing)"],
    ["", "the date is required"],
    ["2012-01-23T17:28:00Z", "not in the accepted form"],
    ["23/01/2012 17:28", "the month must be 01-12"],
    ["02/30/2024 10:00", "the day does not exist in that month"],
    ["02/29/2023 10:00", "the day does not exist in that month"],
    ["01/23/2012 24:00", "the time of day is out of range"],
    ["01/23/2012 13:00 PM", "with AM/PM the hour must be 1-12"],
    ["01/23/12 17:28", "not in the accepted form"],
    ["yesterday", "not in the accepted form"]
  ])("rejects %s with a sentence naming the parameter and the accepted form", (raw, problem) => {
    const result = OrderWindow.parseDate("start_date", raw)
    expect(Either.isLeft(result)).toBe(true)
    const message = Either.isLeft(result) ? result.left.message : ""
    expect(message).toContain("start_date:")
    expect(message).toContain(problem)
    expect(message).toContain("expected MM/dd/yyyy HH:mm")
    if (raw !== undefined) expect(message).toContain(`got "${raw}"`)
  })

  it("reads a store's IANA zone on the right side of the spring-forward gap", () => {
    // 2026-03-08 02:00 America/Los_Angeles does not exist; 01:59 is PST (-8), 03:00 is PDT (-7).
    expect(iso(OrderWindow.parseDate("end_date", "03/08/2026 01:59", "America/Los_Angeles"))).toBe(
      "2026-03-08T09:59:00.000Z"
    )
    expect(iso(OrderWindow.parseDate("end_date", "03/08/2026 03:00", "America/Los_Angeles"))).toBe(
      "2026-03-08T10:00:00.000Z"
    )
    // Inside the gap the later offset keeps the window moving forward.
    expect(iso(OrderWindow.parseDate("end_date", "03/08/2026 02:30", "America/Los_Angeles"))).toBe(
      "2026-03-08T10:30:00.000Z"
    )
  })

  it("reads the repeated fall-back hour as its first occurrence", () => {
    // 2026-11-01 01:30 happens twice in Los Angeles: first in PDT (-7).
    expect(iso(OrderWindow.parseDate("start_date", "11/01/2026 01:30", "America/Los_Angeles"))).toBe(
      "2026-11-01T08:30:00.000Z"
    )
    expect(iso(OrderWindow.parseDate("start_date", "11/01/2026 02:30", "America/Los_Angeles"))).toBe(
      "2026-11-01T10:30:00.000Z"
    )
  })

  it("uses summer and winter offsets of a European zone", () => {
    expect(iso(OrderWindow.parseDate("start_date", "07/01/2026 12:00", "Europe/Berlin"))).toBe(
      "2026-07-01T10:00:00.000Z"
    )
    expect(iso(OrderWindow.parseDate("start_date", "01/15/2026 12:00", "Europe/Berlin"))).toBe(
      "2026-01-15T11:00:00.000Z"
    )
  })

  it("names an unknown store zone", () => {
    const result = OrderWindow.parseDate("start_date", "01/15/2026 12:00", "Mars/Olympus")
    expect(Either.isLeft(result) && result.left.message).toContain('time zone "Mars/Olympus" is unknown')
  })
})

describe("OrderWindow.parse", () => {
  it("rejects a start after the end and says so", () => {
    const result = OrderWindow.parse({ start_date: "01/23/2012 17:29", end_date: "01/23/2012 17:28" })
    expect(Either.isLeft(result) && result.left.message).toContain('start_date is after end_date "01/23/2012 17:28"')
  })

  it("names end_date when only it is wrong", () => {
    const result = OrderWindow.parse({ start_date: "01/23/2012 17:28", end_date: "tomorrow" })
    expect(Either.isLeft(result) && result.left.parameter).toBe("end_date")
  })

  it("includes the whole end minute and the start minute", () => {
    const w = Either.getOrThrow(OrderWindow.parse({ start_date: "01/23/2012 10:00", end_date: "01/23/2012 10:05" }))
    const at = (s: string) => OrderWindow.contains(w, DateTime.unsafeMake(s))
    expect(at("2012-01-23T10:05:40Z")).toBe(true)
    expect(at("2012-01-23T10:05:59.999Z")).toBe(true)
    expect(at("2012-01-23T10:06:00Z")).toBe(false)
    expect(at("2012-01-23T10:00:00Z")).toBe(true)
    expect(at("2012-01-23T09:59:59.999Z")).toBe(false)
  })

  it("formats instants back in ShipStation's form", () => {
    expect(OrderWindow.format(DateTime.unsafeMake("2012-01-03T07:05:09Z"))).toBe("01/03/2012 07:05")
  })
})

describe("OrderWindow errors with a store time zone", () => {
  it("name the store's zone instead of UTC", () => {
    const result = OrderWindow.parseDate("end_date", "tomorrow", "America/Los_Angeles")
    expect(Either.isLeft(result) && result.left.message).toContain("in the store's time zone America/Los_Angeles")
  })
})
