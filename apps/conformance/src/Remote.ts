/**
 * `--url`: the scenarios that need no POS or clock control, run against a posbridge server that is already
 * running (a staging deployment, a merchant's own install), over real HTTP. The rest are listed as skipped:
 * they need the in-process bridge, whose clock and POS the harness moves. Skipped cases are not passes. When the
 * store is fed by a simulated POS (`posbridge simulate`), `--simulator` adds the no-missed-version check judged by
 * the simulator's change log (RemoteOracle, case `scenario pos-change-log`).
 */
import { FetchHttpClient } from "@effect/platform"
import { Clock, Effect } from "effect"
import type * as ProtocolChecks from "./ProtocolChecks.js"
import * as RemoteOracle from "./RemoteOracle.js"
import * as Report from "./Report.js"
import * as Scenarios from "./scenarios/Scenarios.js"

export interface Options {
  readonly url: string
  readonly store: ProtocolChecks.StoreLogin
  readonly other?: ProtocolChecks.StoreLogin | undefined
  readonly lookbackMinutes?: number | undefined
  /** Unique per run by default (tracking numbers of the ship-notice check). */
  readonly runId?: string | undefined
  /** Scenario names; empty = all. */
  readonly scenarios?: ReadonlyArray<string> | undefined
  readonly print?: boolean | undefined
  /** The simulated POS behind the store, for the change-log oracle. */
  readonly oracle?: Omit<RemoteOracle.Options, "url" | "store"> | undefined
}

const oracleName = RemoteOracle.caseName.replace(/^scenario /, "")

export const skippedReason = "skipped (needs the in-process bridge)"

export const run = (options: Options): Effect.Effect<Report.Report> =>
  Effect.gen(function* () {
    const cases: Array<Report.CaseResult> = []
    const add = (c: Report.CaseResult) =>
      Effect.sync(() => {
        cases.push(c)
        if (options.print) console.log(Report.line(c))
      })
    const runId =
      options.runId ??
      `${(yield* Clock.currentTimeMillis).toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toUpperCase()
    const target: ProtocolChecks.Target = {
      url: options.url.replace(/\/+$/, ""),
      store: options.store,
      other: options.other,
      lookbackMinutes: options.lookbackMinutes,
      runId,
      // ShipStation sends whole minutes.
      now: () => {
        const now = Date.now()
        return now - (now % 60_000)
      }
    }
    const names = options.scenarios ?? []
    const chosen = Scenarios.select(names.filter((n) => n !== oracleName))
    for (const c of chosen.unknown) yield* add(c)
    for (const s of chosen.scenarios) {
      const name = Scenarios.caseName(s.name)
      if (s.check === undefined) {
        yield* add({ name, status: "not-applicable", problems: [skippedReason], millis: 0 })
        continue
      }
      if (s.name === "credentials-of-another-store" && options.other === undefined) {
        yield* add({
          name,
          status: "not-applicable",
          problems: ["skipped (give --store2 --user2 --password2)"],
          millis: 0
        })
        continue
      }
      const started = Date.now()
      const problems = yield* s
        .check(target)
        .pipe(
          Effect.catchAllDefect((defect) =>
            Effect.succeed([
              `the check could not talk to ${target.url}: ${defect instanceof Error ? (defect.cause instanceof Error ? defect.cause.message : defect.message) : String(defect)}`
            ])
          )
        )
      yield* add({ name, status: problems.length === 0 ? "passed" : "failed", problems, millis: Date.now() - started })
    }
    if (names.length === 0 || names.includes(oracleName)) yield* add(yield* oracleCase(options))
    return Report.summarize(cases)
  })

const oracleCase = (options: Options): Effect.Effect<Report.CaseResult> =>
  Effect.gen(function* () {
    const name = RemoteOracle.caseName
    if (options.oracle === undefined) {
      return {
        name,
        status: "not-applicable",
        problems: ["skipped (give --simulator and --account: the simulated POS behind the store)"],
        millis: 0
      }
    }
    const started = Date.now()
    const problems = yield* RemoteOracle.run({
      ...options.oracle,
      url: options.url.replace(/\/+$/, ""),
      store: options.store
    }).pipe(
      Effect.catchAll((e) => Effect.succeed([e.message])),
      Effect.catchAllDefect((defect) =>
        Effect.succeed([`the check could not talk to ${options.url}: ${String(defect)}`])
      ),
      Effect.provide(FetchHttpClient.layer)
    )
    return { name, status: problems.length === 0 ? "passed" : "failed", problems, millis: Date.now() - started }
  })
