/**
 * `/metrics` on the SQL store: every store's gauges, read with one fixed set of statements (`statsAll`) however
 * many stores there are, print the same lines the per-store reads printed.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Order, OrderStore, OrderWindow, StoreDirectory, StoreSettings } from "@posbridge/core"
import { SqliteStore } from "@posbridge/store-sql"
import { DateTime, Effect, Layer, Option, Schema, TestClock } from "effect"
import * as HealthRoutes from "../src/HealthRoutes.js"

const t0 = Date.UTC(2026, 0, 5, 12, 0, 0)
const ids = ["shop-a", "shop-b", "shop-c"]

const settings = (id: string) =>
  Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
    id,
    adapter: "heartland",
    documentKind: "orders",
    shipstation: { username: "ss", password: "pw" }
  })

const directory = Layer.succeed(StoreDirectory.StoreDirectory, {
  list: Effect.succeed(ids.map(settings)),
  get: (storeId) => Effect.succeed(settings(storeId))
})

const order = (storeId: string, posRef: string) =>
  Order.decodeSync({
    storeId,
    kind: "orders",
    posRef,
    orderNumber: `N-${posRef}`,
    orderDate: new Date(t0).toISOString(),
    posModifiedAt: new Date(t0).toISOString(),
    status: "paid",
    customerCode: "ada@example.com",
    billTo: { name: "Ada Lovelace" },
    shipTo: { name: "Ada Lovelace", address1: "1 Analytical Way", city: "London", postalCode: "N1", country: "GB" },
    lines: [{ lineId: "1", sku: "SKU-1", name: "Difference engine", quantity: 1, unitPrice: "10.00" }],
    orderTotal: "10.00"
  })

const storeLayer = Layer.unwrapScoped(
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-metrics-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    ),
    (dir) => SqliteStore.layer({ filename: path.join(dir, "store.db"), synchronous: "normal" })
  )
)

describe("GET /metrics", () => {
  it.scoped("prints every store's documents, waiting versions, holds, write-backs and last poll", () =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      yield* TestClock.setTime(t0)
      const ingest = (storeId: string, posRefs: ReadonlyArray<string>) =>
        store.ingest(
          { id: storeId, kind: "orders" },
          posRefs.map((posRef) => ({ order: order(storeId, posRef) })),
          Option.none()
        )
      yield* ingest("shop-a", ["1", "2", "3"])
      yield* ingest("shop-b", ["9"])
      yield* TestClock.setTime(t0 + 60_000)
      const window = OrderWindow.make(DateTime.unsafeMake(t0 - 60_000), DateTime.unsafeMake(t0 + 1))
      const hold = (o: { readonly posRef: string }) => (o.posRef === "2" ? ["no ship-to address"] : [])
      yield* store.exportPage({ storeId: "shop-a", window, page: 1, pageSize: 2, hold })
      yield* TestClock.setTime(t0 + 61_000)
      yield* store.exportPage({ storeId: "shop-a", window, page: 2, pageSize: 2, hold })
      yield* ingest("shop-a", ["4"])
      yield* store.recordShipNotice(
        { storeId: "shop-a" as never, orderNumber: "N-1", carrier: "UPS", trackingNumber: "1Z", items: [] },
        { key: "shop-a|1Z", posRef: Option.some("1") }
      )

      const response = yield* HealthRoutes.metrics
      expect(response.body._tag).toBe("Uint8Array")
      const text = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      const outbox = (id: string, pending: number) =>
        ["pending", "in-flight", "done", "dead", "attention"].map(
          (state) => `posbridge_outbox_items{store="${id}",state="${state}"} ${state === "pending" ? pending : 0}`
        )
      expect(text.split("\n").filter((line) => !line.startsWith("#") && line !== "")).toEqual([
        `posbridge_documents{store="shop-a"} 4`,
        `posbridge_documents{store="shop-b"} 1`,
        `posbridge_documents{store="shop-c"} 0`,
        `posbridge_waiting_for_poll{store="shop-a"} 1`,
        `posbridge_waiting_for_poll{store="shop-b"} 1`,
        `posbridge_waiting_for_poll{store="shop-c"} 0`,
        `posbridge_held_back{store="shop-a"} 1`,
        `posbridge_held_back{store="shop-b"} 0`,
        `posbridge_held_back{store="shop-c"} 0`,
        ...outbox("shop-a", 1),
        ...outbox("shop-b", 0),
        ...outbox("shop-c", 0),
        `posbridge_last_poll_timestamp_seconds{store="shop-a"} ${(t0 + 61_000) / 1000}`
      ])
    }).pipe(Effect.provide(Layer.merge(storeLayer, directory)))
  )
})
