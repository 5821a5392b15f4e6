import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Effect } from "effect"
import * as AdapterConformance from "../src/AdapterConformance.js"
import * as Adapters from "../src/Adapters.js"
import * as Conformance from "../src/Conformance.js"

const mistake = (file: string) =>
  AdapterConformance.checkFixture(heartland, file, readFileSync(join(import.meta.dirname, "fixtures", file), "utf8"))

/** Lightspeed's recorded walk-in sale (order 1002 has no address at all), as recorded or without its `expectHeld`. */
const walkIn = (expectHeld: boolean) =>
  Effect.gen(function* () {
    const target = yield* Adapters.load("lightspeed")
    const file = target.fixtures.find((f) => f.file === "walk-in-sale.json")!
    const fixture = JSON.parse(readFileSync(file.path, "utf8")) as { settings: { conformance?: unknown } }
    if (!expectHeld) delete fixture.settings.conformance
    return yield* AdapterConformance.checkFixture(target.descriptor, file.file, JSON.stringify(fixture))
  })

describe("adapter conformance", () => {
  it.live(
    "every built-in adapter passes on its own recorded fixtures",
    () =>
      Effect.gen(function* () {
        const report = yield* Conformance.run({ adapters: [], scenarios: [], skipScenarios: true })
        expect(report.cases.map((c) => c.name)).toContain("adapter lightspeed: fixtures/three-page-walk.json")
        expect(report.cases.map((c) => c.name)).toContain("adapter heartland: fixtures/multi-page-walk.json")
        expect(report.cases.filter((c) => c.status !== "passed").map((c) => `${c.name}: ${c.problems[0]}`)).toEqual([])
        expect(report.passed).toBeGreaterThanOrEqual(24)
      }),
    60_000
  )

  it.live("a wrong expected order names the document, the exchange that produced it and the field", () =>
    Effect.gen(function* () {
      const result = yield* mistake("wrong-expected-order.json")
      expect(result.status).toBe("failed")
      expect(result.problems.join("\n")).toMatch(
        /document #1 \(posRef 1002, produced after exchange #\d+\) differs: order\.shipTo\.city: expected "Springfield" but got "Austin"/
      )
    })
  )

  it.live("an extra recorded request names the exchange that was never requested", () =>
    Effect.gen(function* () {
      const result = yield* mistake("extra-request.json")
      expect(result.status).toBe("failed")
      expect(result.problems.join("\n")).toMatch(/exchange #3 does not exist|recorded exchange #3/)
      expect(result.problems.join("\n")).toContain("GET /api/sales/orders/1001/lines")
    })
  )

  it.live("a request that differs from the recording names the exchange and the query parameter", () =>
    Effect.gen(function* () {
      const result = yield* mistake("changed-request.json")
      expect(result.status).toBe("failed")
      expect(result.problems[0]).toContain("recorded exchange #2")
      expect(result.problems[0]).toContain('query param "per_page": expected "50" but got "100"')
    })
  )

  it.live("a fixture that does not follow the format is refused with the path of the bad field", () =>
    Effect.gen(function* () {
      const result = yield* mistake("invalid-format.json")
      expect(result.status).toBe("failed")
      expect(result.problems[0]).toContain("exchanges[0].response.status")
    })
  )

  it.live("an order ShipStation's field rules hold back fails the fixture unless it is listed in expectHeld", () =>
    Effect.gen(function* () {
      const listed = yield* walkIn(true)
      expect(listed.problems).toEqual([])
      expect(listed.details?.held).toBe(1)
      const unlisted = yield* walkIn(false)
      expect(unlisted.status).toBe("failed")
      expect(unlisted.problems).toEqual([
        "order 1002 (220000002) fails ShipStation's field rules: there is no ship-to address and the bill-to address is incomplete (list it in settings.conformance.expectHeld if that is intended)"
      ])
    })
  )
})
