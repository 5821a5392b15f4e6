/** A ShipStation ship notice as posbridge keeps it, and the key that recognizes ShipStation's re-sends. */
import { Schema } from "effect"
import * as ContentHash from "./ContentHash.js"
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

/**
 * Something doubtful about a notice as received. `attention`: posbridge cannot tell what ShipStation meant (two
 * tracking numbers, an OrderID and an OrderNumber naming different orders), so nothing is written back until an
 * operator decides. `note`: a value was unusable and left out (a bad ShippingCost); the rest is written back.
 */
export const Problem = Schema.Struct({
  severity: Schema.Literal("attention", "note"),
  message: Schema.String
})
export type Problem = typeof Problem.Type

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
  items: Schema.Array(ShipNoticeItem),
  /** What was doubtful about the notice as received; absent when nothing was. */
  problems: optional(Schema.Array(Problem))
})
export type ShipNotice = typeof ShipNotice.Type

const norm = (s: string) => s.trim().replace(/\s+/g, "").toUpperCase()

/** Whether any problem keeps the notice from being written back until an operator decides. */
export const needsAttention = (notice: ShipNotice): boolean =>
  notice.problems?.some((p) => p.severity === "attention") ?? false

/**
 * What tells two shipments of one order apart when neither has a tracking number: the lines and quantities, the
 * ship date and the label date. ShipStation's retry of a notice repeats all of them.
 */
const shipmentContent = (notice: ShipNotice): string =>
  ContentHash.ofJson({
    items: notice.items
      .map((i) => [i.lineItemId ?? "", norm(i.sku ?? ""), i.quantity ?? null] as const)
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    shipDate: notice.shipDate ?? null,
    labelCreateDate: notice.labelCreateDate ?? null
  })

/**
 * The key that recognizes ShipStation's re-sends of one notice: (store, order, tracking number, carrier). A
 * tracking number names one shipment; without one (carrier `Other`, a hand-delivered order), the shipment's
 * content does, so a second shipment of the same order is a new notice while a retry is still recognized.
 * `orderKey` is the matched order's posRef when the notice matched one, so a retry with or without a body is
 * the same notice. Keys of notices with a tracking number are unchanged from posbridge's first version.
 */
export const idempotencyKey = (notice: ShipNotice, orderKey: string): string => {
  const parts = [notice.storeId, orderKey.trim(), norm(notice.trackingNumber), norm(notice.carrier)]
  if (norm(notice.trackingNumber) === "") parts.push(`content:${shipmentContent(notice)}`)
  return parts.map(encodeURIComponent).join("|")
}
