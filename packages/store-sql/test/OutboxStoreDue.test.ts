/**
 * Migration 0005: one store's due write-backs are read through an index of their own. A database written by the
 * code before it (outbox items of two stores, in every state) is upgraded in place; afterwards each store's claim
 * takes exactly its due items, and both engines' planners read them through `pb_outbox_store_due` even when the
 * outbox holds thousands of finished items of many stores (and read only due items for the runner's look).
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import type * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, ShipNotice } from "@posbridge/core"
import { Context, Duration, Effect, Layer, Redacted, Schema, type Scope, TestClock } from "effect"
import * as Dialect from "../src/internal/Dialect.js"
import { dueItems, dueStoreIds } from "../src/internal/Outbox.js"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlOrderStore from "../src/SqlOrderStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"

const now = 1_000_000

/** The items the code before 0005 left: id, store, state, next attempt. */
const items: ReadonlyArray<readonly [string, string, OrderStore.OutboxState, number]> = [
  ["a-pending", "a", "pending", now - 10],
  ["a-done", "a", "done", now - 20],
  ["a-lease-ended", "a", "in-flight", now - 30],
  ["a-leased", "a", "in-flight", now + 60_000],
  ["a-retry-later", "a", "pending", now + 60_000],
  ["a-dead", "a", "dead", now - 40],
  ["a-attention", "a", "attention", now - 50],
  ["b-pending", "b", "pending", now - 60]
]

/** What the code before 0005 left: every migration before it, and the items above. */
const asLeftBefore0005 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id < 5)),
    table: Migrations.table
  })
  const sql = yield* SqlClient.SqlClient
  for (const [id, storeId, state, next] of items) {
    const notice: ShipNotice.ShipNotice = {
      storeId: storeId as never,
      orderNumber: id,
      carrier: "UPS",
      trackingNumber: id,
      items: []
    }
    const json = JSON.stringify(Schema.encodeSync(ShipNotice.ShipNotice)(notice))
    yield* sql`INSERT INTO pb_ship_notices ${sql.insert({
      notice_id: `notice-${id}`,
      idempotency_key: id,
      store_id: storeId,
      pos_ref: null,
      notice_json: json,
      received_ms: 0
    })}`
    yield* sql`INSERT INTO pb_outbox ${sql.insert({
      outbox_id: id,
      store_id: storeId,
      notice_id: `notice-${id}`,
      pos_ref: null,
      notice_json: json,
      state,
      attempts: 1,
      next_attempt_ms: next,
      last_error: null,
      result: null,
      updated_ms: 0
    })}`
  }
})

/** 20,000 finished write-backs of 50 stores and a few due ones: the outbox of a server that has run a while. */
const manyFinished = (sql: SqlClient.SqlClient) =>
  sql`WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
    INSERT INTO pb_outbox (outbox_id, store_id, notice_id, pos_ref, notice_json, state, attempts,
      next_attempt_ms, last_error, result, updated_ms)
    SELECT 'bulk-' || n, 'bulk-store-' || (n % 50), 'bulk-notice-' || n, NULL, '{}',
      CASE WHEN n % 1000 = 0 THEN 'pending' ELSE 'done' END, 1, n, NULL, NULL, n
    FROM g`

/** The plan of a statement, as the engine explains it. */
const planOf = (statement: (sql: SqlClient.SqlClient, d: Dialect.Dialect) => Statement.Statement<unknown>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const d = Dialect.of(sql)
    const [text, params] = statement(sql, d).compile()
    const rows = yield* sql.unsafe<Record<string, unknown>>(
      `${d.name === "pg" ? "EXPLAIN" : "EXPLAIN QUERY PLAN"} ${text}`,
      params
    )
    return rows.map((row) => String(row["QUERY PLAN"] ?? row.detail)).join("\n")
  })

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.provide(asLeftBefore0005, old))
    const context = yield* Layer.build(current)
    const store = Context.get(context, OrderStore.OrderStore)
    yield* TestClock.setTime(now)
    const claim = (storeId: string) =>
      Effect.map(store.claimWriteBacks({ storeId, limit: 10, leaseFor: Duration.minutes(5) }), (claimed) =>
        claimed.map((o) => o.id)
      )
    expect(yield* claim("a")).toEqual(["a-lease-ended", "a-pending"])
    expect(yield* claim("a")).toEqual([])
    expect(yield* claim("b")).toEqual(["b-pending"])

    const plan = yield* Effect.provide(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* manyFinished(sql)
        yield* sql`ANALYZE`
        return {
          claim: yield* planOf((sql, d) => dueItems(sql, d, { at: now, limit: 1, storeId: "bulk-store-7" })),
          look: yield* planOf((sql) => dueStoreIds(sql, now))
        }
      }),
      context
    )
    // One store's claim reads the new index; the runner's look for stores with due items reads only due items
    // too (through 0001's pb_outbox_due (state, next_attempt_ms) or the new one), never the whole outbox.
    expect(plan.claim).toContain("pb_outbox_store_due")
    expect(plan.look).toMatch(/pb_outbox_due|pb_outbox_store_due/)
  })

describe("one store's due write-backs after upgrading to migration 0005", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(
        SqliteClient.layer({ filename }),
        SqlOrderStore.layer({}).pipe(Layer.provideMerge(SqliteStore.layerClient({ filename, synchronous: "normal" })))
      )
    })
  )
})

await withPostgres(() =>
  describe("one store's due write-backs after upgrading to migration 0005", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(
          PgClient.layer({ url: Redacted.make(url) }),
          SqlOrderStore.layer({}).pipe(Layer.provideMerge(PgStore.layerClient({ url })))
        )
      })
    )
  })
)
