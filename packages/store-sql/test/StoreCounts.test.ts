/**
 * Migration 0007: every store's document count is kept on its row by the database, and held documents have a
 * partial index, so `statsAll` (what `/metrics` and `/admin/status` read) counts without reading every document.
 * A database written by the code before it is upgraded in place: its counts are filled in by the migration and
 * kept from then on, by inserts and deletes from any writer. The oracle is `stats`, which counts one store's
 * documents row by row.
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

const stores = ["shop", "other", "never-synced"]

/** What the code before 0007 left: its migrations, and documents of two stores, one of them held and polled. */
const asLeftBefore0007 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id < 7)),
    table: Migrations.table
  })
  const store = yield* SqlOrderStore.make()
  yield* TestClock.setTime(baseTime)
  yield* store.ingest(
    { id: "shop", kind: "orders" },
    ["a", "b", "c"].map((posRef) => doc({ storeId: "shop", posRef, kind: "orders" })),
    Option.none()
  )
  yield* store.ingest(
    { id: "other", kind: "orders" },
    ["x", "y"].map((posRef) => doc({ storeId: "other", posRef, kind: "orders" })),
    Option.none()
  )
  yield* TestClock.setTime(baseTime + 30 * minute)
  const window = OrderWindow.make(DateTime.unsafeMake(baseTime - minute), DateTime.unsafeMake(baseTime + minute))
  const hold = (order: { readonly posRef: string }) => (order.posRef === "b" ? ["no ship-to address"] : [])
  yield* store.exportPage({ storeId: "shop", window, page: 1, pageSize: 10, hold })
})

const countsOf = (stats: OrderStore.OrderStats) => ({
  documents: stats.documents,
  waiting: stats.waitingForPoll,
  held: stats.held,
  watermark: Option.map(stats.watermark, DateTime.toEpochMillis)
})

/** statsAll agrees with stats, store by store. */
const agree = (store: OrderStore.OrderStoreService) =>
  Effect.gen(function* () {
    const all = yield* store.statsAll(stores)
    for (const id of stores) expect(countsOf(all.get(id)!)).toEqual(countsOf(yield* store.stats(id)))
    return all
  })

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.provide(asLeftBefore0007, old))
    const built = yield* Layer.build(current)
    const store = Context.get(built, OrderStore.OrderStore)
    const sql = Context.get(built, SqlClient.SqlClient)
    yield* TestClock.setTime(baseTime + 40 * minute)

    const upgraded = yield* agree(store)
    expect(countsOf(upgraded.get("shop")!)).toMatchObject({ documents: 3, waiting: 0, held: 1 })
    expect(countsOf(upgraded.get("other")!)).toMatchObject({ documents: 2, waiting: 2, held: 0 })
    expect(countsOf(upgraded.get("never-synced")!)).toMatchObject({ documents: 0, waiting: 0, held: 0 })

    // Kept from then on: a new document and a re-saved one through ingest, a delete by plain SQL.
    yield* store.ingest(
      { id: "shop", kind: "orders" },
      [
        doc({ storeId: "shop", posRef: "d", kind: "orders" }),
        doc({ storeId: "shop", posRef: "a", kind: "orders", total: "12.00" })
      ],
      Option.none()
    )
    yield* sql`DELETE FROM pb_documents WHERE store_id = 'other' AND pos_ref = 'x'`
    const kept = yield* agree(store)
    expect(countsOf(kept.get("shop")!)).toMatchObject({ documents: 4, waiting: 2, held: 1 })
    expect(countsOf(kept.get("other")!)).toMatchObject({ documents: 1, waiting: 1, held: 0 })
  })

describe("store counts written before migration 0007", () => {
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
  describe("store counts written before migration 0007", () => {
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
