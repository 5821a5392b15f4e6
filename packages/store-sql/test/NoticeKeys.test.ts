/**
 * Upgrading to migration 0003: notices stored by the code before it (keyed by store, order, tracking number and
 * carrier only) are re-keyed, so after the upgrade ShipStation's retry of a stored notice is still recognized,
 * while a second shipment of the same order without a tracking number is stored instead of being taken for a
 * retry.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, ShipNotice, StoreId } from "@posbridge/core"
import { Context, Effect, Layer, Option, Redacted, Schema, type Scope } from "effect"
import init from "../src/internal/migrations/0001_init.js"
import laterPages from "../src/internal/migrations/0002_later_pages.js"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"

const store = StoreId.StoreId.make("upgrade")

const notice = (over: Partial<ShipNotice.ShipNotice>): ShipNotice.ShipNotice => ({
  storeId: store,
  orderNumber: "1001",
  carrier: "Other",
  trackingNumber: "",
  items: [{ sku: "A", quantity: 1 }],
  shipDate: "2024-05-01",
  ...over
})
const firstShipment = notice({})
const secondShipment = notice({ items: [{ sku: "B", quantity: 2 }], shipDate: "2024-05-03" })
const tracked = notice({ carrier: "UPS", trackingNumber: "1Z999" })

/** The key the code before migration 0003 gave a notice (written out here, not taken from the code under test). */
const keyBefore0003 = (n: ShipNotice.ShipNotice, orderKey: string) =>
  [n.storeId, orderKey, n.trackingNumber.toUpperCase(), n.carrier.toUpperCase()].map(encodeURIComponent).join("|")

/** What the code before 0003 left: its schema, a store, and two notices (matched to order "o1") with their items. */
const asLeftBefore0003 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Migrator.fromRecord({ "0001_init": init, "0002_later_pages": laterPages }),
    table: Migrations.table
  })
  const sql = yield* SqlClient.SqlClient
  yield* sql`INSERT INTO pb_stores (store_id, watermark_ms) VALUES (${store}, NULL)`
  for (const [i, n] of [firstShipment, tracked].entries()) {
    const json = JSON.stringify(Schema.encodeSync(ShipNotice.ShipNotice)(n))
    yield* sql`INSERT INTO pb_ship_notices ${sql.insert({
      notice_id: `notice-${i}`,
      idempotency_key: keyBefore0003(n, "o1"),
      store_id: store,
      pos_ref: "o1",
      notice_json: json,
      received_ms: 0
    })}`
    yield* sql`INSERT INTO pb_outbox ${sql.insert({
      outbox_id: `outbox-${i}`,
      store_id: store,
      notice_id: `notice-${i}`,
      pos_ref: "o1",
      notice_json: json,
      state: "done",
      attempts: 1,
      next_attempt_ms: 0,
      last_error: null,
      result: "written",
      updated_ms: 0
    })}`
  }
})

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<OrderStore.OrderStore, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.provide(asLeftBefore0003, old))
    const orders = Context.get(yield* Layer.build(current), OrderStore.OrderStore)
    const record = (n: ShipNotice.ShipNotice) =>
      orders.recordShipNotice(n, { key: ShipNotice.idempotencyKey(n, "o1"), posRef: Option.some("o1") })
    expect(yield* record(firstShipment)).toMatchObject({ _tag: "Duplicate", noticeId: "notice-0" })
    expect(yield* record(tracked)).toMatchObject({ _tag: "Duplicate", noticeId: "notice-1" })
    const second = yield* record(secondShipment)
    expect(second._tag).toBe("Stored")
    const pending = yield* orders.outbox(store, ["pending"])
    expect(pending.map((o) => o.notice.items)).toEqual([[{ sku: "B", quantity: 2 }]])
  })

describe("upgrading ship-notice keys (migration 0003) on a database written before it", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(SqliteClient.layer({ filename }), SqliteStore.layer({ filename, synchronous: "normal" }))
    })
  )
})

await withPostgres(() =>
  describe("upgrading ship-notice keys (migration 0003) on a database written before it", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(PgClient.layer({ url: Redacted.make(url) }), PgStore.layer({ url }))
      })
    )
  })
)
