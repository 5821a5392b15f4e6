import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { SqlClient } from "@effect/sql"
import { Effect, type Layer, Option } from "effect"
import * as HistoryBuffer from "../src/internal/HistoryBuffer.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlOrderStore from "../src/SqlOrderStore.js"
import { doc } from "../test/support/Fixtures.js"

// 10,000 page rows of 100 POS ids in store "s"; order "target" is listed in 1,000 of them.
const pages = 10_000
const rows = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k
    const refs = Array.from({ length: 100 }, (_, j) => String(100_000_000 + ((i * 100 + j) % 50_000)))
    if (i % 10 === 0) refs[0] = "target"
    return {
      store_id: "s",
      pos_ref: "",
      at_ms: i,
      event: "ExportedPage" as const,
      reason: null,
      pos_modified_ms: null,
      stamp_ms: null,
      content_hash: null,
      detail: JSON.stringify({ start: 0, end: 1, page: 2, pages: 9, refs })
    }
  })
const run = (client: Layer.Layer<SqlClient.SqlClient, unknown>, label: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const history = yield* HistoryBuffer.make(sql, {})
    for (let i = 0; i < pages; i += 500) yield* history.writeTransaction(history.insertHistory(rows(i, i + 500)))
    const store = yield* SqlOrderStore.make({})
    yield* store.ingest({ id: "s", kind: "invoices" }, [doc({ storeId: "s", posRef: "target" })], Option.none())
    const times: Array<number> = []
    let n = 0
    for (let r = 0; r < 21; r++) {
      const t0 = performance.now()
      n = (yield* store.explain("s", "target")).history.length
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    console.log(`${label}: explain of an order in ${n - 1} of ${pages} pages: p50 ${times[10]?.toFixed(2)} ms`)
  }).pipe(Effect.scoped, Effect.provide(client))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "storeside-explain-"))
const url = process.env.STORESIDE_PG
Effect.runPromise(
  Effect.gen(function* () {
    yield* run(SqliteStore.layerClient({ filename: path.join(dir, "x.db") }), "SQLite")
    if (url) yield* run(PgStore.layerClient({ url }), "PostgreSQL")
  })
).finally(() => fs.rmSync(dir, { recursive: true, force: true }))
