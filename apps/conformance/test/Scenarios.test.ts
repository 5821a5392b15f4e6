import { describe, expect, it } from "@effect/vitest"
import { ChangeLog, PosOracle } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import * as Conformance from "../src/Conformance.js"
import * as Soak from "../src/Soak.js"
import * as Scenarios from "../src/scenarios/Scenarios.js"

const failedNames = (report: { cases: ReadonlyArray<{ name: string; status: string }> }) =>
  report.cases.filter((c) => c.status === "failed").map((c) => c.name)

describe("ShipStation poll simulator", () => {
  it.live("every scenario passes against posbridge's server", () =>
    Effect.gen(function* () {
      const report = yield* Conformance.run({ adapters: [], scenarios: [], skipAdapters: true })
      expect(report.cases).toHaveLength(Scenarios.scenarios.length)
      expect(report.cases.filter((c) => c.status !== "passed").map((c) => `${c.name}: ${c.problems[0]}`)).toEqual([])
    })
  )

  it.live("stamping with the POS modified time is caught, naming the scenarios that miss orders", () =>
    Effect.gen(function* () {
      const report = yield* Conformance.run({ adapters: [], scenarios: [], skipAdapters: true, mutation: "stamp" })
      expect(failedNames(report)).toEqual(
        expect.arrayContaining(["scenario late-arriving-resave", "scenario heartland-invoice-touch"])
      )
      const late = report.cases.find((c) => c.name === "scenario late-arriving-resave")
      expect(late?.problems.join("\n")).toMatch(/missed version: order \d+ of hl-orders/)
    })
  )

  it.live("paging by plain offsets is caught by the documents-changing-between-pages scenario", () =>
    Effect.gen(function* () {
      const report = yield* Conformance.run({ adapters: [], scenarios: [], skipAdapters: true, mutation: "offset" })
      expect(failedNames(report)).toEqual(["scenario documents-changing-between-pages"])
      const paging = report.cases.find((c) => c.name === "scenario documents-changing-between-pages")
      expect(paging?.problems.join("\n")).toContain("pages changed between page requests")
    })
  )

  it.live("a POS re-save treated as unchanged is caught by the scenarios that re-save, naming the version", () =>
    Effect.gen(function* () {
      const report = yield* Conformance.run({ adapters: [], scenarios: [], skipAdapters: true, mutation: "resave" })
      expect(failedNames(report)).toEqual([
        "scenario late-arriving-resave",
        "scenario resave-no-change",
        "scenario documents-changing-between-pages"
      ])
      const late = report.cases.find((c) => c.name === "scenario late-arriving-resave")
      expect(late?.problems).toEqual([
        expect.stringMatching(
          /^missed version: order 1001 of hl-orders \(re-saved in the POS \(version 2, reported as modified 7\.0 min earlier\)/
        )
      ])
    })
  )

  it.live(
    "a short seeded soak misses no version, and the naive stamp rule and a re-save treated as unchanged do",
    () =>
      Effect.gen(function* () {
        const clean = yield* Soak.run({ polls: 300, seed: 7 })
        expect(clean.problems).toEqual([])
        expect(clean.details?.versions).toBeGreaterThan(100)
        const naive = yield* Soak.run({ polls: 150, seed: 7, mutation: "stamp" })
        expect(naive.status).toBe("failed")
        expect(naive.problems[0]).toMatch(/missed version: .* \(reproduce with --soak --polls 150 --seed 7\)/)
        const resave = yield* Soak.run({ polls: 150, seed: 7, mutation: "resave" })
        expect(resave.problems[0]).toMatch(/missed version: order \d+ of hl-orders \(re-saved in the POS/)
      }),
    120_000
  )
})

describe("scenario selection", () => {
  it("runs the named scenarios in the list's order and reports each unknown name as a failed case", () => {
    const chosen = Scenarios.select(["one-minute-gaps", "no-such-scenario", "late-arriving-resave"])
    expect(chosen.scenarios.map((s) => s.name)).toEqual(["late-arriving-resave", "one-minute-gaps"])
    expect(chosen.unknown).toEqual([
      {
        name: "scenario no-such-scenario",
        status: "failed",
        problems: ["there is no scenario with this name"],
        millis: 0
      }
    ])
  })

  it("runs every scenario when no name is given", () => {
    const chosen = Scenarios.select([])
    expect(chosen.scenarios).toEqual(Scenarios.scenarios)
    expect(chosen.unknown).toEqual([])
    expect(new Set(Scenarios.scenarios.map((s) => s.name)).size).toBe(Scenarios.scenarios.length)
  })
})

describe("the no-miss check", () => {
  const made = Date.parse("2024-06-03T10:07:30Z")
  // A re-save made at position 10, pullable by the sync at position 12.
  const version: PosOracle.Version = {
    storeId: "hl-orders",
    posRef: "7",
    at: made,
    why: "re-saved in the POS (version 2)",
    position: 10,
    servableFrom: 12
  }
  const served = (position: number, lastModified: string): PosOracle.Served => ({
    storeId: "hl-orders",
    posRef: "7",
    at: made,
    position,
    lastModified: Date.parse(lastModified)
  })
  const polled = new Set(["hl-orders"])
  const missed = (s: ReadonlyArray<PosOracle.Served>, held = new Set<string>()) =>
    PosOracle.missedVersions([version], s, { held, polled })

  it("accepts a version served after the sync that could pull it, with LastModified in the version's minute", () => {
    expect(missed([served(13, "2024-06-03T10:07:00Z")])).toEqual([])
  })

  it("names a version served only before the bridge could have pulled it, or with an older LastModified", () => {
    expect(missed([served(11, "2024-06-03T10:08:00Z"), served(14, "2024-06-03T10:06:00Z")])).toEqual([
      "missed version: order 7 of hl-orders (re-saved in the POS (version 2) at 2024-06-03T10:07:30.000Z) was never served by a later poll with a newer LastModified"
    ])
  })

  it("does not count a later answer that repeats the LastModified ShipStation already had", () => {
    // Before the re-save ShipStation got 10:08 (a watermark ahead of the bridge clock); 10:08 again is no news.
    expect(missed([served(4, "2024-06-03T10:08:00Z"), served(13, "2024-06-03T10:08:00Z")])).toHaveLength(1)
    expect(missed([served(4, "2024-06-03T10:08:00Z"), served(13, "2024-06-03T10:09:00Z")])).toEqual([])
  })

  it("leaves out orders expected to be held back, unshippable ones, and stores ShipStation never polled", () => {
    expect(missed([], new Set(["7"]))).toEqual([])
    expect(
      PosOracle.missedVersions([{ ...version, unshippable: "no address" }], [], { held: new Set(), polled })
    ).toEqual([])
    expect(PosOracle.missedVersions([version], [], { held: new Set(), polled: new Set() })).toEqual([])
  })
})

describe("the timeline of POS changes and the harness's events", () => {
  const entry = { account: "main", kind: "orders", ref: "7", what: "created" } as const
  const storeOf: PosOracle.StoreOf = (c) => (c.account === "main" && c.kind === "orders" ? "hl-orders" : undefined)

  it("places each POS change before the next event and makes it servable from the first sync after it", () => {
    const log = ChangeLog.make()
    const timeline = PosOracle.makeTimeline(log, storeOf)
    log.record({ ...entry, at: 1_000, posModifiedAt: 1_000 })
    timeline.mark({ type: "poll", storeId: "hl-orders", at: 1_000 })
    timeline.mark({ type: "sync", storeId: "hl-invoices", at: 1_000 })
    const sync = timeline.mark({ type: "sync", storeId: "hl-orders", at: 2_000 })
    // Another merchant's change is no version of these stores.
    log.record({ ...entry, account: "other", at: 2_500, posModifiedAt: 2_500 })
    const touch = timeline.mark({ type: "touch", storeId: "hl-orders", posRef: "7", at: 3_000 })
    expect(timeline.versions().map((v) => [v.why, v.position, v.servableFrom])).toEqual([
      ["created in the POS (version 1)", 1, sync],
      ["touched by the operator", touch, touch]
    ])
  })

  it("counts a save as a version only when the POS reports it modified later than the version before", () => {
    const log = ChangeLog.make()
    const timeline = PosOracle.makeTimeline(log, storeOf)
    log.record({ ...entry, at: 1_000, posModifiedAt: 1_000 })
    log.record({ ...entry, what: "re-saved", at: 2_000, posModifiedAt: 1_000 })
    log.record({ ...entry, what: "re-saved", at: 9_000, posModifiedAt: 3_000 })
    timeline.mark({ type: "sync", storeId: "hl-orders", at: 9_000 })
    expect(timeline.versions().map((v) => v.why)).toEqual([
      "created in the POS (version 1)",
      "re-saved in the POS (version 3, reported as modified 6 s earlier)"
    ])
  })
})
