import { describe, expect, it } from "@effect/vitest"
import { ChangeLog, Pulls } from "../src/index.js"

describe("Pulls", () => {
  it("two pulls of one feed open at once are an overlap; one after the other are not", () => {
    const pulls = Pulls.make({ idleMillis: 10_000 })
    const a = pulls.start("1000", "orders", 0)
    pulls.page(a, 100)
    pulls.finish(a, 200)
    const b = pulls.start("1000", "orders", 300)
    expect(pulls.stats(300).maxInFlight).toBe(1)
    // Another store's feed, or another account, is no overlap.
    pulls.start("1000", "invoices", 350)
    pulls.start("1001", "orders", 360)
    expect(pulls.stats(400).overlaps).toBe(0)
    const c = pulls.start("1000", "orders", 400)
    const stats = pulls.stats(500, "1000")
    expect(stats.maxInFlight).toBe(2)
    expect(stats.overlaps).toBe(1)
    const feed = stats.feeds.find((f) => f.feed === "orders")!
    expect(feed).toMatchObject({ pulls: 3, inFlight: 2, maxInFlight: 2, overlaps: [{ at: 400, pulls: [b.id, c.id] }] })
    expect(c.concurrent).toBe(2)
  })

  it("pulls whose pages interleave are counted as interleaved; a stopped pull followed by a new one is only an overlap", () => {
    const pulls = Pulls.make({ idleMillis: 10_000 })
    // A runner lost the store and stopped its pull after one page; the new owner starts within the idle time.
    const stopped = pulls.start("1000", "orders", 0)
    const next = pulls.start("1000", "orders", 1_000)
    pulls.page(next, 1_100)
    pulls.finish(next, 1_200)
    expect(pulls.stats(1_300)).toMatchObject({ overlaps: 1, interleaved: 0 })
    expect(stopped.interleaved).toBe(false)
    // Two runners really walking one feed together: the older one asks for a page after the newer one started.
    const a = pulls.start("1001", "orders", 2_000)
    const b = pulls.start("1001", "orders", 2_100)
    pulls.page(b, 2_150)
    pulls.page(a, 2_200)
    pulls.page(a, 2_300)
    pulls.finish(b, 2_400)
    const stats = pulls.stats(2_500, "1001")
    expect(stats).toMatchObject({ overlaps: 1, interleaved: 1 })
    expect(stats.feeds[0]).toMatchObject({ interleavedCount: 1 })
    expect(a.interleaved).toBe(true)
    expect(b.interleaved).toBe(false)
  })

  it("a pull idle longer than idleMillis is abandoned and no longer in flight", () => {
    const pulls = Pulls.make({ idleMillis: 1_000 })
    const killed = pulls.start("1000", "sales", 0)
    pulls.page(killed, 500)
    expect(pulls.open("1000", "sales", 1_400)).toHaveLength(1)
    const next = pulls.start("1000", "sales", 1_500)
    expect(next.concurrent).toBe(1)
    expect(killed).toMatchObject({ outcome: "abandoned", endedAt: 1_500 })
    expect(pulls.stats(1_600).overlaps).toBe(0)
  })
})

describe("ChangeLog", () => {
  it("numbers every change, counts versions per document and reads after a seq", () => {
    const log = ChangeLog.make()
    const entry = { account: "1000", kind: "orders", at: 1, posModifiedAt: 1, what: "created" } as const
    log.record({ ...entry, ref: "7" })
    log.record({ ...entry, ref: "8" })
    log.record({ ...entry, ref: "7", what: "re-saved" })
    log.record({ ...entry, ref: "7", kind: "invoices" })
    expect(log.last()).toBe(4)
    expect(log.entries({ since: 1 }).map((c) => [c.seq, c.ref, c.kind, c.version])).toEqual([
      [2, "8", "orders", 1],
      [3, "7", "orders", 2],
      [4, "7", "invoices", 1]
    ])
    expect(log.entries({ kind: "invoices", account: "1000" })).toHaveLength(1)
    expect(log.entries({ account: "1001" })).toEqual([])
  })
})
