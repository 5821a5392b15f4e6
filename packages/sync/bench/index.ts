/**
 * A 30-day backfill of N documents (default 50,000; env BENCH_DOCS) through the engine into a SQLite file,
 * printing progress like the CLI would, documents/s and peak RSS; then the same documents ingested directly
 * (same page size, one loop, no engine) into a fresh file as the baseline, and the ratio.
 *
 *   pnpm --filter @posbridge/sync bench
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { OrderStore, type PosSource } from "@posbridge/core"
import { SqliteStore } from "@posbridge/store-sql"
import { DateTime, Effect, Layer, Logger, LogLevel, Option, Stream } from "effect"
import * as SyncEngine from "../src/SyncEngine.js"
import { order, settings } from "../test/support/FakePos.js"

const docs = Number(process.env.BENCH_DOCS ?? 50_000)
const pageSize = Number(process.env.BENCH_PAGE ?? 200)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-sync-bench-"))

let peakRss = 0
/** Peak RSS while the engine backfills (the baseline runs afterwards in the same process). */
let enginePeakRss = 0
let inEngine = false
const sampleRss = () => {
  const rss = process.memoryUsage().rss
  peakRss = Math.max(peakRss, rss)
  if (inEngine) enginePeakRss = Math.max(enginePeakRss, rss)
}
const sampler = setInterval(sampleRss, 50)
console.log(`rss at start (node + bundled modules): ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB`)
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`

// The POS side is synthesized page by page (document i is a pure function of i), so the RSS measured is the
// engine's and the store's, not a 50,000-order fixture held in memory.
const start = Date.now()
const spacing = Math.floor((30 * 24 * 3_600_000) / (docs + 1))
const page = (from: number) =>
  Array.from({ length: Math.max(0, Math.min(pageSize, docs - from)) }, (_, k) => ({
    order: order("bench", from + k, DateTime.unsafeMake(start - (docs - from - k) * spacing))
  }))
const source: PosSource.PosSourceService = {
  adapterId: "bench",
  pull: (cursor) =>
    Stream.paginateEffect(Number(Option.getOrElse(cursor, () => "0")), (from) =>
      Effect.sync(() => {
        const documents = page(from)
        const next = from + documents.length
        const batch: PosSource.PullBatch = {
          documents,
          cursor: String(next),
          progress: { pages: Math.ceil(next / pageSize), seen: next }
        }
        return [batch, next < docs ? Option.some(next) : Option.none()] as const
      })
    ),
  recordShipment: () => Effect.succeed({ summary: "" })
}

const viaEngine = Effect.gen(function* () {
  const engine = yield* SyncEngine.SyncEngine
  yield* engine.setStores([{ settings: settings("bench"), source, intervalMillis: 3_600_000 }])
  const t0 = performance.now()
  let lastLine = 0
  yield* engine.progress("bench").pipe(
    Stream.runForEach((p) =>
      Effect.sync(() => {
        sampleRss()
        if (p.done || performance.now() - lastLine > 1_000) {
          lastLine = performance.now()
          const eta = Option.match(p.etaMillis, { onNone: () => "?", onSome: (ms) => `${(ms / 1000).toFixed(0)} s` })
          const left = Option.match(p.backlog, { onNone: () => "?", onSome: String })
          console.log(
            `  backfill: ${p.seen} documents, ${p.pages} pages, ${p.docsPerSecond.toFixed(0)} docs/s, ` +
              `~${left} left, eta ${eta}, rss ${mb(process.memoryUsage().rss)}`
          )
        }
      })
    )
  )
  const seconds = (performance.now() - t0) / 1000
  const status = yield* engine.status("bench")
  const store = yield* OrderStore.OrderStore
  const stored = (yield* store.stats("bench")).documents
  return { seconds, ingested: status.documentsIngested, stored }
}).pipe(
  Effect.provide(
    Layer.provideMerge(SyncEngine.layer({ jitter: 0 }), SqliteStore.layer({ filename: path.join(dir, "engine.db") }))
  )
)

const baseline = Effect.gen(function* () {
  const store = yield* OrderStore.OrderStore
  const t0 = performance.now()
  for (let i = 0; i < docs; i += pageSize) {
    yield* store.ingest({ id: "bench", kind: "orders" }, page(i), Option.some(String(i + pageSize)))
    sampleRss()
  }
  return (performance.now() - t0) / 1000
}).pipe(Effect.provide(SqliteStore.layer({ filename: path.join(dir, "baseline.db") })))

const main = Effect.gen(function* () {
  console.log(`30-day backfill of ${docs} documents, ${pageSize} per page, into SQLite (${dir})`)
  inEngine = true
  const engine = yield* viaEngine
  sampleRss()
  inEngine = false
  const engineRate = engine.ingested / engine.seconds
  console.log(
    `engine:   ${engine.ingested} documents (${engine.stored} stored) in ${engine.seconds.toFixed(1)} s = ${engineRate.toFixed(0)} docs/s`
  )
  const baseSeconds = yield* baseline
  const baseRate = docs / baseSeconds
  console.log(
    `baseline: ${docs} documents ingested directly in ${baseSeconds.toFixed(1)} s = ${baseRate.toFixed(0)} docs/s`
  )
  console.log(`ratio engine/baseline throughput: ${(engineRate / baseRate).toFixed(2)}`)
  sampleRss()
  console.log(`peak RSS during the engine's backfill: ${mb(enginePeakRss)} (target ≤ 120 MB, issue 16)`)
  console.log(`peak RSS (whole process, baseline included): ${mb(peakRss)}`)
  if (engine.stored !== docs) return yield* Effect.dieMessage(`expected ${docs} stored, got ${engine.stored}`)
})

Effect.runPromise(main.pipe(Logger.withMinimumLogLevel(LogLevel.Warning))).finally(() => {
  clearInterval(sampler)
  fs.rmSync(dir, { recursive: true, force: true })
})
