/**
 * Renders an export page as ShipStation's Custom Store XML. Orders given here have passed `FieldRules.check`;
 * this module only formats: free text in CDATA, money with two decimals, dates as UTC `MM/dd/yyyy HH:mm`.
 *
 * An empty result is `<Orders pages="0"></Orders>`: a well-formed document (ShipStation reports "Root element
 * is missing" for an empty body) whose page count agrees with the core's paging (0 pages for an empty window).
 *
 * The document is written by hand rather than with a generic builder: the shape is fixed, and a generic
 * object-to-XML builder (walking an intermediate object tree, re-escaping, growing one string per node)
 * cost about ten times more than everything else on an export page. Output is byte-for-byte what
 * fast-xml-parser's XMLBuilder produced for the same tree (no whitespace between elements, `<X></X>` for
 * an empty element), which the tests pin.
 */

import { Decimal, Lru, type Order, OrderWindow } from "@posbridge/core"
import { DateTime } from "effect"
import { clean } from "./FieldRules.js"
import { concat } from "./internal/bytes.js"

export interface ExportedOrder {
  readonly order: Order.Order
  /** The export stamp: decides window membership and is sent as LastModified. */
  readonly stamp: DateTime.Utc
}

export const contentType = "text/xml; charset=utf-8"

const declaration = '<?xml version="1.0" encoding="utf-8"?>\n'
const footer = new TextEncoder().encode("</Orders>\n")

/**
 * Free text as CDATA sections. A `]]>` inside the value would end the section early, so the value is split
 * there into adjacent sections (`…]]` + `>…`), which a parser reads back as the original text.
 */
export const cdata = (value: string): { readonly __cdata: ReadonlyArray<string> } => {
  const parts = clean(value).split("]]>")
  const sections: Array<string> = []
  parts.forEach((part, i) => {
    const head = i > 0 ? ">" : ""
    const tail = i < parts.length - 1 ? "]]" : ""
    sections.push(`${head}${part}${tail}`)
  })
  return { __cdata: sections }
}

/** The CDATA markup for `value`: the sections of `cdata(value)` written one after the other. */
const cdataMarkup = (value: string): string => {
  const v = clean(value)
  return v.indexOf("]]>") < 0 ? `<![CDATA[${v}]]>` : `<![CDATA[${v.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`
}

const markup = /[&<>'"]/
const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;" }

/** Text outside CDATA (codes, numbers, dates): escaped, though what the checked order carries never needs it. */
const escape = (value: string): string => (markup.test(value) ? value.replace(/[&<>'"]/g, (c) => entities[c]!) : value)

/**
 * `Decimal.fixed` works on bigints; nearly every amount already has at most `places` decimals and only
 * needs zeros appended, so that case is done on the string. Leading zeros and negative zero (`-0.0`), which
 * `fixed` normalizes, and anything needing rounding go through `fixed`.
 */
const fixed = (d: Decimal.Decimal, places: number): string => {
  const negative = d.charCodeAt(0) === 45 /* - */
  const intStart = negative ? 1 : 0
  const dot = d.indexOf(".")
  const intEnd = dot < 0 ? d.length : dot
  const scale = dot < 0 ? 0 : d.length - dot - 1
  const leadingZero = d.charCodeAt(intStart) === 48 /* 0 */ && intEnd - intStart > 1
  const negativeZero = negative && !/[1-9]/.test(d)
  if (scale > places || leadingZero || negativeZero) return Decimal.fixed(d, places)
  if (scale === places) return d
  return (dot < 0 ? `${d}.` : d) + "0".repeat(places - scale)
}

const money = (d: Decimal.Decimal): string => fixed(d, 2)

/**
 * Writes elements into `out`, the current order's markup, which `flush` hands to the sink after each order.
 * Keeping `out` to one order keeps it small: V8 builds `+=` strings as ropes, and flattening (or encoding)
 * one rope of a whole page costs more than writing the page.
 */
class Writer {
  out = ""

  constructor(private readonly sink: (chunk: string) => void) {}

  flush(): void {
    this.sink(this.out)
    this.out = ""
  }

  /** `<tag><![CDATA[value]]></tag>`. */
  text(tag: string, value: string): void {
    this.out += `<${tag}>${cdataMarkup(value)}</${tag}>`
  }

  /** Like `text`, nothing when the value is absent. */
  optionalText(tag: string, value: string | undefined): void {
    if (value !== undefined) this.out += `<${tag}>${cdataMarkup(value)}</${tag}>`
  }

  /** Each `[tag, field]` of `source` whose value is present, as free text, in order. */
  optionalTexts<S>(source: S, fields: ReadonlyArray<readonly [string, (s: S) => string | undefined]>): void {
    for (const [tag, field] of fields) this.optionalText(tag, field(source))
  }

  /** `<tag>value</tag>` for values that are not free text. */
  plain(tag: string, value: string): void {
    this.out += `<${tag}>${escape(value)}</${tag}>`
  }
}

// ShipStation's element order (PROTOCOL.md), as data: tag and the field that fills it.
const shipToFields: ReadonlyArray<readonly [string, (a: Order.Address) => string | undefined]> = [
  ["Address1", (x) => x.address1],
  ["Address2", (x) => x.address2],
  ["City", (x) => x.city],
  ["State", (x) => x.state],
  ["PostalCode", (x) => x.postalCode],
  ["Country", (x) => x.country]
]
const notesFields: ReadonlyArray<readonly [string, (o: Order.Order) => string | undefined]> = [
  ["CustomerNotes", (x) => x.customerNotes],
  ["InternalNotes", (x) => x.internalNotes]
]
const giftAndCustomFields: ReadonlyArray<readonly [string, (o: Order.Order) => string | undefined]> = [
  ["GiftMessage", (x) => x.giftMessage],
  ["CustomField1", (x) => x.customField1],
  ["CustomField2", (x) => x.customField2],
  ["CustomField3", (x) => x.customField3],
  ["RequestedWarehouse", (x) => x.requestedWarehouse],
  ["Source", (x) => x.source]
]

const address = (w: Writer, tag: "BillTo" | "ShipTo", a: Order.Address): void => {
  const withCountry = tag === "ShipTo"
  w.out += `<${tag}>`
  w.text("Name", a.name)
  w.optionalText("Company", a.company)
  if (withCountry) w.optionalTexts(a, shipToFields)
  w.optionalText("Phone", a.phone)
  if (!withCountry) w.optionalText("Email", a.email)
  w.out += `</${tag}>`
}

const item = (w: Writer, l: Order.OrderLine): void => {
  w.out += "<Item>"
  if (l.lineId !== "") w.text("LineItemID", l.lineId)
  w.text("SKU", l.sku)
  w.text("Name", l.name)
  w.optionalText("ImageUrl", l.imageUrl)
  if (l.weight !== undefined) {
    w.plain("Weight", fixed(l.weight, 4))
    w.plain("WeightUnits", l.weightUnits ?? "Pounds")
  }
  w.plain("Quantity", String(l.quantity))
  w.plain("UnitPrice", money(l.unitPrice))
  w.optionalText("UPC", l.upc)
  w.optionalText("Location", l.location)
  w.out += l.adjustment ? "<Adjustment>true</Adjustment>" : "<Adjustment>false</Adjustment>"
  if (l.options.length > 0) {
    w.out += "<Options>"
    for (const o of l.options) {
      w.out += "<Option>"
      w.text("Name", o.name)
      w.text("Value", o.value)
      w.out += "</Option>"
    }
    w.out += "</Options>"
  }
  w.out += "</Item>"
}

const order = (w: Writer, { order: o, stamp }: ExportedOrder): void => {
  w.out += "<Order>"
  w.text("OrderID", o.posRef)
  w.text("OrderNumber", o.orderNumber)
  w.plain("OrderDate", OrderWindow.format(o.orderDate))
  w.text("OrderStatus", o.status)
  w.plain("LastModified", OrderWindow.format(stamp))
  w.optionalText("ShippingMethod", o.shippingMethod)
  w.optionalText("PaymentMethod", o.paymentMethod)
  if (o.currency !== undefined) w.plain("CurrencyCode", o.currency)
  w.plain("OrderTotal", money(o.orderTotal))
  if (o.taxAmount !== undefined) w.plain("TaxAmount", money(o.taxAmount))
  if (o.shippingAmount !== undefined) w.plain("ShippingAmount", money(o.shippingAmount))
  w.optionalTexts(o, notesFields)
  if (o.gift !== undefined) w.out += o.gift ? "<Gift>true</Gift>" : "<Gift>false</Gift>"
  w.optionalTexts(o, giftAndCustomFields)
  w.out += "<Customer>"
  w.text("CustomerCode", o.customerCode)
  address(w, "BillTo", o.billTo)
  if (o.shipTo !== undefined) address(w, "ShipTo", o.shipTo)
  w.out += "</Customer><Items>"
  for (const l of o.lines) item(w, l)
  w.out += "</Items></Order>"
}

const write = (w: Writer, orders: ReadonlyArray<ExportedOrder>, pages: number): void => {
  w.out = `${declaration}<Orders pages="${escape(String(pages))}">`
  for (const o of orders) {
    order(w, o)
    w.flush()
  }
  w.out += "</Orders>\n"
  w.flush()
}

/** The whole response document for one page. */
export const render = (orders: ReadonlyArray<ExportedOrder>, pages: number): string => {
  const chunks: Array<string> = []
  write(new Writer((chunk) => chunks.push(chunk)), orders, pages)
  return chunks.join("")
}

/**
 * Rendered orders, kept by the checked order they were rendered from (its object identity) and the stamp.
 * Rendering is a pure function of those two, so a hit is byte-for-byte what rendering again would give. An
 * unchanged order is exported again and again (later pages of a poll, overlapping windows, re-polls), and
 * its decoded object is kept by the order store's decode cache and its check by the caller's, so the same
 * object comes back. Entries go when the order object is collected: no size to tune, nothing to evict.
 */
export type Fragments = WeakMap<Order.Order, { readonly stampMs: number; readonly bytes: Uint8Array }>

export const makeFragments = (): Fragments => new WeakMap()

const encoder = new TextEncoder()

/**
 * One order's markup as UTF-8, in an array of its own. Not `Buffer.from`: a small Buffer is a slice of an
 * 8 KiB pool block shared with unrelated data, and a kept fragment would keep the whole block alive.
 */
const orderBytes = (o: ExportedOrder): Uint8Array => {
  const w = new Writer(() => {})
  order(w, o)
  return encoder.encode(w.out)
}

/**
 * The same document as `render`, as the UTF-8 bytes of the response body: each order is encoded on its own
 * (no string of the whole page is ever built, see `Writer`) and the pieces are copied once into a buffer
 * of the exact size. With `fragments`, an order rendered before with the same stamp is taken from there
 * instead of being rendered again.
 */
export const renderBytes = (orders: ReadonlyArray<ExportedOrder>, pages: number, fragments?: Fragments): Uint8Array => {
  const parts: Array<Uint8Array> = [encoder.encode(`${declaration}<Orders pages="${escape(String(pages))}">`)]
  for (const o of orders) {
    const stampMs = DateTime.toEpochMillis(o.stamp)
    const hit = fragments?.get(o.order)
    if (hit !== undefined && hit.stampMs === stampMs) {
      parts.push(hit.bytes)
    } else {
      const bytes = orderBytes(o)
      fragments?.set(o.order, { stampMs, bytes })
      parts.push(bytes)
    }
  }
  parts.push(footer)
  return concat(parts)
}

/**
 * Whole pages as last sent, by a key the caller chooses (store, snapshot and page), least recently used
 * first. A page is sent again as the same bytes only when it holds the same order objects with the same
 * stamps and the same page count: the kept bytes are exactly what `renderBytes` would write again, and the
 * copy and allocation of a whole page are saved. The bytes are never written to after they are kept.
 */
export class Pages {
  private readonly kept: Lru.Lru<
    string,
    { readonly orders: ReadonlyArray<ExportedOrder>; readonly pages: number; readonly bytes: Uint8Array }
  >

  constructor(
    capacity: number,
    readonly fragments: Fragments = makeFragments()
  ) {
    this.kept = new Lru.Lru(capacity)
  }

  /** `keep: false` for a page that cannot be asked for again as it is (a page 1 that froze a new snapshot). */
  render(key: string, orders: ReadonlyArray<ExportedOrder>, pages: number, keep = true): Uint8Array {
    const hit = this.kept.get(key)
    if (hit !== undefined && hit.pages === pages && sameOrders(hit.orders, orders)) return hit.bytes
    const bytes = renderBytes(orders, pages, this.fragments)
    if (keep) this.kept.set(key, { orders, pages, bytes })
    return bytes
  }
}

const sameOrders = (a: ReadonlyArray<ExportedOrder>, b: ReadonlyArray<ExportedOrder>): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.order !== y.order || DateTime.toEpochMillis(x.stamp) !== DateTime.toEpochMillis(y.stamp)) return false
  }
  return true
}
