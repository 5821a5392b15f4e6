/**
 * Lightspeed's JSON as it really arrives, normalised with Schema:
 * - one result is an object, several an array (`"Sale":{…}` vs `"Sale":[…]`, likewise `SaleLine`, `ContactAddress`);
 * - empty containers are `""`;
 * - every scalar is a string (`"true"`, `"317.1"`, `"0"` for "no customer");
 * - money becomes an exact `Decimal`, never a float.
 */
import { Decimal } from "@posbridge/core"
import { DateTime, Option, ParseResult, Schema } from "effect"

const Scalar = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)

/** Any scalar as a string (numbers keep their JSON rendering). */
export const Text = Schema.transform(Scalar, Schema.String, {
  strict: true,
  decode: (v) => String(v),
  encode: (s) => s
})

/** `"true"`/`"false"` (also `"1"`/`"0"`, real booleans, and `""` as false). */
export const Flag = Schema.transformOrFail(Scalar, Schema.Boolean, {
  strict: true,
  decode: (v, _, ast) => {
    const s = String(v).trim().toLowerCase()
    if (s === "true" || s === "1") return ParseResult.succeed(true)
    if (s === "false" || s === "0" || s === "") return ParseResult.succeed(false)
    return ParseResult.fail(new ParseResult.Type(ast, v, `expected "true" or "false", got ${JSON.stringify(v)}`))
  },
  encode: (b) => ParseResult.succeed(b ? "true" : "false")
})

/** `"317.1"` → Decimal `317.1`; `""` → `0`. */
export const Money = Schema.transformOrFail(Scalar, Decimal.Decimal, {
  strict: true,
  decode: (v, _, ast) => {
    const d = v === "" ? Decimal.zero : Decimal.parse(typeof v === "boolean" ? undefined : v)
    return d === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, v, `expected an amount such as "317.10", got ${JSON.stringify(v)}`))
      : ParseResult.succeed(d)
  },
  encode: (d) => ParseResult.succeed(d)
})

/** An integer quantity (`"-1"` for a refund line). */
export const Quantity = Schema.transformOrFail(Scalar, Schema.Int, {
  strict: true,
  decode: (v, _, ast) => {
    const n = Number(String(v).trim())
    return Number.isInteger(n)
      ? ParseResult.succeed(n)
      : ParseResult.fail(new ParseResult.Type(ast, v, `expected a whole quantity, got ${JSON.stringify(v)}`))
  },
  encode: (n) => ParseResult.succeed(String(n))
})

/** `2021-06-06T15:19:18+00:00` → UTC DateTime; `""` (never set) → None. */
export const Time = Schema.transformOrFail(Schema.String, Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf), {
  strict: true,
  decode: (s, _, ast) => {
    if (s.trim() === "") return ParseResult.succeed(Option.none())
    return Option.match(DateTime.make(s.trim()), {
      onNone: () => ParseResult.fail(new ParseResult.Type(ast, s, `expected a time such as 2021-06-06T15:19:18+00:00`)),
      onSome: (dt) => ParseResult.succeed(Option.some(DateTime.toUtc(dt)))
    })
  },
  encode: (o) => ParseResult.succeed(Option.match(o, { onNone: () => "", onSome: (d) => DateTime.formatIso(d) }))
})

const normaliseMany = (u: unknown): ReadonlyArray<unknown> =>
  u === undefined || u === null || u === "" ? [] : Array.isArray(u) ? u : [u]

/** One item as an object, several as an array, none as `""` or absent → always an array. */
export const many = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.transform(Schema.Unknown, Schema.Array(item), {
    strict: false,
    decode: normaliseMany,
    encode: (a) => a
  })

/** A container such as `"SaleLines":{"SaleLine":…}` or `"SaleLines":""` → the array of its items. */
export const container = <A, I, R>(key: string, item: Schema.Schema<A, I, R>) =>
  Schema.transform(Schema.Unknown, Schema.Array(item), {
    strict: false,
    decode: (u) =>
      typeof u === "object" && u !== null && !Array.isArray(u)
        ? normaliseMany((u as Record<string, unknown>)[key])
        : [],
    encode: (a) => ({ [key]: a })
  })

/** An optional relation that is `""` (or absent) when empty. */
export const relation = <A, I, R>(schema: Schema.Schema<A, I, R>) =>
  Schema.transform(Schema.Unknown, Schema.OptionFromSelf(schema), {
    strict: false,
    decode: (u) => (typeof u === "object" && u !== null && !Array.isArray(u) ? Option.some(u) : Option.none()),
    encode: (o) => Option.getOrUndefined(o as Option.Option<unknown>)
  })

const opt = <A, I, R>(s: Schema.Schema<A, I, R>) => Schema.optionalWith(s, { exact: true })

export const ContactAddress = Schema.Struct({
  address1: opt(Text),
  address2: opt(Text),
  city: opt(Text),
  state: opt(Text),
  stateCode: opt(Text),
  zip: opt(Text),
  country: opt(Text),
  countryCode: opt(Text)
})
export type ContactAddress = typeof ContactAddress.Type

export const ContactPhone = Schema.Struct({ number: opt(Text), useType: opt(Text) })
export const ContactEmail = Schema.Struct({ address: opt(Text), useType: opt(Text) })

export const Contact = Schema.Struct({
  Addresses: opt(container("ContactAddress", ContactAddress)),
  Phones: opt(container("ContactPhone", ContactPhone)),
  Emails: opt(container("ContactEmail", ContactEmail))
})
export type Contact = typeof Contact.Type

export const Customer = Schema.Struct({
  customerID: Text,
  firstName: opt(Text),
  lastName: opt(Text),
  company: opt(Text),
  Contact: opt(relation(Contact))
})
export type Customer = typeof Customer.Type

export const ShipTo = Schema.Struct({
  shipToID: opt(Text),
  shipped: opt(Flag),
  shipNote: opt(Text),
  firstName: opt(Text),
  lastName: opt(Text),
  company: opt(Text),
  Contact: opt(relation(Contact))
})
export type ShipTo = typeof ShipTo.Type

export const Item = Schema.Struct({
  itemID: opt(Text),
  systemSku: opt(Text),
  customSku: opt(Text),
  upc: opt(Text),
  description: opt(Text)
})
export type Item = typeof Item.Type

export const SaleLine = Schema.Struct({
  saleLineID: Text,
  itemID: opt(Text),
  unitQuantity: Quantity,
  unitPrice: Money,
  calcTotal: opt(Money),
  Item: opt(relation(Item))
})
export type SaleLine = typeof SaleLine.Type

export const Note = Schema.Struct({ note: opt(Text) })

export const SaleNotes = Schema.Struct({
  InternalNote: opt(relation(Note)),
  PrintedNote: opt(relation(Note))
})
export type SaleNotes = typeof SaleNotes.Type

export const Quote = Schema.Struct({
  quoteID: Text,
  issueDate: opt(Time),
  notes: opt(Text),
  archived: opt(Flag),
  saleID: opt(Text)
})
export type Quote = typeof Quote.Type

export const Sale = Schema.Struct({
  saleID: Text,
  timeStamp: opt(Time),
  createTime: opt(Time),
  updatetime: opt(Time),
  /** The same field as Lightspeed's own 2016 tutorial answers spell it (see ChangeDetection). */
  updateTime: opt(Time),
  completeTime: opt(Time),
  completed: opt(Flag),
  archived: opt(Flag),
  voided: opt(Flag),
  referenceNumber: opt(Text),
  ticketNumber: opt(Text),
  total: opt(Money),
  calcSubtotal: opt(Money),
  calcTax1: opt(Money),
  calcTax2: opt(Money),
  calcTotal: opt(Money),
  balance: opt(Money),
  customerID: opt(Text),
  quoteID: opt(Text),
  shipToID: opt(Text),
  shopID: opt(Text),
  SaleLines: opt(container("SaleLine", SaleLine)),
  Customer: opt(relation(Customer)),
  ShipTo: opt(relation(ShipTo)),
  SaleNotes: opt(relation(SaleNotes)),
  Quote: opt(relation(Quote))
})
export type Sale = typeof Sale.Type

export const Attributes = Schema.Struct({
  next: opt(Schema.String),
  previous: opt(Schema.String),
  count: opt(Text)
})

/** `GET …/Sale.json`: `Sale` is absent, `""`, one object or an array. */
export const SaleList = Schema.Struct({
  "@attributes": opt(Attributes),
  Sale: opt(many(Sale))
})
export type SaleList = typeof SaleList.Type

/** `GET …/Sale/{id}.json` and the answer to a Sale PUT. */
export const SaleOne = Schema.Struct({ Sale })
export const QuoteOne = Schema.Struct({ Quote })

export const decodeSaleList = Schema.decodeUnknown(SaleList, { errors: "all" })
export const decodeSaleOne = Schema.decodeUnknown(SaleOne, { errors: "all" })
export const decodeQuoteOne = Schema.decodeUnknown(QuoteOne, { errors: "all" })

/** The relations a full order needs (`load_relations`). */
export const saleRelations = [
  "SaleLines",
  "SaleLines.Item",
  "Customer",
  "Customer.Contact",
  "ShipTo",
  "ShipTo.Contact",
  "SaleNotes",
  "Quote"
] as const
