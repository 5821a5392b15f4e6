/** Runs a selection of adapter fixtures, scenarios and soaks, printing one line per case as it finishes. */
import { readFileSync } from "node:fs"
import { Console, Effect, Logger, LogLevel } from "effect"
import * as AdapterConformance from "./AdapterConformance.js"
import * as Adapters from "./Adapters.js"
import type * as Bridge from "./Bridge.js"
import * as Report from "./Report.js"
import * as SimulatorConformance from "./SimulatorConformance.js"
import * as Soak from "./Soak.js"
import * as Scenarios from "./scenarios/Scenarios.js"

export interface Selection {
  /** Adapter specs; empty = the built-in adapters (unless only scenarios were asked for). */
  readonly adapters: ReadonlyArray<string>
  readonly fixturesDir?: string | undefined
  /** Scenario names; empty = all. */
  readonly scenarios: ReadonlyArray<string>
  readonly skipAdapters?: boolean | undefined
  readonly skipScenarios?: boolean | undefined
  readonly mutation?: Bridge.Mutation | undefined
  readonly soak?: { readonly polls: number; readonly seed: number } | undefined
  /** Print each case as it completes. */
  readonly print?: boolean | undefined
}

export const run = (selection: Selection): Effect.Effect<Report.Report> =>
  Effect.gen(function* () {
    const cases: Array<Report.CaseResult> = []
    const add = (c: Report.CaseResult) =>
      Effect.gen(function* () {
        cases.push(c)
        if (selection.print) yield* Console.log(Report.line(c))
      })
    if (!selection.skipAdapters && selection.soak === undefined) {
      const specs = selection.adapters.length > 0 ? selection.adapters : Object.keys(Adapters.builtIn)
      for (const spec of specs) {
        const target = yield* Effect.either(Adapters.load(spec, selection.fixturesDir))
        if (target._tag === "Left") {
          yield* add({ name: `adapter ${spec}`, status: "failed", problems: [target.left.message], millis: 0 })
          continue
        }
        const { descriptor, fixtures } = target.right
        if (fixtures.length === 0) {
          yield* add({
            name: `adapter ${descriptor.id}`,
            status: "failed",
            problems: ["no recorded fixtures found"],
            millis: 0
          })
        }
        for (const f of fixtures) {
          yield* add(
            yield* AdapterConformance.checkFixture(descriptor, f.file, readFileSync(f.path, "utf8"), {
              label: `adapter ${descriptor.id}: fixtures/${f.file}`
            })
          )
        }
        yield* add(yield* SimulatorConformance.check(target.right))
      }
    }
    if (!selection.skipScenarios && selection.soak === undefined) {
      const chosen = Scenarios.select(selection.scenarios)
      for (const c of chosen.unknown) yield* add(c)
      for (const s of chosen.scenarios) yield* add(yield* Scenarios.run(s, { mutation: selection.mutation }))
    }
    if (selection.soak !== undefined) {
      const c = yield* Soak.run({ ...selection.soak, mutation: selection.mutation })
      yield* add(c)
      if (selection.print) yield* Console.log(`soak: ${JSON.stringify(c.details)}`)
    }
    return Report.summarize(cases)
  }).pipe(Logger.withMinimumLogLevel(LogLevel.None))
