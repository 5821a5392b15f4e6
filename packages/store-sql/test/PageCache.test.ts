/**
 * Later export pages are kept in memory with the store's document generation (migration 0002, raised by
 * triggers). These tests change documents through a second store on the same database (another replica, or
 * the CLI on the same SQLite file), or by plain SQL (an older version), between two reads of one page, and
 * require the second read to show the change: a kept page is never served once any document of the store
 * has changed, whoever changed it.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { ExportSnapshot, OrderStore, OrderWindow } from "@posbridge/core"
import { Context, Duration, Effect, Layer, Option, Redacted, type Scope, TestClock } from "effect"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute, ms, storeId, utc } from "./support/Fixtures.js"

type Pair = Effect.Effect<
  {
    readonly poller: OrderStore.OrderStoreService
    readonly writer: OrderStore.OrderStoreService
    /** Plain SQL on the same database: a writer that is not this code (an older version, a script). */
    readonly raw: SqlClient.SqlClient
  },
  unknown,
  Scope.Scope
>

const build = (layer: Layer.Layer<OrderStore.OrderStore, unknown>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, OrderStore.OrderStore))

const sqlitePair: Pair = Effect.gen(function* () {
  const filename = path.join(yield* tempDir, "store.db")
  const poller = yield* build(SqliteStore.layer({ filename, synchronous: "normal" }))
  const writer = yield* build(SqliteStore.layer({ filename, synchronous: "normal" }))
  const raw = Context.get(yield* Layer.build(SqliteClient.layer({ filename })), SqlClient.SqlClient)
  return { poller, writer, raw }
})

const pgPair: Pair = Effect.gen(function* () {
  const { url } = yield* pgDatabase
  const poller = yield* build(PgStore.layer({ url }))
  const writer = yield* build(PgStore.layer({ url }))
  const raw = Context.get(yield* Layer.build(PgClient.layer({ url: Redacted.make(url) })), SqlClient.SqlClient)
  return { poller, writer, raw }
})

const scenarios = (pair: Pair) => {
  /** Six orders, pages of two; the poller serves page 1 and reads page 2 once, so page 2 is kept. */
  const setUp = Effect.gen(function* () {
    const { poller, writer, raw } = yield* pair
    yield* TestClock.setTime(baseTime)
    const s = storeId("cache")
    const ref = { id: s, kind: "orders" as const }
    for (const posRef of ["a", "b", "c", "d", "e", "f"]) {
      yield* writer.ingest(ref, [doc({ storeId: s, posRef, kind: "orders" })], Option.none())
      yield* TestClock.adjust("1 second")
    }
    const window = OrderWindow.make(utc(baseTime), utc(baseTime + 10 * minute))
    const page = (n: number) => poller.exportPage({ storeId: s, window, page: n, pageSize: 2 })
    expect((yield* page(1)).pages).toBe(3)
    const kept = yield* page(2)
    expect(kept.orders.map((o) => o.order.posRef)).toEqual(["c", "d"])
    // Read again unchanged, the page is the kept one: the very same stored orders, not a new read of them.
    const again = yield* page(2)
    expect(again).toEqual(kept)
    expect(again.orders[0]).toBe(kept.orders[0])
    return { writer, raw, s, ref, page }
  })

  it.scoped("a content change written by another store instance shows on the kept page", () =>
    Effect.gen(function* () {
      const { writer, s, ref, page } = yield* setUp
      yield* writer.ingest(
        ref,
        [doc({ storeId: s, posRef: "c", kind: "orders", posModifiedAt: baseTime + minute, total: "42.00" })],
        Option.none()
      )
      const again = yield* page(2)
      expect(again.orders.map((o) => [o.order.posRef, o.order.orderTotal])).toEqual([
        ["c", "42.00"],
        ["d", "10.00"]
      ])
    })
  )

  it.scoped("a touch by another store instance shows on the kept page with its new stamp", () =>
    Effect.gen(function* () {
      const { writer, s, page } = yield* setUp
      const before = yield* page(2)
      yield* TestClock.adjust("1 minute")
      const touched = yield* writer.touch(s, "d")
      const again = yield* page(2)
      const d = again.orders.find((o) => o.order.posRef === "d")
      expect(ms(touched.stamp)).toBeGreaterThan(ms(before.orders[1]!.stamp))
      expect(d && ms(d.stamp)).toBe(ms(touched.stamp))
    })
  )

  it.scoped("a document changed by plain SQL, not by this code, shows on the kept page", () =>
    Effect.gen(function* () {
      const { raw, s, page } = yield* setUp
      yield* raw`UPDATE pb_documents SET held_reasons = ${JSON.stringify(["written by an older version"])}
        WHERE store_id = ${s} AND pos_ref = ${"d"}`
      const again = yield* page(2)
      expect(again.orders.find((o) => o.order.posRef === "d")?.heldReasons).toEqual(["written by an older version"])
    })
  )

  it.scoped("a kept page of an expired snapshot is not served: the page freezes a new snapshot", () =>
    Effect.gen(function* () {
      const { writer, s, ref, page } = yield* setUp
      yield* TestClock.adjust(Duration.sum(ExportSnapshot.defaultTtl, Duration.minutes(1)))
      yield* writer.ingest(ref, [doc({ storeId: s, posRef: "g", kind: "orders" })], Option.none())
      const again = yield* page(2)
      expect(again.snapshotCreated).toBe(true)
    })
  )

  it.scoped("hold reasons recorded by another store instance's export show on the kept page", () =>
    Effect.gen(function* () {
      const { writer, s, page } = yield* setUp
      // Another poller, over another window holding the same orders, holds one of the kept page.
      yield* writer.exportPage({
        storeId: s,
        window: OrderWindow.make(utc(baseTime - 10 * minute), utc(baseTime + 10 * minute)),
        page: 1,
        pageSize: 10,
        hold: (order) => (order.posRef === "c" ? ["no ship-to address"] : [])
      })
      const again = yield* page(2)
      expect(again.orders.find((o) => o.order.posRef === "c")?.heldReasons).toEqual(["no ship-to address"])
    })
  )
}

describe("kept later pages: SQLite, two stores on one file", () => scenarios(sqlitePair))

await withPostgres(() => describe("kept later pages: PostgreSQL, two pools on one database", () => scenarios(pgPair)))
