import { type DocumentKind, Order, type SourceDocument } from "@posbridge/core"
import { DateTime, Effect, TestClock } from "effect"

export const baseTime = Date.UTC(2024, 4, 1, 12, 0, 0)
export const minute = 60_000

let counter = 0
/** A store id no other test uses, so one database serves a whole suite. */
export const storeId = (label = "s"): string =>
  `${label}-${Date.now().toString(36)}-${(++counter).toString(36)}-${Math.random().toString(36).slice(2, 6)}`

let day = 0
/**
 * Sets the (suite-wide) TestClock to a fresh day, later than every earlier test's, and returns that instant.
 * Tests read time relative to it.
 */
export const freshDay = Effect.suspend(() => {
  const t = baseTime + ++day * 86_400_000
  return Effect.as(TestClock.setTime(t), t)
})

export interface OrderInput {
  readonly storeId: string
  readonly posRef: string
  readonly kind?: DocumentKind.DocumentKind
  readonly orderNumber?: string
  readonly posModifiedAt?: number
  readonly total?: string
}

export const order = (o: OrderInput): Order.Order =>
  Order.decodeSync({
    storeId: o.storeId,
    kind: o.kind ?? "invoices",
    posRef: o.posRef,
    orderNumber: o.orderNumber ?? `N-${o.posRef}`,
    orderDate: new Date(baseTime).toISOString(),
    posModifiedAt: new Date(o.posModifiedAt ?? baseTime).toISOString(),
    status: "paid",
    customerCode: "ada@example.com",
    billTo: { name: "Ada Lovelace" },
    shipTo: { name: "Ada Lovelace", address1: "1 Analytical Way", city: "London", postalCode: "N1", country: "GB" },
    lines: [{ lineId: "1", sku: "SKU-1", name: "Difference engine", quantity: 1, unitPrice: o.total ?? "10.00" }],
    orderTotal: o.total ?? "10.00"
  })

export const doc = (o: OrderInput & { readonly exclude?: string }): SourceDocument.SourceDocument =>
  o.exclude === undefined ? { order: order(o) } : { order: order(o), exclude: o.exclude }

export const utc = (ms: number): DateTime.Utc => DateTime.unsafeMake(ms)
export const ms = (t: DateTime.Utc): number => DateTime.toEpochMillis(t)
