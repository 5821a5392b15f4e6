/** What a scenario is, the two ways to make one, and how one runs on a fresh in-process server. */
import { Cause, Effect, Exit, Option } from "effect"
import type { YieldWrap } from "effect/Utils"
import * as Bridge from "../Bridge.js"
import type * as ProtocolChecks from "../ProtocolChecks.js"
import type * as Report from "../Report.js"
import * as Driver from "./Driver.js"

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Needs the bridge clock or the POS: not applicable against an external server. */
  readonly needsControl: boolean
  /** The protocol check behind a scenario that needs no control; `--url` runs it against a running server. */
  readonly check?: ((t: ProtocolChecks.Target) => Effect.Effect<ReadonlyArray<string>>) | undefined
  readonly run: (d: Driver.Driver) => Effect.Effect<void>
}

/** A scenario that moves the bridge clock or the POS, so it runs only in-process. */
export interface Controlled {
  readonly description: string
  /** The scenario's steps, written as the body of `Effect.gen`. */
  readonly steps: (d: Driver.Driver) => Generator<YieldWrap<Effect.Effect<unknown>>, void, never>
}

/** Scenarios by name (an object literal refuses a name given twice), in the order written. */
export const controlled = (table: Record<string, Controlled>): ReadonlyArray<Scenario> =>
  Object.entries(table).map(([name, s]) => ({
    name,
    description: s.description,
    needsControl: true,
    run: (d) => Effect.gen(() => s.steps(d))
  }))

/** A scenario made of one protocol check: it runs in-process here and against any server with `--url`. */
export interface OverHttp {
  readonly description: string
  readonly check: (t: ProtocolChecks.Target) => Effect.Effect<ReadonlyArray<string>>
}

export const overHttp = (table: Record<string, OverHttp>): ReadonlyArray<Scenario> =>
  Object.entries(table).map(([name, { check, description }]) => ({
    name,
    description,
    needsControl: false,
    check,
    run: (d) =>
      Effect.gen(function* () {
        d.skipFinal = true
        d.problems.push(...(yield* check(Driver.targetOf(d))))
      })
  }))

/** `scenario NAME`, as a case is reported. */
export const caseName = (name: string) => `scenario ${name}`

/** Runs one scenario on a fresh server; never fails: problems are the case's result. */
export const run = (scenario: Scenario, options: Bridge.Options = {}): Effect.Effect<Report.CaseResult> =>
  Effect.gen(function* () {
    const started = Date.now()
    const exit = yield* Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const bridge = yield* Bridge.make(options)
          const d = Driver.make(bridge)
          yield* Effect.withClock(
            Effect.gen(function* () {
              yield* scenario.run(d)
              yield* Driver.finish(d)
            }),
            bridge.clock.clock
          )
          return d
        })
      )
    )
    const problems = Exit.isSuccess(exit)
      ? exit.value.problems
      : [
          `the scenario crashed: ${Option.getOrElse(Option.map(Cause.dieOption(exit.cause), String), () => Cause.pretty(exit.cause).split("\n")[0] ?? "")}`
        ]
    return {
      name: caseName(scenario.name),
      status: problems.length === 0 ? "passed" : "failed",
      problems,
      millis: Date.now() - started
    }
  })
