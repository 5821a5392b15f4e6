/** A ShipStation ship notice as posbridge keeps it, and the key that recognizes ShipStation's re-sends. */
import { Schema } from "effect"
import { Decimal } from "./Decimal.js"
import { StoreId } from "./StoreId.js"

const optional = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

export const ShipNoticeItem = Schema.Struct({
  lineItemId: optional(Schema.String),
  sku: optional(Schema.String),
  name: optional(Schema.String),
  quantity: optional(Schema.Int)
})
export type ShipNoticeItem = typeof ShipNoticeItem.Type

export const Recipient = Schema.Struct({
  name: optional(Schema.String),
  company: optional(Schema.String),
  address1: optional(Schema.String),
  address2: optional(Schema.String),
  city: optional(Schema.String),
  state: optional(Schema.String),
  postalCode: optional(Schema.String),
  country: optional(Schema.String)
})

export const ShipNotice = Schema.Struct({
  storeId: StoreId,
  /** ShipStation's OrderID: the posRef posbridge exported. Matched first. */
  orderId: optional(Schema.String),
  /** May carry a suffix when ShipStation split the order. */
  orderNumber: Schema.String,
  carrier: Schema.String,
  service: optional(Schema.String),
  trackingNumber: Schema.String,
  shipDate: optional(Schema.String),
  labelCreateDate: optional(Schema.String),
  shippingCost: optional(Decimal),
  notifyCustomer: optional(Schema.Boolean),
  customerCode: optional(Schema.String),
  notesToCustomer: optional(Schema.String),
  internalNotes: optional(Schema.String),
  recipient: optional(Recipient),
  /** Empty: the whole order shipped. Otherwise a partial shipment of these lines. */
  items: Schema.Array(ShipNoticeItem)
})
export type ShipNotice = typeof ShipNotice.Type

const norm = (s: string) => s.trim().replace(/\s+/g, "").toUpperCase()

/**
 * (store, order, tracking number, carrier). `orderKey` is the matched order's posRef when the notice matched
 * one, so a retry with or without a body is the same notice.
 */
export const idempotencyKey = (notice: ShipNotice, orderKey: string): string =>
  [notice.storeId, orderKey.trim(), norm(notice.trackingNumber), norm(notice.carrier)].map(encodeURIComponent).join("|")
