/**
 * Upgrading: a database left by an earlier version (migration 0001 only, with a store in it) is migrated
 * when the store opens, and serves and keeps later pages like a new one (its generation triggers work).
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Context, Effect, Layer, Option, Redacted, type Scope, TestClock } from "effect"
import init from "../src/internal/migrations/0001_init.js"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute, storeId, utc } from "./support/Fixtures.js"

/** What version 0001 left: its schema, its migration row and a store row. */
const asLeftBy0001 = (s: string) =>
  Effect.gen(function* () {
    yield* Migrator.make({})({ loader: Migrator.fromRecord({ "0001_init": init }), table: Migrations.table })
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO pb_stores (store_id, watermark_ms) VALUES (${s}, NULL)`
  })

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const s = storeId("upgrade")
    yield* Effect.scoped(Effect.provide(asLeftBy0001(s), old))
    const store = Context.get(yield* Layer.build(current), OrderStore.OrderStore)
    yield* TestClock.setTime(baseTime)
    const ref = { id: s, kind: "orders" as const }
    for (const posRef of ["a", "b", "c"]) {
      yield* store.ingest(ref, [doc({ storeId: s, posRef, kind: "orders" })], Option.none())
    }
    const window = OrderWindow.make(utc(baseTime), utc(baseTime + 10 * minute))
    const page = (n: number) => store.exportPage({ storeId: s, window, page: n, pageSize: 2 })
    expect((yield* page(1)).pages).toBe(2)
    expect((yield* page(2)).orders.map((o) => o.order.posRef)).toEqual(["c"])
    yield* store.ingest(
      ref,
      [doc({ storeId: s, posRef: "c", kind: "orders", posModifiedAt: baseTime + minute, total: "7.00" })],
      Option.none()
    )
    expect((yield* page(2)).orders.map((o) => o.order.orderTotal)).toEqual(["7.00"])
  })

describe("upgrading a database made by migration 0001", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(SqliteClient.layer({ filename }), SqliteStore.layer({ filename, synchronous: "normal" }))
    })
  )
})

await withPostgres(() =>
  describe("upgrading a database made by migration 0001", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(PgClient.layer({ url: Redacted.make(url) }), PgStore.layer({ url }))
      })
    )
  })
)
