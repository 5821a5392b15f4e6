import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Conformance from "../src/Conformance.js"
import * as Soak from "../src/Soak.js"
import * as Scenarios from "../src/scenarios/index.js"

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
