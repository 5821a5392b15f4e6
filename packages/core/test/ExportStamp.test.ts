import { describe, expect, it } from "@effect/vitest"
import { DateTime, Duration, Option } from "effect"
import { ExportSnapshot, ExportStamp, OrderWindow } from "../src/index.js"

const t = (s: string) => DateTime.unsafeMake(s)
const window = (start: string, end: string) => OrderWindow.make(t(start), t(end))
const now = t("2026-05-01T12:00:30Z")

describe("the watermark", () => {
  it("moves to one minute after a served window's end", () => {
    const a = ExportStamp.advanceWatermark(Option.none(), window("2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z"), now)
    expect(a.clamped).toBe(false)
    expect(Option.map(a.watermark, DateTime.formatIso)).toEqual(Option.some("2026-05-01T12:01:00.000Z"))
  })

  it("never moves backwards when an older window is served again", () => {
    const a = ExportStamp.advanceWatermark(
      Option.some(t("2026-05-01T12:01:00Z")),
      window("2026-05-01T10:00:00Z", "2026-05-01T11:00:00Z"),
      now
    )
    expect(Option.map(a.watermark, DateTime.formatIso)).toEqual(Option.some("2026-05-01T12:01:00.000Z"))
  })

  it("absorbs a ShipStation clock 10 minutes ahead", () => {
    const a = ExportStamp.advanceWatermark(Option.none(), window("2026-05-01T11:00:00Z", "2026-05-01T12:10:00Z"), now)
    expect(a.clamped).toBe(false)
    expect(Option.map(a.watermark, DateTime.formatIso)).toEqual(Option.some("2026-05-01T12:11:00.000Z"))
  })

  it("ignores a window end more than 15 minutes past the bridge clock and flags it", () => {
    const current = Option.some(t("2026-05-01T11:30:00Z"))
    const a = ExportStamp.advanceWatermark(current, window("2026-05-01T11:00:00Z", "2026-05-01T19:00:00Z"), now)
    expect(a.clamped).toBe(true)
    expect(a.watermark).toEqual(current)
  })

  it("honours a configured tolerance", () => {
    const w = window("2026-05-01T11:00:00Z", "2026-05-01T12:20:00Z")
    expect(ExportStamp.advanceWatermark(Option.none(), w, now).clamped).toBe(true)
    expect(ExportStamp.advanceWatermark(Option.none(), w, now, Duration.minutes(30)).clamped).toBe(false)
  })

  it("keeps the default tolerance larger than the skew posbridge absorbs", () => {
    expect(Duration.greaterThan(ExportStamp.defaultTolerance, ExportStamp.maxSkew)).toBe(true)
  })
})

describe("the export stamp", () => {
  const input = { ingestedAt: t("2026-05-01T12:00:00Z"), posModifiedAt: t("2026-05-01T11:40:00Z") }
  it("is the ingest time when it is past the watermark", () => {
    const s = ExportStamp.stamp({ ...input, watermark: Option.some(t("2026-05-01T11:59:00Z")) })
    expect(DateTime.formatIso(s)).toBe("2026-05-01T12:00:00.000Z")
  })
  it("is the watermark when ShipStation has already served past the ingest time", () => {
    const s = ExportStamp.stamp({ ...input, watermark: Option.some(t("2026-05-01T12:11:00Z")) })
    expect(DateTime.formatIso(s)).toBe("2026-05-01T12:11:00.000Z")
  })
  it("ignores the POS modified time, which may be long past for a late arrival", () => {
    expect(DateTime.formatIso(ExportStamp.stamp({ ...input, watermark: Option.none() }))).toBe(
      "2026-05-01T12:00:00.000Z"
    )
  })
})

describe("paging", () => {
  const members = Array.from({ length: 7 }, (_, i) => i)
  it("has no pages for an empty window", () => {
    expect(ExportSnapshot.pageCount(0, 100)).toBe(0)
    expect(ExportSnapshot.pageSlice([], 1, 100)).toEqual([])
  })
  it("has exactly one page when the members fill it", () => {
    expect(ExportSnapshot.pageCount(100, 100)).toBe(1)
    expect(ExportSnapshot.pageCount(101, 100)).toBe(2)
  })
  it("serves an empty page past the last", () => {
    expect(ExportSnapshot.pageSlice(members, 3, 3)).toEqual([6])
    expect(ExportSnapshot.pageSlice(members, 4, 3)).toEqual([])
    expect(ExportSnapshot.pageSlice(members, 0, 3)).toEqual([])
  })
  it("with page size 1 serves each member on its own page", () => {
    expect(ExportSnapshot.pageCount(7, 1)).toBe(7)
    expect(members.map((_, i) => ExportSnapshot.pageSlice(members, i + 1, 1))).toEqual(members.map((m) => [m]))
  })
  it("orders members by stamp, then id", () => {
    const m = (posRef: string, at: string) => ({ posRef, stamp: t(at) })
    const sorted = [
      m("b", "2026-01-01T00:01:00Z"),
      m("c", "2026-01-01T00:00:00Z"),
      m("a", "2026-01-01T00:01:00Z")
    ].sort(ExportSnapshot.memberOrder)
    expect(sorted.map((x) => x.posRef)).toEqual(["c", "a", "b"])
  })
})
