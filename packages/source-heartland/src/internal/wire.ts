/**
 * Heartland's JSON as read off the wire. Permissive on purpose: ids and amounts may arrive as numbers or
 * strings, unknown fields are ignored, and everything not needed for an order is optional. Mapping to core's
 * Order happens in ./mapping.ts.
 */
import { Schema } from "effect"

/** An id that Heartland may send as a number or a string; kept as a string. */
export const Id = Schema.Union(Schema.String, Schema.Number).pipe(
  Schema.transform(Schema.String, { strict: true, decode: (v) => String(v), encode: (s) => s })
)

/** An amount as sent (number or string); parsed to an exact decimal by the mapping, never computed as a float. */
export const Amount = Schema.Union(Schema.String, Schema.Number)

const opt = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))

export const Customer = Schema.Struct({
  id: Id,
  public_id: opt(Schema.String),
  first_name: opt(Schema.String),
  last_name: opt(Schema.String),
  email: opt(Schema.String),
  phone: opt(Schema.String)
})
export type Customer = typeof Customer.Type

/** Fields shared by Sales Orders and Invoices. */
const documentFields = {
  id: Id,
  public_id: opt(Schema.String),
  status: Schema.String,
  customer_id: opt(Id),
  customer: opt(Customer),
  billing_address_id: opt(Id),
  shipping_address_id: opt(Id),
  shipping_charge: opt(Amount),
  total: opt(Amount),
  total_tax: opt(Amount),
  custom: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  created_at: Schema.String,
  updated_at: Schema.String
}

export const SalesOrder = Schema.Struct({ ...documentFields })
export type SalesOrder = typeof SalesOrder.Type

export const Invoice = Schema.Struct({ ...documentFields, order_id: opt(Id) })
export type Invoice = typeof Invoice.Type

export const Line = Schema.Struct({
  id: Id,
  item_id: opt(Id),
  description: opt(Schema.String),
  qty: Amount,
  /** Unconfirmed: present on Sales Order lines once items are fulfilled. */
  qty_fulfilled: opt(Amount),
  original_unit_price: opt(Amount),
  adjusted_unit_price: opt(Amount),
  total_tax: opt(Amount)
})
export type Line = typeof Line.Type

export const Address = Schema.Struct({
  id: Id,
  customer_id: opt(Id),
  first_name: opt(Schema.String),
  last_name: opt(Schema.String),
  company: opt(Schema.String),
  line_1: opt(Schema.String),
  line_2: opt(Schema.String),
  city: opt(Schema.String),
  state: opt(Schema.String),
  postal_code: opt(Schema.String),
  country: opt(Schema.String),
  phone: opt(Schema.String)
})
export type Address = typeof Address.Type

export const Item = Schema.Struct({
  id: Id,
  public_id: opt(Schema.String),
  description: opt(Schema.String),
  upc: opt(Schema.String)
})
export type Item = typeof Item.Type

/** `{"total":N,"pages":N,"results":[…]}`. */
export const Page = <A, I, R>(result: Schema.Schema<A, I, R>) =>
  Schema.Struct({
    total: Schema.optional(Schema.Number),
    pages: Schema.optional(Schema.Number),
    results: Schema.Array(result)
  })
