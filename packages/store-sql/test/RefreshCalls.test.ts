/**
 * Migration 0008: the calls posbridge made to ShipStation's refresh API are kept in `pb_refresh_calls`. A database
 * written by the code before it (documents, a touch, a served poll of two pages) is upgraded in place: what it held
 * reads back as the old code showed it, and the store then records and reads refresh calls, a store's newest
 * through the index `pb_refresh_calls_store` without a sort.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Context, DateTime, Effect, Layer, Option, Redacted, type Scope, TestClock } from "effect"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlOrderStore from "../src/SqlOrderStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute } from "./support/Fixtures.js"

/** What a store shows of its data: the figures an upgrade must keep. */
const shown = (store: OrderStore.OrderStoreService) =>
  Effect.gen(function* () {
    const stats = yield* store.stats("shop")
    const history = (posRef: string) =>
      Effect.map(store.explain("shop", posRef), (e) =>
        e.history.map((h) => [h._tag, DateTime.toEpochMillis(h.at), h._tag === "Restamped" ? h.reason : null])
      )
    return {
      documents: [stats.documents, (yield* store.stats("other")).documents],
      watermark: Option.map(stats.watermark, DateTime.toEpochMillis),
      polls: (yield* store.polls("shop", 0)).map((p) => [DateTime.toEpochMillis(p.at), p.page, p.pages, p.count]),
      a: yield* history("a"),
      b: yield* history("b")
    }
  })

/** What the code before 0008 left: its migrations, documents of two stores, a touch and a poll of two pages. */
const asLeftBefore0008 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id < 8)),
    table: Migrations.table
  })
  return yield* Effect.scoped(
    Effect.gen(function* () {
      const store = yield* SqlOrderStore.make()
      yield* TestClock.setTime(baseTime)
      yield* store.ingest(
        { id: "shop", kind: "orders" },
        ["a", "b"].map((posRef) => doc({ storeId: "shop", posRef, kind: "orders" })),
        Option.none()
      )
      yield* store.ingest(
        { id: "other", kind: "orders" },
        [doc({ storeId: "other", posRef: "x", kind: "orders" })],
        Option.none()
      )
      yield* TestClock.setTime(baseTime + 2 * minute)
      yield* store.touch("shop", "b")
      yield* TestClock.setTime(baseTime + 5 * minute)
      const window = OrderWindow.make(
        DateTime.unsafeMake(baseTime - minute),
        DateTime.unsafeMake(baseTime + 5 * minute)
      )
      yield* store.exportPage({ storeId: "shop", window, page: 1, pageSize: 1 })
      yield* store.exportPage({ storeId: "shop", window, page: 2, pageSize: 1 })
      return yield* shown(store)
    })
  )
})

/** The query plan of "shop's newest 5 refresh calls", as one text. */
const newestPlan = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () =>
      sql.withTransaction(
        Effect.gen(function* () {
          // The table is tiny: left alone, the planner rightly reads it whole (or by bitmap, then sorts), which says
          // nothing of whether the index can serve the order. Sorting stays allowed: a plan with a Sort fails.
          yield* sql`SET LOCAL enable_seqscan = off`
          yield* sql`SET LOCAL enable_bitmapscan = off`
          const rows = yield* sql<{ readonly "QUERY PLAN": string }>`EXPLAIN SELECT * FROM pb_refresh_calls
            WHERE store_id = 'shop' ORDER BY at_ms DESC, seq DESC LIMIT 5`
          return rows.map((row) => row["QUERY PLAN"]).join("\n")
        })
      ),
    orElse: () =>
      Effect.map(
        sql<{ readonly detail: string }>`EXPLAIN QUERY PLAN SELECT * FROM pb_refresh_calls
          WHERE store_id = 'shop' ORDER BY at_ms DESC, seq DESC LIMIT 5`,
        (rows) => rows.map((row) => row.detail).join("\n")
      )
  })

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const before = yield* Effect.scoped(Effect.provide(asLeftBefore0008, old))
    expect(before.polls.map((p) => p[1])).toEqual([2, 1])
    expect(before.b.map((h) => h[2] ?? h[0])).toEqual(["Inserted", "touched", "Exported"])

    const built = yield* Layer.build(current)
    const store = Context.get(built, OrderStore.OrderStore)
    const sql = Context.get(built, SqlClient.SqlClient)
    const applied = yield* sql<{ readonly migration_id: unknown; readonly name: string }>`SELECT migration_id, name
      FROM ${sql(Migrations.table)} ORDER BY migration_id`
    expect(applied.map((row) => [Number(row.migration_id), row.name]).at(-1)).toEqual([8, "refresh_calls"])
    expect(yield* shown(store)).toEqual(before)
    expect(yield* store.refreshCalls("shop", 10)).toEqual([])

    yield* TestClock.setTime(baseTime + 10 * minute)
    const call = (at: number, reason: OrderStore.RefreshReason, posRef: Option.Option<string>) =>
      store.recordRefresh({
        storeId: "shop",
        at: DateTime.unsafeMake(at),
        reason,
        posRef,
        outcome: "requested",
        message: Option.none()
      })
    yield* call(baseTime + 6 * minute, "touch", Option.some("a"))
    yield* call(baseTime + 9 * minute, "arrival", Option.none())
    const calls = yield* store.refreshCalls("shop", 10)
    expect(calls.map((c) => [DateTime.toEpochMillis(c.at) - baseTime, c.reason, Option.getOrNull(c.posRef)])).toEqual([
      [9 * minute, "arrival", null],
      [6 * minute, "touch", "a"]
    ])
    expect(yield* store.refreshCalls("other", 10)).toEqual([])
    // What was there before is untouched by the new table.
    expect(yield* shown(store)).toEqual(before)

    const plan = yield* newestPlan(sql)
    expect(plan).toContain("pb_refresh_calls_store")
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/)
  })

describe("refresh calls on a database written before migration 0008", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(
        SqliteClient.layer({ filename }),
        SqliteStore.layer({ filename, synchronous: "normal" }).pipe(Layer.merge(SqliteClient.layer({ filename })))
      )
    })
  )
})

await withPostgres(() =>
  describe("refresh calls on a database written before migration 0008", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(
          PgClient.layer({ url: Redacted.make(url) }),
          PgStore.layer({ url }).pipe(Layer.merge(PgClient.layer({ url: Redacted.make(url) })))
        )
      })
    )
  })
)
