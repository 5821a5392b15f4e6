/**
 * Stored renderings (migration 0009): a store given a `Rendering` renders each version once, when it is stored or
 * restamped, and export pages that ask for that rendering's id get the stored text back with the order undecoded
 * and not passed to `hold`. Anything else (no rendering asked, another id, a held version, a row written before)
 * takes the path every page took before. A database written by the code before 0009 is upgraded in place.
 *
 * The rendering here is the test's own (it writes the POS id, order number and stamp), so what a page sends can be
 * told apart from what the store decoded.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { type Order, OrderStore, OrderWindow } from "@posbridge/core"
import { Context, DateTime, Effect, Layer, Option, Redacted, type Scope, TestClock } from "effect"
import { posRefOf } from "../src/internal/Documents.js"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlOrderStore from "../src/SqlOrderStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"
import { baseTime, doc, minute, ms } from "./support/Fixtures.js"

/** Holds back every order whose number starts with HOLD; renders the others as one element with their stamp. */
const rendering: OrderStore.Rendering = {
  id: "test-render/1",
  render: (order, stamp) =>
    order.orderNumber.startsWith("HOLD")
      ? undefined
      : `<O ref="${order.posRef}" n="${order.orderNumber}" at="${ms(stamp) - baseTime}"/>`
}
const markup = (posRef: string, number: string, at: number) => `<O ref="${posRef}" n="${number}" at="${at}"/>`

/** The request's own rules, the same as the rendering's, counting the orders they were asked about. */
const rules = () => {
  const asked: Array<string> = []
  const hold = (order: Order.Order) => {
    asked.push(order.posRef)
    return order.orderNumber.startsWith("HOLD") ? ["held by the test"] : []
  }
  return { asked, hold }
}

const window = OrderWindow.make(DateTime.unsafeMake(baseTime - minute), DateTime.unsafeMake(baseTime + 60 * minute))

/** Every page of the window, in order: what each member came back as. */
const exportAll = (store: OrderStore.OrderStoreService, request: Partial<OrderStore.ExportRequest>) =>
  Effect.gen(function* () {
    const members: Array<{ posRef: string; rendered: string | undefined; held: boolean }> = []
    for (let page = 1; ; page++) {
      const result = yield* store.exportPage({ storeId: "shop", window, page, pageSize: 2, ...request })
      for (const o of result.orders) members.push({ posRef: posRefOf(o), rendered: o.rendered, held: false })
      for (const h of result.held)
        members.push({ posRef: h.order.order.posRef, rendered: h.order.rendered, held: true })
      if (page >= result.pages) return members
    }
  })

const behaviour = (layer: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const sql = yield* SqlClient.SqlClient
    yield* TestClock.setTime(baseTime)
    yield* store.ingest(
      { id: "shop", kind: "orders" },
      [
        doc({ storeId: "shop", posRef: "a", kind: "orders" }),
        doc({ storeId: "shop", posRef: "b", kind: "orders", orderNumber: "HOLD-b" }),
        doc({ storeId: "shop", posRef: "c", kind: "orders" })
      ],
      Option.none()
    )

    // Asked for this rendering: the stored text, `hold` not asked about a rendered version, the held one held.
    let r = rules()
    expect(yield* exportAll(store, { hold: r.hold, rendering: rendering.id })).toEqual([
      { posRef: "a", rendered: markup("a", "N-a", 0), held: false },
      { posRef: "b", rendered: undefined, held: true },
      { posRef: "c", rendered: markup("c", "N-c", 0), held: false }
    ])
    expect(r.asked).toEqual(["b"])
    // The same later page of the same poll (kept by the store's page cache) asked without the rendering.
    const again = yield* store.exportPage({ storeId: "shop", window, page: 2, pageSize: 2 })
    expect(again.orders.map((o) => [o.order.posRef, o.rendered])).toEqual([["c", undefined]])

    // Not asked, or asked for another rendering: nothing stored is sent, every order goes through `hold`.
    for (const request of [{}, { rendering: "test-render/2" }]) {
      r = rules()
      expect(yield* exportAll(store, { hold: r.hold, ...request })).toEqual([
        { posRef: "a", rendered: undefined, held: false },
        { posRef: "b", rendered: undefined, held: true },
        { posRef: "c", rendered: undefined, held: false }
      ])
      expect(r.asked).toEqual(["a", "b", "c"])
    }

    // A touch restamps: its rendering is made again with the new stamp. A new version of a held order that the
    // rules let through gets one; a new version of a sent order that they hold loses it.
    yield* TestClock.setTime(baseTime + 3 * minute)
    yield* store.touch("shop", "c")
    yield* TestClock.setTime(baseTime + 5 * minute)
    yield* store.ingest(
      { id: "shop", kind: "orders" },
      [
        doc({ storeId: "shop", posRef: "a", kind: "orders", orderNumber: "HOLD-a", posModifiedAt: baseTime + minute }),
        doc({ storeId: "shop", posRef: "b", kind: "orders", orderNumber: "B", posModifiedAt: baseTime + minute })
      ],
      Option.none()
    )
    r = rules()
    const after = yield* exportAll(store, { hold: r.hold, rendering: rendering.id })
    expect(after).toEqual([
      { posRef: "c", rendered: markup("c", "N-c", 3 * minute), held: false },
      { posRef: "a", rendered: undefined, held: true },
      { posRef: "b", rendered: markup("b", "B", 5 * minute), held: false }
    ])
    expect(r.asked).toEqual(["a"])

    // A rendered version's order is still there to read, decoded when read.
    const page = yield* store.exportPage({ storeId: "shop", window, page: 2, pageSize: 2, rendering: rendering.id })
    expect(page.orders.map((o) => [o.order.posRef, o.order.orderNumber, o.rendered])).toEqual([
      ["b", "B", markup("b", "B", 5 * minute)]
    ])

    // Serving a page never decodes a rendered version's order: with its stored JSON broken, the page is still
    // served from the rendering, and only reading the order fails, naming the problem.
    yield* sql`UPDATE pb_documents SET order_json = '{"posRef": 7}' WHERE store_id = 'shop' AND pos_ref = 'c'`
    r = rules()
    expect(yield* exportAll(store, { hold: r.hold, rendering: rendering.id })).toEqual(after)
    expect(r.asked).toEqual(["a"])
    const broken = yield* store.exportPage({ storeId: "shop", window, page: 1, pageSize: 2, rendering: rendering.id })
    expect(() => broken.orders[0]?.order).toThrow(/posRef/)
  }).pipe(Effect.provide(layer))

describe("stored renderings", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* behaviour(SqliteStore.layer({ filename, rendering }).pipe(Layer.merge(SqliteClient.layer({ filename }))))
    })
  )
})

await withPostgres(() =>
  describe("stored renderings", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* behaviour(
          PgStore.layer({ url, rendering }).pipe(Layer.merge(PgClient.layer({ url: Redacted.make(url) })))
        )
      })
    )
  })
)

// ---- upgrading a database written by the code before 0009

/** What a store shows of its data: the figures an upgrade must keep. */
const shown = (store: OrderStore.OrderStoreService) =>
  Effect.gen(function* () {
    const stats = yield* store.stats("shop")
    const history = (posRef: string) =>
      Effect.map(store.explain("shop", posRef), (e) =>
        e.history.map((h) => [h._tag, DateTime.toEpochMillis(h.at), h._tag === "Restamped" ? h.reason : null])
      )
    return {
      documents: stats.documents,
      watermark: Option.map(stats.watermark, DateTime.toEpochMillis),
      polls: (yield* store.polls("shop", 0)).map((p) => [DateTime.toEpochMillis(p.at), p.page, p.pages, p.count]),
      a: yield* history("a"),
      b: yield* history("b")
    }
  })

/** What the code before 0009 left: its migrations, two documents, a touch and a poll of two pages. */
const asLeftBefore0009 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id < 9)),
    table: Migrations.table
  })
  return yield* Effect.scoped(
    Effect.gen(function* () {
      // The store of that code: no rendering, no `rendered` column read or written.
      const store = yield* SqlOrderStore.make()
      yield* TestClock.setTime(baseTime)
      yield* store.ingest(
        { id: "shop", kind: "orders" },
        ["a", "b"].map((posRef) => doc({ storeId: "shop", posRef, kind: "orders" })),
        Option.none()
      )
      yield* TestClock.setTime(baseTime + 2 * minute)
      yield* store.touch("shop", "b")
      yield* TestClock.setTime(baseTime + 5 * minute)
      yield* store.exportPage({ storeId: "shop", window, page: 1, pageSize: 1 })
      yield* store.exportPage({ storeId: "shop", window, page: 2, pageSize: 1 })
      return yield* shown(store)
    })
  )
})

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore | SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const before = yield* Effect.scoped(Effect.provide(asLeftBefore0009, old))
    expect(before.polls.map((p) => p[1])).toEqual([2, 1])

    const built = yield* Layer.build(current)
    const store = Context.get(built, OrderStore.OrderStore)
    const sql = Context.get(built, SqlClient.SqlClient)
    const applied = yield* sql<{ readonly migration_id: unknown; readonly name: string }>`SELECT migration_id, name
      FROM ${sql(Migrations.table)} ORDER BY migration_id`
    expect(applied.map((row) => [Number(row.migration_id), row.name])).toContainEqual([9, "renderings"])
    expect(yield* shown(store)).toEqual(before)
    const column = yield* sql<{ readonly pos_ref: string; readonly rendered: string | null }>`SELECT pos_ref, rendered
      FROM pb_documents ORDER BY pos_ref`
    expect(column).toEqual([
      { pos_ref: "a", rendered: null },
      { pos_ref: "b", rendered: null }
    ])

    // Versions stored before have no rendering: rendered on demand, through `hold`, as before.
    yield* TestClock.setTime(baseTime + 10 * minute)
    let r = rules()
    expect(yield* exportAll(store, { hold: r.hold, rendering: rendering.id })).toEqual([
      { posRef: "a", rendered: undefined, held: false },
      { posRef: "b", rendered: undefined, held: false }
    ])
    expect(r.asked).toEqual(["a", "b"])
    // A version stored now has one.
    yield* store.ingest(
      { id: "shop", kind: "orders" },
      [doc({ storeId: "shop", posRef: "a", kind: "orders", posModifiedAt: baseTime + minute })],
      Option.none()
    )
    r = rules()
    expect(yield* exportAll(store, { hold: r.hold, rendering: rendering.id })).toEqual([
      { posRef: "b", rendered: undefined, held: false },
      { posRef: "a", rendered: markup("a", "N-a", 10 * minute), held: false }
    ])
    expect(r.asked).toEqual(["b"])
  })

describe("stored renderings on a database written before migration 0009", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(
        SqliteClient.layer({ filename }),
        SqliteStore.layer({ filename, rendering }).pipe(Layer.merge(SqliteClient.layer({ filename })))
      )
    })
  )
})

await withPostgres(() =>
  describe("stored renderings on a database written before migration 0009", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(
          PgClient.layer({ url: Redacted.make(url) }),
          PgStore.layer({ url, rendering }).pipe(Layer.merge(PgClient.layer({ url: Redacted.make(url) })))
        )
      })
    )
  })
)
