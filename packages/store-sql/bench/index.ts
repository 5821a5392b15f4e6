/**
 * Benchmark (not a test): ingest N documents and serve export pages of 100 from a store holding them, on
 * SQLite and PostgreSQL, next to a baseline measured in the same run: the raw driver (better-sqlite3 / pg) doing
 * the same work with no posbridge logic (`raw.ts`: the same rows per ingest batch, the same snapshot frozen by
 * page 1, later pages looked up by position in it).
 *
 * Batch k is stamped at minute 2k (the store's Clock is set per batch), so windows of known size exist: page 1 is
 * measured on the whole store (one window of N members) and, several times, on 1,000-member windows (two
 * batches), which is what one poll's page 1 freezes in a store that has served for a while.
 *
 *   pnpm --filter @posbridge/store-sql bench          # N = 100,000
 *   POSBRIDGE_BENCH_N=5000 pnpm --filter @posbridge/store-sql bench
 *   POSBRIDGE_BENCH_ENGINES=sqlite                     # only one engine
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { Order, OrderStore, OrderWindow, type SourceDocument } from "@posbridge/core"
import { Clock, DateTime, Effect, type Layer, Option } from "effect"
import pg from "pg"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { doc } from "../test/support/Fixtures.js"
import * as Raw from "./raw.js"

const N = Number(process.env.POSBRIDGE_BENCH_N ?? 100_000)
const engines = (process.env.POSBRIDGE_BENCH_ENGINES ?? "sqlite,pg").split(",")
const pgServer = process.env.POSBRIDGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432"
const batchSize = 500
const pageSize = 100
const samples = 200
const firstPageSamples = 9
const storeId = "bench"
/** `explain`: a store polled this many times, each poll's page listing one of ten orders (each in a tenth). */
const explainPolls = Number(process.env.POSBRIDGE_BENCH_POLLS ?? 10_000)
const explainStore = "bench-explain"
const minute = 60_000
const base = Date.UTC(2026, 0, 1)
const batches = Math.ceil(N / batchSize)
/** Batch k's stamp. */
const stampOf = (k: number) => base + 2 * k * minute
/** After every stamp: when pages are served. */
const servedAt = stampOf(batches + 10)

interface Result {
  readonly explainP50?: number | undefined
  readonly docsPerSecond: number
  readonly firstPageMs: number
  readonly firstPageSmallP50: number
  readonly p50: number
  readonly p99: number
}

const percentile = (xs: ReadonlyArray<number>, p: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

const documents: ReadonlyArray<SourceDocument.SourceDocument> = Array.from({ length: N }, (_, i) =>
  doc({ storeId, posRef: String(100_000_000 + i), total: `${(i % 997) + 1}.25` })
)
const pagesTotal = Math.ceil(N / pageSize)
// The same random pages (2..last) for posbridge and the baseline.
const samplePages = Array.from({ length: samples }, () => 2 + Math.floor(Math.random() * Math.max(1, pagesTotal - 1)))
/** Batches k (k, k + 1 make a 1,000-member window) spread over the store, the same for both. */
const smallWindows = Array.from({ length: firstPageSamples }, (_, j) =>
  Math.min(batches - 2, Math.floor(((j + 0.5) * (batches - 1)) / firstPageSamples))
)
/** Window [stamp k, stamp k+1]: its exclusive end (`OrderWindow.endExclusive`) is a minute after stamp k+1. */
const smallWindow = (k: number) => ({ start: stampOf(k), end: stampOf(k + 1) })
const wholeWindow = { start: stampOf(0), end: stampOf(batches - 1) }

/** Wall-clock sleeps and timers, and a time that the bench sets: the stamps and the serving time. */
const benchClock = (() => {
  const wall = Clock.make()
  let now = base
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (d) => wall.sleep(d)
  }
  const set = (ms: number) => {
    now = ms
  }
  return { clock, set }
})()

const orderWindow = (w: { start: number; end: number }) =>
  OrderWindow.make(DateTime.unsafeMake(w.start), DateTime.unsafeMake(w.end))

const runPosbridge = (layer: Layer.Layer<OrderStore.OrderStore, unknown>) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    let ingestMs = 0
    for (let k = 0; k < batches; k++) {
      benchClock.set(stampOf(k))
      const t0 = performance.now()
      yield* store.ingest(
        { id: storeId, kind: "invoices" },
        documents.slice(k * batchSize, (k + 1) * batchSize),
        Option.some(String((k + 1) * batchSize))
      )
      ingestMs += performance.now() - t0
    }
    benchClock.set(servedAt)
    const smallLatencies: Array<number> = []
    for (const k of smallWindows) {
      const f0 = performance.now()
      const first = yield* store.exportPage({ storeId, window: orderWindow(smallWindow(k)), page: 1, pageSize })
      smallLatencies.push(performance.now() - f0)
      if (first.total !== 2 * batchSize) throw new Error(`expected ${2 * batchSize} in the window, got ${first.total}`)
    }
    const window = orderWindow(wholeWindow)
    const f0 = performance.now()
    const first = yield* store.exportPage({ storeId, window, page: 1, pageSize })
    const firstPageMs = performance.now() - f0
    if (first.total !== N) throw new Error(`expected ${N} documents in the window, got ${first.total}`)
    const latencies: Array<number> = []
    for (const page of samplePages) {
      const p0 = performance.now()
      const answer = yield* store.exportPage({ storeId, window, page, pageSize })
      latencies.push(performance.now() - p0)
      if (answer.snapshotCreated || answer.orders.length === 0) throw new Error(`page ${page} was not served`)
    }
    // `explain` of an order exported by explainPolls / 10 pages, in a store that served explainPolls pages.
    const explained = Array.from({ length: 10 }, (_, j) => doc({ storeId: explainStore, posRef: `E${j}` }))
    for (const [j, d] of explained.entries()) {
      benchClock.set(servedAt + j * minute)
      yield* store.ingest({ id: explainStore, kind: "invoices" }, [d], Option.none())
    }
    benchClock.set(servedAt + 30 * minute)
    const orderOf = (i: number) => i % 10
    yield* Effect.forEach(
      Array.from({ length: explainPolls }, (_, i) => i),
      (i) => {
        const at = servedAt + orderOf(i) * minute
        return store.exportPage({
          storeId: explainStore,
          window: orderWindow({ start: at, end: at }),
          page: 1,
          pageSize
        })
      },
      { concurrency: 10, discard: true }
    )
    const explainLatencies: Array<number> = []
    for (let i = 0; i < 30; i++) {
      const e0 = performance.now()
      const explanation = yield* store.explain(explainStore, `E${orderOf(i)}`)
      explainLatencies.push(performance.now() - e0)
      const exports = explanation.history.filter((e) => e._tag === "Exported").length
      if (exports !== explainPolls / 10)
        throw new Error(`explain: expected ${explainPolls / 10} exports, got ${exports}`)
    }
    const result: Result = {
      explainP50: percentile(explainLatencies, 50),
      docsPerSecond: N / (ingestMs / 1000),
      firstPageMs,
      firstPageSmallP50: percentile(smallLatencies, 50),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99)
    }
    return result
  }).pipe(Effect.provide(layer), Effect.scoped, Effect.withClock(benchClock.clock))

/** The rows posbridge stores, pre-rendered: the baseline pays only for the engine. */
const rows: ReadonlyArray<Raw.RawRow> = documents.map((d) => ({
  pos_ref: d.order.posRef,
  kind: d.order.kind,
  order_number: d.order.orderNumber,
  order_json: JSON.stringify(Order.encode(d.order)),
  modified: DateTime.toEpochMillis(d.order.posModifiedAt),
  hash: "0000000000000000"
}))

const runRaw = async (raw: Raw.RawStore): Promise<Result> => {
  try {
    let ingestMs = 0
    for (let k = 0; k < batches; k++) {
      const t0 = performance.now()
      await raw.ingest(rows.slice(k * batchSize, (k + 1) * batchSize), stampOf(k), String((k + 1) * batchSize))
      ingestMs += performance.now() - t0
    }
    const exclusive = (w: { start: number; end: number }) => ({ start: w.start, endExclusive: w.end + minute })
    const smallLatencies: Array<number> = []
    for (const k of smallWindows) {
      const f0 = performance.now()
      const first = await raw.firstPage(exclusive(smallWindow(k)), servedAt, pageSize)
      smallLatencies.push(performance.now() - f0)
      if (first.total !== 2 * batchSize) throw new Error(`raw: expected ${2 * batchSize}, got ${first.total}`)
    }
    const window = exclusive(wholeWindow)
    const f0 = performance.now()
    const first = await raw.firstPage(window, servedAt, pageSize)
    const firstPageMs = performance.now() - f0
    if (first.total !== N) throw new Error(`raw: expected ${N} documents in the window, got ${first.total}`)
    const latencies: Array<number> = []
    for (const page of samplePages) {
      const p0 = performance.now()
      const served = await raw.laterPage(window, servedAt, page, pageSize)
      latencies.push(performance.now() - p0)
      if (served === 0) throw new Error(`raw: page ${page} was not served`)
    }
    return {
      docsPerSecond: N / (ingestMs / 1000),
      firstPageMs,
      firstPageSmallP50: percentile(smallLatencies, 50),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99)
    }
  } finally {
    await raw.close()
  }
}

const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: `${pgServer}/postgres` })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

const report = (engine: string, posbridge: Result, baseline: Result) => {
  const f = (n: number, digits = 1) => n.toFixed(digits).padStart(10)
  const row = (label: string, a: number, b: number, digits = 1) =>
    console.log(`${label.padEnd(34)}${f(a, digits)}  ${f(b, digits)}  ${f(a / b, 2)}`)
  console.log(`\n${engine}: ${N.toLocaleString("en-US")} documents, batches of ${batchSize}, pages of ${pageSize}`)
  console.log(`${"".padEnd(34)} posbridge  raw (same work)  ratio (posbridge / raw)`)
  row("ingest documents/s", posbridge.docsPerSecond, baseline.docsPerSecond, 0)
  row(`page 1 ms, ${N.toLocaleString("en-US")}-member window`, posbridge.firstPageMs, baseline.firstPageMs)
  row(`page 1 p50 ms, 1,000-member (${firstPageSamples}×)`, posbridge.firstPageSmallP50, baseline.firstPageSmallP50, 2)
  row(`later page p50 ms (${samples}×)`, posbridge.p50, baseline.p50, 2)
  row("later page p99 ms", posbridge.p99, baseline.p99, 2)
  console.log(
    `explain p50 ms, an order in ${(explainPolls / 10).toLocaleString("en-US")} pages of ${explainPolls.toLocaleString("en-US")} polls: ${posbridge.explainP50?.toFixed(2)} (target ≤ 10)`
  )
}

const main = async () => {
  if (engines.includes("sqlite")) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-bench-"))
    try {
      const posbridge = await Effect.runPromise(
        runPosbridge(SqliteStore.layer({ filename: path.join(dir, "store.db") }))
      )
      const baseline = await runRaw(Raw.sqlite(path.join(dir, "baseline.db"), storeId))
      report("SQLite (WAL, synchronous=FULL)", posbridge, baseline)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  if (engines.includes("pg")) {
    const name = `posbridge_bench_${Date.now()}`
    await admin(`CREATE DATABASE ${name}`)
    try {
      const posbridge = await Effect.runPromise(runPosbridge(PgStore.layer({ url: `${pgServer}/${name}` })))
      const baseline = await runRaw(await Raw.postgres(`${pgServer}/${name}`, storeId))
      report("PostgreSQL", posbridge, baseline)
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
