import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, Order, OrderStore, ShipNotice, StoreId } from "@posbridge/core"
import { Effect, Option, TestClock } from "effect"
import * as Explain from "../src/Explain.js"

const store = StoreId.StoreId.make("shop")
const order = Order.decodeSync({
  storeId: "shop",
  kind: "orders",
  posRef: "1",
  orderNumber: "101",
  orderDate: "2024-05-01T09:00:00.000Z",
  posModifiedAt: "2024-05-01T09:30:00.000Z",
  status: "paid",
  customerCode: "C-1",
  billTo: { name: "Ada" },
  shipTo: { name: "Ada", address1: "1 Main St", city: "Springfield", state: "IL", country: "US" },
  lines: [{ lineId: "1-1", sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: "10.00" }],
  orderTotal: "10.00"
})

describe("explain", () => {
  it.effect(
    "shows a ship notice that needs attention with its reason, escaped, and that nothing was written back",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.parse("2024-05-01T10:00:00Z"))
        const orders = yield* OrderStore.OrderStore
        yield* orders.ingest({ id: store, kind: "orders" }, [{ order }], Option.none())
        const notice: ShipNotice.ShipNotice = {
          storeId: store,
          orderId: "1",
          orderNumber: "101",
          carrier: "UPS",
          trackingNumber: "1Z1 | 1Z2",
          items: [],
          problems: [
            { severity: "attention", message: 'The notice has 2 <TrackingNumber> elements ("1Z1", "1Z2\nFORGED")' },
            { severity: "note", message: 'ShippingCost "seven" is not an amount; it was left out.' }
          ]
        }
        yield* orders.recordShipNotice(notice, {
          key: ShipNotice.idempotencyKey(notice, "1"),
          posRef: Option.some("1")
        })
        const text = Explain.render(Explain.toApi(yield* orders.explain(store, "101")))
        expect(text).toMatch(
          /NEEDS ATTENTION \(not written back until an operator decides\): The notice has 2 <TrackingNumber>/
        )
        expect(text).toContain("note: ShippingCost")
        expect(text).toContain("write-back waiting for an operator")
        expect(text).not.toContain("\nFORGED")
      }).pipe(Effect.provide(MemoryOrderStore.layer()))
  )
})
