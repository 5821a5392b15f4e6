import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Conformance from "../src/Conformance.js"
import * as Soak from "../src/Soak.js"
import * as Driver from "../src/scenarios/Driver.js"
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

  it.live(
    "a short seeded soak misses no version, and the naive stamp rule does",
    () =>
      Effect.gen(function* () {
        const clean = yield* Soak.run({ polls: 300, seed: 7 })
        expect(clean.problems).toEqual([])
        expect(clean.details?.versions).toBeGreaterThan(100)
        const naive = yield* Soak.run({ polls: 150, seed: 7, mutation: "stamp" })
        expect(naive.status).toBe("failed")
        expect(naive.problems[0]).toMatch(/missed version: .* \(reproduce with --soak --polls 150 --seed 7\)/)
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
  const ingested = Date.parse("2024-06-03T10:07:30Z")
  const version = { storeId: "hl-orders", posRef: "7", at: ingested, why: "restamped" }
  const servedAt = (at: string, lastModified: string): Driver.Served => ({
    storeId: "hl-orders",
    posRef: "7",
    page: 1,
    at: Date.parse(at),
    lastModified: Date.parse(lastModified)
  })
  const polled = new Set(["hl-orders"])

  it("accepts a version served by a later poll with LastModified in the version's minute", () => {
    const served = [servedAt("2024-06-03T10:10:00Z", "2024-06-03T10:07:00Z")]
    expect(Driver.missedVersions([version], served, { held: new Set(), polled })).toEqual([])
  })

  it("names a version served only before it was ingested, or with an older LastModified", () => {
    const served = [
      servedAt("2024-06-03T10:05:00Z", "2024-06-03T10:07:00Z"),
      servedAt("2024-06-03T10:10:00Z", "2024-06-03T10:06:00Z")
    ]
    expect(Driver.missedVersions([version], served, { held: new Set(), polled })).toEqual([
      "missed version: order 7 of hl-orders (restamped at bridge 2024-06-03T10:07:30.000Z) was never served by a later poll"
    ])
  })

  it("leaves out orders expected to be held back and stores ShipStation never polled", () => {
    expect(Driver.missedVersions([version], [], { held: new Set(["7"]), polled })).toEqual([])
    expect(Driver.missedVersions([version], [], { held: new Set(), polled: new Set() })).toEqual([])
  })
})
