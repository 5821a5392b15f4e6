/**
 * `historyRetention`: pruning drops the poll log and export history older than it (with their index rows in
 * `pb_exported_refs`), keeps what is recent, and never drops a document's current-version event, a ship notice
 * or a write-back, whatever their age.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Context, DateTime, Duration, Effect, Layer, Option, type Scope, TestClock } from "effect"
import { countOf } from "../src/internal/Sql.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlOrderStore from "../src/SqlOrderStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute, storeId, utc } from "./support/Fixtures.js"

const day = 86_400_000

const prunes = (
  layer: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Layer.build(layer)
    const store = Context.get(context, OrderStore.OrderStore)
    const sql = Context.get(context, SqlClient.SqlClient)
    const s = storeId("retention")
    const ref = { id: s, kind: "orders" as const }
    const exportWindow = (start: number) =>
      Effect.gen(function* () {
        const w = OrderWindow.make(utc(start), utc(start + 10 * minute))
        const first = yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 1 })
        for (let page = 2; page <= first.pages; page++) {
          yield* store.exportPage({ storeId: s, window: w, page, pageSize: 1 })
        }
      })

    // 40 days ago: a and b ingested, polled (two pages: page 2 is written behind), a ship notice for a.
    yield* TestClock.setTime(baseTime)
    yield* store.ingest(
      ref,
      [doc({ storeId: s, posRef: "a", kind: "orders" }), doc({ storeId: s, posRef: "b", kind: "orders" })],
      Option.none()
    )
    yield* TestClock.setTime(baseTime + 5 * minute)
    yield* exportWindow(baseTime)
    yield* store.recordShipNotice(
      { storeId: s as never, orderNumber: "N-a", carrier: "UPS", trackingNumber: "1Z", items: [] },
      { key: `${s}|1Z`, posRef: Option.some("a") }
    )
    // 10 days ago: b changed and was polled again.
    const recent = baseTime + 30 * day
    yield* TestClock.setTime(recent)
    yield* store.ingest(
      ref,
      [doc({ storeId: s, posRef: "b", kind: "orders", posModifiedAt: recent, total: "7.00" })],
      Option.none()
    )
    yield* TestClock.setTime(recent + 5 * minute)
    yield* exportWindow(recent)

    const tags = (posRef: string) =>
      Effect.map(store.explain(s, posRef), (e) =>
        e.history.map((h) => [h._tag, DateTime.toEpochMillis(h.at) < recent ? "old" : "recent"])
      )
    expect(yield* tags("a")).toEqual([
      ["Inserted", "old"],
      ["Exported", "old"]
    ])
    expect(yield* tags("b")).toEqual([
      ["Inserted", "old"],
      ["Exported", "old"],
      ["Restamped", "recent"],
      ["Exported", "recent"]
    ])
    expect((yield* store.polls(s, 0)).length).toBe(3)

    yield* TestClock.setTime(baseTime + 40 * day)
    yield* store.pruneSnapshots

    // a has not changed in 40 days: the event of its current version stays, its old export goes.
    expect(yield* tags("a")).toEqual([["Inserted", "old"]])
    expect(yield* tags("b")).toEqual([
      ["Restamped", "recent"],
      ["Exported", "recent"]
    ])
    expect((yield* store.polls(s, 0)).map((p) => p.page)).toEqual([1])
    expect((yield* store.outbox(s)).map((o) => o.state)).toEqual(["pending"])
    expect((yield* store.explain(s, "a")).shipNotices.length).toBe(1)
    // No index row is left pointing at a page row that is gone.
    const orphans = yield* countOf(sql`SELECT COUNT(*) AS n FROM pb_exported_refs r
      WHERE NOT EXISTS (SELECT 1 FROM pb_history h WHERE h.seq = r.history_seq)`)
    expect(orphans).toBe(0)
    expect(yield* countOf(sql`SELECT COUNT(*) AS n FROM pb_exported_refs WHERE store_id = ${s}`)).toBe(1)
  })

const options = { historyRetention: Duration.days(30) }

describe("history past its retention", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* prunes(
        SqlOrderStore.layer(options).pipe(
          Layer.provideMerge(SqliteStore.layerClient({ filename, synchronous: "normal" }))
        )
      )
    })
  )
})

await withPostgres(() =>
  describe("history past its retention", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* prunes(SqlOrderStore.layer(options).pipe(Layer.provideMerge(PgStore.layerClient({ url }))))
      })
    )
  })
)
