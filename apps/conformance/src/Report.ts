/** The outcome of each conformance case, the one-line-per-case output and the JSON report. */
import { Schema } from "effect"

export const CaseResult = Schema.Struct({
  /** `adapter lightspeed: fixtures/x.json`, `scenario late-arriving-resave`, `soak seed 42`. */
  name: Schema.String,
  status: Schema.Literal("passed", "failed", "not-applicable"),
  /** Why it failed (or why it does not apply), one problem per entry. */
  problems: Schema.Array(Schema.String),
  millis: Schema.Number,
  details: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type CaseResult = typeof CaseResult.Type

export const Report = Schema.Struct({
  passed: Schema.Number,
  failed: Schema.Number,
  notApplicable: Schema.Number,
  cases: Schema.Array(CaseResult)
})
export type Report = typeof Report.Type

export const summarize = (cases: ReadonlyArray<CaseResult>): Report => ({
  passed: cases.filter((c) => c.status === "passed").length,
  failed: cases.filter((c) => c.status === "failed").length,
  notApplicable: cases.filter((c) => c.status === "not-applicable").length,
  cases
})

/** `ok   name`, `FAIL name: first problem` (further problems indented below), `n/a  name: reason`. */
export const line = (c: CaseResult): string => {
  if (c.status === "passed") return `ok   ${c.name}`
  const [first = "", ...rest] = c.problems
  const head = `${c.status === "failed" ? "FAIL" : "n/a "} ${c.name}: ${first}`
  return [head, ...rest.map((p) => `       ${p.replace(/\n/g, "\n       ")}`)].join("\n")
}

/** The closing line, exactly `N passed, N failed`. */
export const closing = (report: Report): string => `${report.passed} passed, ${report.failed} failed`

export const encodeJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`
