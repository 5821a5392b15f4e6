/**
 * A stored order whose JSON was damaged outside posbridge (a hand edit, a broken restore) is reported as an
 * `OrderStoreError` naming the operation, never served as a half-decoded order and never a crash.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Context, DateTime, Effect, Layer, Option } from "effect"
import * as SqliteStore from "../src/SqliteStore.js"
import { tempDir } from "./support/Databases.js"
import { doc } from "./support/Fixtures.js"

const storeId = "damaged"

const damaged = (orderJson: string, read: "find" | "exportPage" = "find") =>
  Effect.gen(function* () {
    const filename = path.join(yield* tempDir, "store.db")
    const store = Context.get(yield* Layer.build(SqliteStore.layer({ filename })), OrderStore.OrderStore)
    yield* store.ingest({ id: storeId, kind: "invoices" }, [doc({ storeId, posRef: "A-1" })], Option.some("c1"))
    const raw = Context.get(yield* Layer.build(SqliteClient.layer({ filename })), SqlClient.SqlClient)
    yield* raw`UPDATE pb_documents SET order_json = ${orderJson} WHERE pos_ref = 'A-1'`
    // A second store on the file: its decoded-order cache has never seen the good JSON.
    const reader = Context.get(yield* Layer.build(SqliteStore.layer({ filename })), OrderStore.OrderStore)
    if (read === "find") return yield* Effect.flip(reader.find(storeId, "A-1"))
    // The export reads its rows in bulk, by hand where they are as ingest writes them: a damaged one must
    // still fail the page, not be sent.
    const window = OrderWindow.make(DateTime.unsafeMake(0), DateTime.unsafeMake(3_600_000))
    return yield* Effect.flip(reader.exportPage({ storeId, window, page: 1, pageSize: 100 }))
  })

describe("damaged order JSON", () => {
  it.scoped("text that is not JSON is an OrderStoreError", () =>
    Effect.gen(function* () {
      const error = yield* damaged("{not json")
      expect(error._tag).toBe("OrderStoreError")
      expect(error.message).toMatch(/JSON/)
    })
  )
  it.scoped("JSON that is not an order is an OrderStoreError naming the missing field", () =>
    Effect.gen(function* () {
      const error = yield* damaged('{"posRef":"A-1"}')
      expect(error._tag).toBe("OrderStoreError")
      expect(error.message).toMatch(/is missing/)
    })
  )
  it.scoped("an export page meeting either is an OrderStoreError, not a page", () =>
    Effect.gen(function* () {
      for (const json of ["{not json", '{"posRef":"A-1"}', '{"storeId":"damaged","kind":"invoices","posRef":"A-1"}']) {
        const error = yield* damaged(json, "exportPage")
        expect(error._tag).toBe("OrderStoreError")
      }
    })
  )
})
