/**
 * Migration 0006: `explain` finds the pages that exported an order through `pb_exported_refs`. A database written
 * by the code before it (export pages recorded only as `ExportedPage` history rows listing their POS ids) is
 * upgraded in place: its pages are indexed by the migration, so `explain` still shows them, next to the pages
 * served after the upgrade, and only for the POS id and store they listed.
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
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute } from "./support/Fixtures.js"

/** What the code before 0006 left: every migration before it and three served pages of two stores. */
const asLeftBefore0006 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id < 6)),
    table: Migrations.table
  })
  const sql = yield* SqlClient.SqlClient
  const page = (storeId: string, at: number, page: number, refs: ReadonlyArray<string>) =>
    sql`INSERT INTO pb_history ${sql.insert({
      store_id: storeId,
      pos_ref: "",
      at_ms: at,
      event: "ExportedPage",
      reason: null,
      pos_modified_ms: null,
      stamp_ms: null,
      content_hash: null,
      detail: JSON.stringify({ start: baseTime, end: baseTime + 10 * minute, page, pages: 2, refs })
    })}`
  yield* page("shop", baseTime + minute, 1, ["a", "a1"])
  yield* page("shop", baseTime + minute, 2, ["b"])
  yield* page("other-shop", baseTime + minute, 1, ["a"])
})

const exportedAt = (explanation: OrderStore.Explanation) =>
  explanation.history.flatMap((e) => (e._tag === "Exported" ? [[DateTime.toEpochMillis(e.at), e.page]] : []))

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.provide(asLeftBefore0006, old))
    const store = Context.get(yield* Layer.build(current), OrderStore.OrderStore)
    yield* TestClock.setTime(baseTime)
    const ref = { id: "shop", kind: "orders" as const }
    yield* store.ingest(
      ref,
      ["a", "a1", "b"].map((posRef) => doc({ storeId: "shop", posRef, kind: "orders" })),
      Option.none()
    )
    expect(exportedAt(yield* store.explain("shop", "a"))).toEqual([[baseTime + minute, 1]])
    expect(exportedAt(yield* store.explain("shop", "b"))).toEqual([[baseTime + minute, 2]])

    // Pages served after the upgrade are indexed as they are written: page 1 durably, page 2 written behind.
    const later = baseTime + 20 * minute
    yield* TestClock.setTime(later)
    const window = OrderWindow.make(DateTime.unsafeMake(baseTime - minute), DateTime.unsafeMake(baseTime + minute))
    for (const page of [1, 2]) yield* store.exportPage({ storeId: "shop", window, page, pageSize: 2 })
    expect(exportedAt(yield* store.explain("shop", "a"))).toEqual([
      [baseTime + minute, 1],
      [later, 1]
    ])
    expect(exportedAt(yield* store.explain("shop", "b"))).toEqual([
      [baseTime + minute, 2],
      [later, 2]
    ])
  })

describe("export pages written before migration 0006", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(SqliteClient.layer({ filename }), SqliteStore.layer({ filename, synchronous: "normal" }))
    })
  )
})

await withPostgres(() =>
  describe("export pages written before migration 0006", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(PgClient.layer({ url: Redacted.make(url) }), PgStore.layer({ url }))
      })
    )
  })
)
