/**
 * The normalized order: what every POS adapter produces and what the ShipStation export renders.
 * Field names follow ShipStation's vocabulary; limits are enforced at export (see @posbridge/shipstation),
 * not here, so an over-long POS value is still stored and can be explained.
 */

import type { DateTime } from "effect"
import { DateTime as DateTimeModule, Schema } from "effect"
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

const isoOf = (t: DateTime.Utc): string => DateTimeModule.formatIso(t)

/** Copies the present (not `undefined`) optional fields named in `keys` from `from` to `to`, in that order. */
const copyPresent = <T extends object>(to: Record<string, unknown>, from: T, keys: ReadonlyArray<keyof T & string>) => {
  for (const k of keys) {
    const v = from[k]
    if (v !== undefined) to[k] = v
  }
}

const addressKeys = [
  "company",
  "address1",
  "address2",
  "city",
  "state",
  "postalCode",
  "country",
  "phone",
  "email"
] as const satisfies ReadonlyArray<keyof Address>

const addressToJson = (a: Address): typeof Address.Encoded => {
  const out: Record<string, unknown> = { name: a.name }
  copyPresent(out, a, addressKeys)
  return out as typeof Address.Encoded
}

const lineToJson = (l: OrderLine): typeof OrderLine.Encoded => {
  const out: Record<string, unknown> = {
    lineId: l.lineId,
    sku: l.sku,
    name: l.name,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    adjustment: l.adjustment
  }
  copyPresent(out, l, ["weight", "weightUnits", "imageUrl", "upc", "location"])
  out.options = l.options.map((o) => ({ name: o.name, value: o.value }))
  return out as typeof OrderLine.Encoded
}

const orderTailKeys = [
  "taxAmount",
  "shippingAmount",
  "currency",
  "shippingMethod",
  "paymentMethod",
  "customerNotes",
  "internalNotes",
  "gift",
  "giftMessage",
  "customField1",
  "customField2",
  "customField3",
  "requestedWarehouse",
  "source"
] as const satisfies ReadonlyArray<keyof Order>

/**
 * `encode` for an order that is already an `Order` (decoded, so valid): the same JSON form, key for key and in
 * the same key order, written field by field. `encode` walks the schema for every value and was the largest
 * single cost of ingest (it ran twice per document: once for the stored JSON, once for the content hash).
 * A property test holds the two equal.
 */
export const toJson = (o: Order): OrderEncoded => {
  const out: Record<string, unknown> = {
    storeId: o.storeId,
    kind: o.kind,
    posRef: o.posRef,
    orderNumber: o.orderNumber,
    orderDate: isoOf(o.orderDate),
    posModifiedAt: isoOf(o.posModifiedAt),
    status: o.status,
    customerCode: o.customerCode,
    billTo: addressToJson(o.billTo)
  }
  if (o.shipTo !== undefined) out.shipTo = addressToJson(o.shipTo)
  out.lines = o.lines.map(lineToJson)
  out.orderTotal = o.orderTotal
  copyPresent(out, o, orderTailKeys)
  return out as OrderEncoded
}
export const decode = Schema.decodeUnknown(Order)
export const decodeSync = Schema.decodeUnknownSync(Order)

const decimalPattern = /^-?\d+(\.\d+)?$/
const storeIdPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/
const statuses: ReadonlySet<unknown> = new Set(OrderStatus.literals)
const weightUnits: ReadonlySet<unknown> = new Set(WeightUnits.literals)

/** Thrown inside `fromJson` on the first value that is not exactly what `toJson` writes; never escapes it. */
const notPlain: unique symbol = Symbol("notPlain")

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const str = (u: unknown): string => {
  if (typeof u !== "string") throw notPlain
  return u
}
const dec = (u: unknown): Decimal => {
  if (typeof u !== "string" || !decimalPattern.test(u)) throw notPlain
  return u as Decimal
}
const bool = (u: unknown): boolean => {
  if (typeof u !== "boolean") throw notPlain
  return u
}
const utc = (u: unknown): DateTime.Utc => {
  if (typeof u !== "string") throw notPlain
  try {
    return DateTimeModule.unsafeMake(u)
  } catch {
    throw notPlain
  }
}
const rec = (u: unknown): Record<string, unknown> => {
  if (!isRecord(u)) throw notPlain
  return u
}
/** Sets the optional fields of `from` named in `keys` on `to` when present, each read with `read`. */
const readPresent = <V>(
  to: Record<string, unknown>,
  from: Record<string, unknown>,
  keys: ReadonlyArray<string>,
  read: (u: unknown) => V
) => {
  for (const k of keys) {
    const v = from[k]
    if (v !== undefined) to[k] = read(v)
  }
}

const addressFromJson = (u: unknown): Address => {
  const a = rec(u)
  const out: Record<string, unknown> = { name: str(a.name) }
  readPresent(out, a, addressKeys, str)
  return out as Address
}

const lineFromJson = (u: unknown): OrderLine => {
  const l = rec(u)
  const quantity = l.quantity
  if (typeof quantity !== "number" || !Number.isSafeInteger(quantity)) throw notPlain
  const out: Record<string, unknown> = {
    lineId: str(l.lineId),
    sku: str(l.sku),
    name: str(l.name),
    quantity,
    unitPrice: dec(l.unitPrice),
    adjustment: l.adjustment === undefined ? false : bool(l.adjustment)
  }
  readPresent(out, l, ["weight"], dec)
  if (l.weightUnits !== undefined) {
    if (!weightUnits.has(l.weightUnits)) throw notPlain
    out.weightUnits = l.weightUnits
  }
  readPresent(out, l, ["imageUrl", "upc", "location"], str)
  const options = l.options === undefined ? [] : l.options
  if (!Array.isArray(options)) throw notPlain
  out.options = options.map((o: unknown) => {
    const r = rec(o)
    return { name: str(r.name), value: str(r.value) }
  })
  return out as OrderLine
}

/**
 * The order a JSON value holds, when it holds one in the plain form `toJson` writes; `undefined` for anything
 * else (a missing or mistyped field, a malformed amount or date), which the caller decodes with the schema for
 * its error (the schema remains the authority on what is valid).
 * Reading a stored order with the schema cost about three times JSON.parse; this is what later export pages
 * and `explain` read orders with. A property test holds it equal to the schema on every order, and to
 * `undefined` or the schema's answer on arbitrary JSON.
 */
export const fromJson = (u: unknown): Order | undefined => {
  try {
    const o = rec(u)
    const storeId = str(o.storeId)
    const posRef = str(o.posRef)
    if (!storeIdPattern.test(storeId) || posRef.length === 0) return undefined
    if (o.kind !== "invoices" && o.kind !== "orders") return undefined
    if (!statuses.has(o.status)) return undefined
    const lines = o.lines
    if (!Array.isArray(lines)) return undefined
    const out: Record<string, unknown> = {
      storeId,
      kind: o.kind,
      posRef,
      orderNumber: str(o.orderNumber),
      orderDate: utc(o.orderDate),
      posModifiedAt: utc(o.posModifiedAt),
      status: o.status,
      customerCode: str(o.customerCode),
      billTo: addressFromJson(o.billTo)
    }
    if (o.shipTo !== undefined) out.shipTo = addressFromJson(o.shipTo)
    out.lines = lines.map(lineFromJson)
    out.orderTotal = dec(o.orderTotal)
    readPresent(out, o, ["taxAmount", "shippingAmount"], dec)
    readPresent(out, o, ["currency", "shippingMethod", "paymentMethod", "customerNotes", "internalNotes"], str)
    readPresent(out, o, ["gift"], bool)
    readPresent(
      out,
      o,
      ["giftMessage", "customField1", "customField2", "customField3", "requestedWarehouse", "source"],
      str
    )
    return out as Order
  } catch (e) {
    if (e === notPlain) return undefined
    throw e
  }
}
