/**
 * `/metrics` scrape benchmark (issue 16: ≤ 50 ms at 1,000 stores): METRICSBENCH_STORES stores with the metrics the
 * server records for each (the per-store gauges as set after a sync, every write-back state, the latest
 * save-to-poll time, its counters), all owned by this runner, scraped METRICSBENCH_SCRAPES times through the real
 * listener of `Telemetry.serveMetrics` (bearer token included) and then, in the same run, through the path it
 * replaced (with the per-store gauges copied into Effect's registry, where they were kept then): the OpenTelemetry exporter over `@effect/opentelemetry`'s producer (`ownedOnly`), behind a
 * listener of its own. A scrape is timed from the request to its last byte, the client in this process; the first
 * scrape of each is shown apart (the new writer keeps each series' label text from then on) and the next five are
 * not counted. Both texts are checked to hold the same samples. p99 of 50 scrapes is their slowest.
 *
 *   pnpm --filter @posbridge/server bench:metrics
 */
import { Agent, request } from "node:http"
import { Metrics } from "@posbridge/core"
import { Duration, Effect, Exit, Metric, Option, Redacted, Scope } from "effect"
import * as Telemetry from "../src/Telemetry.js"
import { exporterListener, recordStore } from "../test/support/Scrape.js"

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}
const stores = num("METRICSBENCH_STORES", 1000)
const scrapes = num("METRICSBENCH_SCRAPES", 50)
const warmUp = 5
const runner = "bench-runner:34431"
const token = "metrics-bench-token"

const agent = new Agent({ keepAlive: true, maxSockets: 1 })
/** One scrape: milliseconds from the request to the last byte, and the text. */
const scrape = (url: string, authorization?: string) =>
  new Promise<{ readonly ms: number; readonly text: string }>((resolve, reject) => {
    const start = performance.now()
    const req = request(`${url}/metrics`, { agent, headers: authorization ? { authorization } : {} }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const ms = performance.now() - start
        if (res.statusCode !== 200) reject(new Error(`${url}/metrics: ${res.statusCode}`))
        else resolve({ ms, text: Buffer.concat(chunks).toString("utf8") })
      })
    })
    req.on("error", reject)
    req.end()
  })

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN
}
/** Sample lines (labels sorted) and HELP/UNIT/TYPE lines, sorted: what two texts must share. */
const meaning = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "" && !(l.startsWith("#") && !/^# (HELP|UNIT|TYPE) /.test(l)))
    .map((l) => {
      const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(l)
      if (l.startsWith("#") || !m) return l
      const labels = Array.from((m[2] ?? "").matchAll(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g), (x) => x[0])
      return `${m[1]}{${labels.sort().join(",")}} ${m[3]}`
    })
    .sort()
const series = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length

const main = async () => {
  const ids = Array.from({ length: stores }, (_, i) => `bench-store-${String(i).padStart(4, "0")}`)
  const owned: ReadonlySet<string> = new Set(ids)
  const scope = await Effect.runPromise(Scope.make())
  try {
    const { newUrl, oldUrl } = await Effect.runPromise(
      Effect.gen(function* () {
        for (const [i, id] of ids.entries()) yield* recordStore(id, i)
        // The histograms without a store label, as a running server has them.
        for (const page of ["first", "later"]) {
          yield* Metric.update(Metric.tagged(Metrics.exportPageSeconds, "page", page), 0.004)
        }
        yield* Metric.update(Metric.tagged(Metrics.syncSeconds, "outcome", "succeeded"), 1.2)
        yield* Metric.update(Metrics.saveToPollSeconds, 42)
        const listener = yield* Telemetry.serveMetrics(
          {
            listen: Option.some({ host: "127.0.0.1", port: 0 }),
            token: Redacted.make(token),
            refresh: Duration.seconds(15)
          },
          runner,
          () => owned
        )
        const oldUrl = yield* exporterListener(runner, () => owned)
        return { newUrl: Option.getOrThrow(listener.url), oldUrl }
      }).pipe(Scope.extend(scope))
    )
    const scrapeNew = () => scrape(newUrl, `Bearer ${token}`)
    const scrapeOld = () => scrape(oldUrl)

    // The server's path first, all of it: the baseline copies the store gauges' table into Effect's registry (as
    // the server kept them before), which would leave the server's scrape more registry series to snapshot.
    const timed = async (get: () => Promise<{ readonly ms: number; readonly text: string }>) => {
      const first = await get()
      // A few more to let the JIT settle, not counted: a running server has scraped many times before.
      for (let i = 0; i < warmUp; i++) await get()
      const ms: Array<number> = []
      for (let i = 0; i < scrapes; i++) ms.push((await get()).ms)
      return { first, ms }
    }
    const fresh = await timed(scrapeNew)
    const before = await timed(scrapeOld)
    const [firstNew, firstOld] = [fresh.first, before.first]
    const a = meaning(firstNew.text)
    const b = meaning(firstOld.text)
    const same = a.length === b.length && a.every((l, i) => l === b[i])
    const times = { new: fresh.ms, old: before.ms }
    const row = (name: string, first: { ms: number; text: string }, ms: ReadonlyArray<number>) =>
      console.log(
        `${name.padEnd(40)} median ${quantile(ms, 0.5).toFixed(1).padStart(6)} ms   p99 ${quantile(ms, 0.99).toFixed(1).padStart(6)} ms   first ${first.ms.toFixed(1).padStart(6)} ms   ${series(first.text)} series, ${Buffer.byteLength(first.text)} bytes`
      )
    console.log(
      `\nGET /metrics, ${stores} stores owned by this runner, ${scrapes} scrapes each, the server's path first`
    )
    row("serveMetrics (registry, table → text)", firstNew, times.new)
    row("OTel exporter over the producer (before)", firstOld, times.old)
    console.log(`same samples, HELP, UNIT and TYPE lines: ${same ? "yes" : "NO"}`)
    const verdict = (ms: number) => (ms <= 50 ? "meets" : "unmet")
    console.log(
      `median new / old: ${(quantile(times.new, 0.5) / quantile(times.old, 0.5)).toFixed(2)}; target ≤ 50 ms: median ${verdict(quantile(times.new, 0.5))}, p99 ${verdict(quantile(times.new, 0.99))}`
    )
    if (!same) process.exitCode = 1
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    agent.destroy()
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
