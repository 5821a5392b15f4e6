/**
 * `/metrics` is written without the OpenTelemetry round trip (`internal/prometheusText.ts`); the OpenTelemetry
 * exporter, as the server used it before, is the oracle: the `PrometheusExporter` over
 * `ownedOnly(@effect/opentelemetry's producer)`. Both read the same registry, and their texts must hold the same
 * samples and the same `# HELP`, `# UNIT` and `# TYPE` lines.
 */
import { describe, expect, it } from "@effect/vitest"
import { Metrics } from "@posbridge/core"
import { Duration, Effect, Metric, MetricBoundaries, Option, Redacted } from "effect"
import * as Telemetry from "../src/Telemetry.js"
import { exporterListener, recordStore, storeStats } from "./support/Scrape.js"

const runner = "runner-text:34431"
const token = "text-token-51ac"

/** Each line that says something, labels sorted: samples `name{a="x",b="y"} value`, and HELP / UNIT / TYPE. */
const lines = (text: string) =>
  text
    .split("\n")
    .filter((line) => line !== "" && !(line.startsWith("#") && !/^# (HELP|UNIT|TYPE) /.test(line)))
    .map((line) => {
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (line.startsWith("#") || !sample) return line
      const labels = Array.from(
        (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g),
        (m) => m[0]
      )
      return `${sample[1]}{${labels.sort().join(",")}} ${sample[3]}`
    })
    .sort()

/** The lines one text has and the other has not (as many times as it has them more): none when they agree. */
const differences = (actual: string, expected: string) => {
  const count = new Map<string, number>()
  for (const line of lines(expected)) count.set(line, (count.get(line) ?? 0) + 1)
  const extra: Array<string> = []
  for (const line of lines(actual)) {
    const n = count.get(line) ?? 0
    if (n === 0) extra.push(line)
    else count.set(line, n - 1)
  }
  const missing = Array.from(count).flatMap(([line, n]) => Array<string>(n).fill(line))
  return { missing, extra }
}

const served = (owned: () => ReadonlySet<string>) =>
  Effect.gen(function* () {
    const listener = yield* Telemetry.serveMetrics(
      {
        listen: Option.some({ host: "127.0.0.1", port: 0 }),
        token: Redacted.make(token),
        refresh: Duration.seconds(15)
      },
      runner,
      owned
    )
    return Option.getOrThrow(listener.url)
  })

const get = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const r = await fetch(url, init)
    return { status: r.status, type: r.headers.get("content-type"), text: await r.text() }
  })
const scrape = (url: string) => get(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })

/** What the server records for a store, a refused poll and a 429 besides; `adapter` names may need escaping. */
const storeMetrics = (store: string, n: number, adapter: string) =>
  Effect.gen(function* () {
    yield* recordStore(store, n, adapter)
    yield* Metrics.increment(Metrics.polls, { store, outcome: "refused" })
    yield* Metrics.increment(Metrics.posRequests, { store, adapter, status: "429" })
  })

/** Families of this test only: other metric kinds and the corners of the format. */
const corners = Effect.gen(function* () {
  const weird = Metric.gauge("text.corner-gauge", { description: 'help with a \\ backslash,\na newline and "quotes"' })
  yield* Metric.set(Metric.tagged(weird, "store", 'st"o\\re\nid'), Number.NaN)
  yield* Metric.set(Metric.tagged(weird, "store", "text-minus"), Number.NEGATIVE_INFINITY)
  yield* Metric.set(Metric.tagged(Metric.tagged(weird, "store", "first"), "store", "text-last"), 1.5)
  // Store ids cannot hold these (StoreId), the metrics could: escaped, and filtered by owner, all the same.
  yield* Metrics.setStoreGauges('text-"odd\\id\n', storeStats(5))
  yield* Metrics.setStoreGauges('text-"odd\\other\n', storeStats(6))
  const sized = Metric.counter("text_bytes_total", { incremental: true })
  yield* Metric.incrementBy(Metric.tagged(Metric.tagged(sized, "store", "text-a"), "unit", "By"), 2048)
  const upDown = Metric.counter("text_up_down", { description: "A counter that may go down." })
  yield* Metric.incrementBy(Metric.tagged(upDown, "store", "text-a"), -3)
  const big = Metric.counter("text_big", { bigint: true, incremental: true })
  yield* Metric.incrementBy(Metric.tagged(big, "store", "text-a"), BigInt("9007199254740993"))
  const unlabelled = Metric.counter("text_no_store", { incremental: true })
  yield* Metric.increment(Metric.tagged(unlabelled, "kind", "plain"))
  const frequency = Metric.frequency("text_frequency", { description: "How often each word came." })
  yield* Metric.update(Metric.tagged(frequency, "store", "text-a"), "hello")
  yield* Metric.update(Metric.tagged(frequency, "store", "text-a"), 'wor"ld')
  const summary = Metric.summary({
    name: "text_summary",
    maxAge: "1 hour",
    maxSize: 10,
    error: 0.01,
    quantiles: [0.5, 0.99],
    description: "A summary."
  })
  for (const v of [1, 2, 3]) yield* Metric.update(Metric.tagged(summary, "store", "text-a"), v)
  const histogram = Metric.histogram("text_histogram", MetricBoundaries.linear({ start: 0, width: 1, count: 3 }))
  for (const v of [0.5, 1.5, 9]) yield* Metric.update(Metric.tagged(histogram, "store", "text-a"), v)
})

describe("/metrics text", () => {
  it.scopedLive("holds sample for sample what the OpenTelemetry exporter writes, owned stores' gauges only", () =>
    Effect.gen(function* () {
      yield* storeMetrics("text-owned-1", 1, "heartland")
      yield* storeMetrics("text-owned-2", 2, 'C:\\adapters\\"my pos"\nv2')
      yield* storeMetrics("text-other-3", 3, "lightspeed")
      yield* storeMetrics("text-other-4", 4, "back\\slash")
      yield* corners
      yield* Metric.update(Metric.tagged(Metrics.exportPageSeconds, "page", "first"), 0.004)
      yield* Metric.update(Metric.tagged(Metrics.syncSeconds, "outcome", "succeeded"), 1.2)
      yield* Metric.update(Metrics.saveToPollSeconds, 42)
      const owned = new Set(["text-owned-1", "text-owned-2", 'text-"odd\\id\n'])
      const before = yield* exporterListener(runner, () => owned)
      const now = yield* served(() => owned)

      const expected = yield* get(`${before}/metrics`)
      const actual = yield* scrape(now)
      expect(actual.status).toBe(200)
      expect(actual.type).toBe(expected.type)
      expect(differences(actual.text, expected.text)).toEqual({ missing: [], extra: [] })

      // The registry is what the comparison is about: owned and not-owned stores, escapes, every write-back state.
      const text = actual.text
      for (const state of ["pending", "in-flight", "done", "dead", "attention"]) {
        expect(text).toContain(`posbridge_outbox_items{store="text-owned-2",state="${state}",runner="${runner}"}`)
      }
      expect(text).not.toMatch(/posbridge_(documents|outbox_items|held_orders)\{store="text-(other-|\\"odd\\\\other)/)
      expect(text).toContain(`posbridge_held_orders{store="text-\\"odd\\\\id\\n",runner="${runner}"} 2`)
      expect(text).toContain(`posbridge_polls_total{store="text-other-3",outcome="served",runner="${runner}"} 4`)
      expect(text).toContain('adapter="C:\\\\adapters\\\\\\"my pos\\"\\nv2"')
      expect(text).toContain('# HELP text_corner_gauge help with a \\\\ backslash,\\na newline and "quotes"')
      expect(text).toContain("# UNIT text_bytes_total By")
      expect(text).toMatch(/^posbridge_export_page_seconds_bucket\{page="first",runner="[^"]+",le="0.005"\} 1$/m)

      // A store moving to another runner leaves this runner's text at the next scrape, in both.
      owned.delete("text-owned-1")
      owned.add("text-other-4")
      const movedText = (yield* scrape(now)).text
      expect(differences(movedText, (yield* get(`${before}/metrics`)).text)).toEqual({ missing: [], extra: [] })
      const moved = lines(movedText)
      expect(
        moved.some((l) => l.startsWith('posbridge_documents{runner="runner-text:34431",store="text-other-4"}'))
      ).toBe(true)
      expect(
        moved.some((l) => l.includes('posbridge_documents{runner="runner-text:34431",store="text-owned-1"}'))
      ).toBe(false)
    })
  )

  it.scopedLive("wants the bearer token, answers HEAD, and nothing but /metrics", () =>
    Effect.gen(function* () {
      const url = yield* served(() => new Set())
      expect((yield* get(`${url}/metrics`)).status).toBe(401)
      expect((yield* get(`${url}/metrics`, { headers: { authorization: "Bearer text-token-xxxx" } })).status).toBe(401)
      const head = yield* get(`${url}/metrics`, { method: "HEAD", headers: { authorization: `Bearer ${token}` } })
      expect(head).toEqual({ status: 200, type: "text/plain", text: "" })
      expect((yield* get(`${url}/other`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404)
      expect((yield* get(`${url}/metrics`, { method: "POST" })).status).toBe(404)
    })
  )
})
