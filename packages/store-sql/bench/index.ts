/**
 * Benchmark (not a test): ingest N documents and serve export pages of 100 from a store holding them, on
 * SQLite and PostgreSQL, next to a baseline measured in the same run: the raw driver (better-sqlite3 / pg)
 * doing the same inserts and page selects with no posbridge logic (no rule, no hashing, no history, no
 * snapshot, no poll log).
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
import Database from "better-sqlite3"
import { DateTime, Effect, type Layer, Option } from "effect"
import pg from "pg"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { doc } from "../test/support/Fixtures.js"

const N = Number(process.env.POSBRIDGE_BENCH_N ?? 100_000)
const engines = (process.env.POSBRIDGE_BENCH_ENGINES ?? "sqlite,pg").split(",")
const pgServer = process.env.POSBRIDGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432"
const batchSize = 500
const pageSize = 100
const samples = 200
const storeId = "bench"

interface Result {
  readonly docsPerSecond: number
  readonly firstPageMs: number
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

const runPosbridge = (layer: Layer.Layer<OrderStore.OrderStore, unknown>) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const t0 = performance.now()
    for (let i = 0; i < N; i += batchSize) {
      yield* store.ingest(
        { id: storeId, kind: "invoices" },
        documents.slice(i, i + batchSize),
        Option.some(String(i + batchSize))
      )
    }
    const ingestMs = performance.now() - t0
    const now = yield* DateTime.now
    const window = OrderWindow.make(DateTime.subtract(now, { hours: 1 }), now)
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
    const result: Result = {
      docsPerSecond: N / (ingestMs / 1000),
      firstPageMs,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99)
    }
    return result
  }).pipe(Effect.provide(layer), Effect.scoped)

/** The rows posbridge stores, pre-rendered: the baseline pays only for the engine. */
const rows = documents.map((d) => ({
  pos_ref: d.order.posRef,
  kind: d.order.kind,
  order_number: d.order.orderNumber,
  order_json: JSON.stringify(Order.encode(d.order)),
  modified: DateTime.toEpochMillis(d.order.posModifiedAt),
  hash: "0000000000000000"
}))

const baselineSqlite = (filename: string): Result => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.exec(`CREATE TABLE docs (store_id TEXT NOT NULL, pos_ref TEXT NOT NULL, kind TEXT NOT NULL,
    order_number TEXT NOT NULL, order_json TEXT NOT NULL, pos_modified_ms INTEGER NOT NULL, content_hash TEXT NOT NULL,
    stamp_ms INTEGER NOT NULL, PRIMARY KEY (store_id, pos_ref));
    CREATE INDEX docs_stamp ON docs (store_id, stamp_ms, pos_ref)`)
  const insert = db.prepare("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
  const batch = db.transaction((slice: typeof rows, stamp: number) => {
    for (const r of slice)
      insert.run(storeId, r.pos_ref, r.kind, r.order_number, r.order_json, r.modified, r.hash, stamp)
  })
  const t0 = performance.now()
  for (let i = 0; i < N; i += batchSize) batch(rows.slice(i, i + batchSize), Date.now())
  const ingestMs = performance.now() - t0
  const select = db.prepare(
    "SELECT * FROM docs WHERE store_id = ? AND stamp_ms >= ? AND stamp_ms < ? ORDER BY stamp_ms, pos_ref LIMIT ? OFFSET ?"
  )
  const page = (n: number) => select.all(storeId, 0, Date.now() + 60_000, pageSize, (n - 1) * pageSize)
  const f0 = performance.now()
  page(1)
  const firstPageMs = performance.now() - f0
  const latencies = samplePages.map((n) => {
    const p0 = performance.now()
    page(n)
    return performance.now() - p0
  })
  db.close()
  return {
    docsPerSecond: N / (ingestMs / 1000),
    firstPageMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99)
  }
}

const baselinePg = async (url: string): Promise<Result> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`CREATE TABLE docs (store_id TEXT COLLATE "C" NOT NULL, pos_ref TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL, order_number TEXT NOT NULL, order_json TEXT NOT NULL, pos_modified_ms BIGINT NOT NULL,
    content_hash TEXT NOT NULL, stamp_ms BIGINT NOT NULL, PRIMARY KEY (store_id, pos_ref))`)
  await client.query("CREATE INDEX docs_stamp ON docs (store_id, stamp_ms, pos_ref)")
  const t0 = performance.now()
  for (let i = 0; i < N; i += batchSize) {
    const slice = rows.slice(i, i + batchSize)
    const stamp = Date.now()
    const params: Array<unknown> = []
    const values = slice.map((r, j) => {
      params.push(storeId, r.pos_ref, r.kind, r.order_number, r.order_json, r.modified, r.hash, stamp)
      return `(${Array.from({ length: 8 }, (_, k) => `$${j * 8 + k + 1}`).join(", ")})`
    })
    await client.query("BEGIN")
    await client.query(`INSERT INTO docs VALUES ${values.join(", ")}`, params)
    await client.query("COMMIT")
  }
  const ingestMs = performance.now() - t0
  const page = (n: number) =>
    client.query(
      "SELECT * FROM docs WHERE store_id = $1 AND stamp_ms >= $2 AND stamp_ms < $3 ORDER BY stamp_ms, pos_ref LIMIT $4 OFFSET $5",
      [storeId, 0, Date.now() + 60_000, pageSize, (n - 1) * pageSize]
    )
  const f0 = performance.now()
  await page(1)
  const firstPageMs = performance.now() - f0
  const latencies: Array<number> = []
  for (const n of samplePages) {
    const p0 = performance.now()
    await page(n)
    latencies.push(performance.now() - p0)
  }
  await client.end()
  return {
    docsPerSecond: N / (ingestMs / 1000),
    firstPageMs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99)
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
  console.log(`\n${engine}: ${N.toLocaleString("en-US")} documents, batches of ${batchSize}, pages of ${pageSize}`)
  console.log(`                        posbridge    baseline    ratio (posbridge / baseline)`)
  console.log(
    `ingest documents/s    ${f(posbridge.docsPerSecond, 0)}  ${f(baseline.docsPerSecond, 0)}  ${f(posbridge.docsPerSecond / baseline.docsPerSecond, 2)}`
  )
  console.log(
    `page 1 ms (snapshot)  ${f(posbridge.firstPageMs)}  ${f(baseline.firstPageMs)}  ${f(posbridge.firstPageMs / baseline.firstPageMs, 2)}`
  )
  console.log(
    `page p50 ms           ${f(posbridge.p50, 2)}  ${f(baseline.p50, 2)}  ${f(posbridge.p50 / baseline.p50, 2)}`
  )
  console.log(
    `page p99 ms           ${f(posbridge.p99, 2)}  ${f(baseline.p99, 2)}  ${f(posbridge.p99 / baseline.p99, 2)}`
  )
}

const main = async () => {
  if (engines.includes("sqlite")) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-bench-"))
    try {
      const posbridge = await Effect.runPromise(
        runPosbridge(SqliteStore.layer({ filename: path.join(dir, "store.db") }))
      )
      const baseline = baselineSqlite(path.join(dir, "baseline.db"))
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
      const baseline = await baselinePg(`${pgServer}/${name}`)
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
