/**
 * Backfill benchmark: 10,000 Sales with relations from a time-scaled simulator (bucket 90, drip 1/s), through the
 * real adapter (rate limiter, token manager, mapping). Prints the achieved request rate against what the leaky
 * bucket allows over the same simulated time, and the 429 count.
 *
 *   pnpm bench [-- --scale 10 --sales 10000]
 */
import { SimClock } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { Simulator } from "../src/testing/index.js"
import { connected, pullAll } from "../test/helpers.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  const v = i < 0 ? undefined : Number(process.argv[i + 1])
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback
}

const scale = arg("scale", 10)
const salesCount = arg("sales", 10_000)
const bucketSize = arg("bucket", 90)
const dripRate = arg("drip", 1)

const main = Effect.gen(function* () {
  const { sim, service, limiter, api } = yield* connected({ simulator: { bucketSize, dripRate } })
  yield* Simulator.seedDemo(sim.control, { sales: salesCount, quoteShare: 0.2 })
  const realStart = performance.now()
  const batches = yield* pullAll(service)
  const realSeconds = (performance.now() - realStart) / 1000
  const stats = yield* sim.control.stats
  const calls = yield* api.calls
  const waits = yield* limiter.stats
  const simSeconds = ((stats.lastChargedAt ?? 0) - (stats.firstChargedAt ?? 0)) / 1000
  // What the bucket lets through in that time: its whole size once (it starts empty) plus the drip.
  const allowed = bucketSize + dripRate * simSeconds
  const ratio = stats.costCharged / allowed
  const steadyCost = stats.costCharged - bucketSize
  const lines = [
    `sales seeded           ${salesCount} (documents emitted: ${batches.reduce((n, b) => n + b.documents.length, 0)})`,
    `pages                  ${batches.length}`,
    `API requests           ${stats.apiRequests} (adapter retries ${calls.retries})`,
    `429 responses          ${stats.rateLimited}`,
    `limiter waits          ${waits.waits} (${(waits.waitedMillis / 1000).toFixed(1)} simulated s)`,
    `bucket                 size ${bucketSize}, drip ${dripRate}/s, cost per list page ${(stats.costCharged / Math.max(1, stats.apiRequests)).toFixed(2)}`,
    `simulated time         ${simSeconds.toFixed(1)} s (time scale ${scale}x, real ${realSeconds.toFixed(1)} s)`,
    `drips used / allowed   ${stats.costCharged.toFixed(1)} / ${allowed.toFixed(1)}`,
    `steady-state drip use  ${(simSeconds > 0 ? steadyCost / simSeconds : 0).toFixed(3)}/s of ${dripRate}/s`,
    `achieved/allowed rate  ratio ${ratio.toFixed(3)} ${ratio >= 0.9 ? "(>= 0.90 OK)" : "(< 0.90 FAIL)"}`
  ]
  console.log(lines.join("\n"))
  if (stats.rateLimited > 0 || ratio < 0.9) process.exitCode = 1
})

Effect.runPromise(Effect.withClock(main, SimClock.make({ scale })))
