/**
 * The normalized order: what every POS adapter produces and what the ShipStation export renders.
 * Field names follow ShipStation's vocabulary; limits are enforced at export (see @posbridge/shipstation),
 * not here, so an over-long POS value is still stored and can be explained.
 */
import { Schema } from "effect"
import { Decimal } from "./Decimal.js"
import { DocumentKind } from "./DocumentKind.js"
import { OrderStatus } from "./OrderStatus.js"
import { StoreId } from "./StoreId.js"

const optional = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

/** Identity of a POS document inside posbridge: store, kind and the POS's stable reference. */
export const OrderRef = Schema.Struct({
  storeId: StoreId,
  kind: DocumentKind,
  /** The POS's stable id (Lightspeed saleID or quoteID, Heartland order or invoice id). Sent as OrderID. */
  posRef: Schema.String.pipe(Schema.minLength(1))
})
export type OrderRef = typeof OrderRef.Type

export const Address = Schema.Struct({
  name: Schema.String,
  company: optional(Schema.String),
  address1: optional(Schema.String),
  address2: optional(Schema.String),
  city: optional(Schema.String),
  state: optional(Schema.String),
  postalCode: optional(Schema.String),
  /** ISO 3166-1 alpha-2 when the POS gives one; a country name is mapped at export. */
  country: optional(Schema.String),
  phone: optional(Schema.String),
  email: optional(Schema.String)
})
export type Address = typeof Address.Type

export const WeightUnits = Schema.Literal("Pounds", "Ounces", "Grams")
export type WeightUnits = typeof WeightUnits.Type

export const LineOption = Schema.Struct({ name: Schema.String, value: Schema.String })
export type LineOption = typeof LineOption.Type

export const OrderLine = Schema.Struct({
  lineId: Schema.String,
  sku: Schema.String,
  name: Schema.String,
  /** Units shipped; refunds are reflected by the adapter (a fully refunded line is dropped). */
  quantity: Schema.Int,
  unitPrice: Decimal,
  /** A discount or fee line (ShipStation `Adjustment`), usually with a negative unit price. */
  adjustment: Schema.optionalWith(Schema.Boolean, { default: () => false, exact: true }),
  weight: optional(Decimal),
  weightUnits: optional(WeightUnits),
  imageUrl: optional(Schema.String),
  upc: optional(Schema.String),
  location: optional(Schema.String),
  options: Schema.optionalWith(Schema.Array(LineOption), { default: () => [], exact: true })
})
export type OrderLine = typeof OrderLine.Type

export const Order = Schema.Struct({
  ...OrderRef.fields,
  orderNumber: Schema.String,
  orderDate: Schema.DateTimeUtc,
  /** The POS's own "last modified" for this document: a change here is a re-save. */
  posModifiedAt: Schema.DateTimeUtc,
  status: OrderStatus,
  customerCode: Schema.String,
  billTo: Address,
  /** Missing when the POS has no ship-to and none can be derived: such an order is held back at export. */
  shipTo: optional(Address),
  lines: Schema.Array(OrderLine),
  orderTotal: Decimal,
  taxAmount: optional(Decimal),
  shippingAmount: optional(Decimal),
  /** ISO 4217 code. */
  currency: optional(Schema.String),
  shippingMethod: optional(Schema.String),
  paymentMethod: optional(Schema.String),
  customerNotes: optional(Schema.String),
  internalNotes: optional(Schema.String),
  gift: optional(Schema.Boolean),
  giftMessage: optional(Schema.String),
  customField1: optional(Schema.String),
  customField2: optional(Schema.String),
  customField3: optional(Schema.String),
  requestedWarehouse: optional(Schema.String),
  source: optional(Schema.String)
})
export type Order = typeof Order.Type
export type OrderEncoded = typeof Order.Encoded

export const ref = (order: OrderRef): OrderRef => ({ storeId: order.storeId, kind: order.kind, posRef: order.posRef })

/** JSON form used for storage, fixtures and hashing. */
export const encode = Schema.encodeSync(Order)
export const decode = Schema.decodeUnknown(Order)
export const decodeSync = Schema.decodeUnknownSync(Order)
