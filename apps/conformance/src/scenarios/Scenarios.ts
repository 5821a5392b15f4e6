/**
 * The ShipStation poll simulator's named scenarios. Each runs against a fresh in-process server (Bridge), moves
 * the bridge clock and the POS, polls like ShipStation over real HTTP (Driver), and then checks DESIGN.md's
 * invariants from the server's answers alone: no missed version, stable paging, and the protocol's answers for
 * credentials, dates and ship notices.
 */
import type * as Report from "../Report.js"
import * as PagingScenarios from "./PagingScenarios.js"
import * as ProtocolScenarios from "./ProtocolScenarios.js"
import * as ResaveScenarios from "./ResaveScenarios.js"
import { caseName, type Scenario } from "./Scenario.js"
import * as ShipNoticeScenarios from "./ShipNoticeScenarios.js"
import * as WindowScenarios from "./WindowScenarios.js"

export { caseName, run, type Scenario } from "./Scenario.js"

export const scenarios: ReadonlyArray<Scenario> = [
  ...ResaveScenarios.scenarios,
  ...WindowScenarios.scenarios,
  ...PagingScenarios.scenarios,
  ...ShipNoticeScenarios.scenarios,
  ...ProtocolScenarios.scenarios
]

export interface Selection {
  /** In the list's order, whatever the order of the names. */
  readonly scenarios: ReadonlyArray<Scenario>
  /** A failed case for each name no scenario has. */
  readonly unknown: ReadonlyArray<Report.CaseResult>
}

/** The scenarios with these names; no names selects them all. */
export const select = (names: ReadonlyArray<string>): Selection => ({
  scenarios: names.length === 0 ? scenarios : scenarios.filter((s) => names.includes(s.name)),
  unknown: names
    .filter((n) => !scenarios.some((s) => s.name === n))
    .map((n) => ({ name: caseName(n), status: "failed", problems: ["there is no scenario with this name"], millis: 0 }))
})
