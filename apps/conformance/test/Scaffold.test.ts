import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Conformance from "../src/Conformance.js"
import * as Scaffold from "../src/Scaffold.js"

describe("new-adapter scaffold", () => {
  it.live("a generated adapter package passes conformance on its example fixture and with its simulator", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "posbridge-scaffold-"))
      try {
        const out = yield* Scaffold.generate("acme-pos", dir)
        expect(JSON.parse(readFileSync(join(out, "package.json"), "utf8")).name).toBe("@posbridge/source-acme-pos")
        const report = yield* Conformance.run({ adapters: [out], scenarios: [], skipScenarios: true })
        expect(report.cases.map((c) => [c.name, c.status, c.problems])).toEqual([
          ["adapter acme-pos: fixtures/example.json", "passed", []],
          ["adapter acme-pos: simulator change log", "passed", []]
        ])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.live("a name that cannot be a package is refused", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Scaffold.generate("Bad Name", tmpdir()))
      expect(error.message).toContain("is not a usable adapter name")
    })
  )
})
