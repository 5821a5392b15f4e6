/**
 * The model-based history check outside CI, on the memory store as the tree has it:
 *
 *   tsx --conditions=source packages/core/test/support/history-runs.ts seeds [--from 1] [--to 20] [--runs N]
 *       [--only missed,paging]
 *     one fast-check run per seed, with the CI test's number of histories unless --runs says otherwise; prints
 *     which seeds failed, at which history, and the first violation; --only counts only those invariants.
 *     Exit code 1 if any seed failed (a deliberately broken store shows a line per seed, a correct one exits 0).
 *   ... history-runs.ts measure [--samples 20000] [--seed 42]
 *     what the generated histories exercise: steps, polls, polls with changes between their pages, clamps.
 *   ... history-runs.ts long [--runs 100000] [--seed S]
 *     the long count the CI test cannot afford.
 */
import { Effect, FastCheck as fc } from "effect"
import { MemoryOrderStore } from "../../src/index.js"
import { StoreHistory } from "../../src/testing/index.js"
import { check, ciRuns } from "./Histories.js"

// The one Node global this script uses (core's test typecheck has no Node types).
declare const process: { readonly argv: ReadonlyArray<string>; exitCode?: number }

const [command = "seeds", ...rest] = process.argv.slice(2)
const flag = (name: string, fallback: number) => {
  const i = rest.indexOf(`--${name}`)
  return i >= 0 ? Number(rest[i + 1]) : fallback
}
const started = performance.now()
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`

const seeds = async () => {
  const numRuns = flag("runs", ciRuns)
  const i = rest.indexOf("--only")
  const only = (i >= 0 ? (rest[i + 1] ?? "").split(",") : []) as Array<StoreHistory.Invariant>
  let failed = 0
  for (let seed = flag("from", 1); seed <= flag("to", 20); seed++) {
    const outcome = await check({}, { numRuns, seed }, only)
    if (outcome.failed) failed++
    const lines = outcome.report.split("\n")
    const detail = outcome.failed
      ? `FAILED at history ${outcome.firstFailure}: ${lines.find((l) => only.length === 0 || only.some((o) => l.startsWith(`[${o}]`)))}`
      : "passed"
    console.log(`seed ${seed}, ${numRuns} histories: ${detail}`)
  }
  console.log(`${failed} seed(s) failed; ${elapsed()}`)
  process.exitCode = failed > 0 ? 1 : 0
}

const measure = async () => {
  const samples = fc.sample(StoreHistory.arbitrary, { numRuns: flag("samples", 20_000), seed: flag("seed", 42) })
  const columns = new Map<string, Array<number>>()
  let violated = 0
  for (const history of samples) {
    const verdict = await Effect.runPromise(
      StoreHistory.run(history, { storeId: "s1" }).pipe(Effect.provide(MemoryOrderStore.layer()))
    )
    if (!verdict.ok) violated++
    for (const [name, value] of Object.entries(verdict.stats)) {
      columns.set(name, [...(columns.get(name) ?? []), value])
    }
  }
  console.log(`${samples.length} histories, ${violated} with a violation; ${elapsed()}`)
  console.log("stat                   min   mean    p50    p90    max   histories with ≥1")
  for (const [name, values] of columns) {
    const sorted = [...values].sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const some = values.filter((v) => v > 0).length
    const cells = [at(0), mean.toFixed(2), at(0.5), at(0.9), at(1)].map((c) => String(c).padStart(6))
    console.log(`${name.padEnd(20)} ${cells.join(" ")}   ${((100 * some) / values.length).toFixed(1)}%`)
  }
}

const long = async () => {
  const numRuns = flag("runs", 100_000)
  const seed = flag("seed", Date.now() % 2 ** 31)
  const outcome = await check({}, { numRuns, seed })
  console.log(
    `seed ${seed}, ${numRuns} histories: ${outcome.failed ? `FAILED\n${outcome.report}` : "passed"}; ${elapsed()}`
  )
  process.exitCode = outcome.failed ? 1 : 0
}

const commands: Record<string, () => Promise<void>> = { seeds, measure, long }
const chosen = commands[command]
if (chosen === undefined) {
  console.error(`unknown command "${command}": seeds, measure or long`)
  process.exitCode = 2
} else await chosen()
