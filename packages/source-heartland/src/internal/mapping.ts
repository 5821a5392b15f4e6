/**
 * Pure mapping from Heartland documents to core Orders. Every choice on an unconfirmed point is made here, in
 * one place (see README "Unconfirmed points").
 */

import {
  Decimal,
  type DocumentKind,
  type Order,
  type OrderStatus,
  type SourceDocument,
  type StoreId
} from "@posbridge/core"
import { DateTime, Option } from "effect"
import type * as Wire from "./wire.js"

export interface MappingOptions {
  readonly storeId: StoreId.StoreId
  readonly kind: DocumentKind.DocumentKind
  readonly openOrderStatus: "paid" | "unpaid"
  readonly trackingField: string
}

export interface Related {
  readonly lines: ReadonlyArray<Wire.Line>
  readonly items: ReadonlyMap<string, Wire.Item>
  /** Addresses by address id (the customer's address book, fetched once per customer per run). */
  readonly addresses: ReadonlyMap<string, Wire.Address>
}

export const parseTime = (s: string | null | undefined): DateTime.Utc | undefined =>
  s === null || s === undefined ? undefined : Option.getOrUndefined(DateTime.make(s))

const dec = (v: string | number | null | undefined): Decimal.Decimal | undefined =>
  v === null ? undefined : Decimal.parse(v)

const text = (v: string | null | undefined): string | undefined => {
  const t = v?.trim()
  return t === undefined || t === "" ? undefined : t
}

const fullName = (first: string | null | undefined, last: string | null | undefined): string | undefined =>
  text([first ?? "", last ?? ""].join(" "))

const subtract = (a: Decimal.Decimal, b: Decimal.Decimal) => Decimal.add(a, Decimal.negate(b))

/** Strips undefined values so the result satisfies exactOptionalPropertyTypes. */
const compact = <A extends object>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

const toAddress = (address: Wire.Address, fallbackName: string, email: string | undefined): Order.Address =>
  compact({
    name: fullName(address.first_name, address.last_name) ?? fallbackName,
    company: text(address.company),
    address1: text(address.line_1),
    address2: text(address.line_2),
    city: text(address.city),
    state: text(address.state),
    postalCode: text(address.postal_code),
    country: text(address.country),
    phone: text(address.phone),
    email
  }) as Order.Address

/** The tracking text posbridge writes back (see Writeback); its presence means ShipStation shipped the order. */
export const trackingOf = (doc: Pick<Wire.SalesOrder, "custom">, field: string): string | undefined => {
  const value = doc.custom?.[field]
  return typeof value === "string" && value.trim() !== "" ? value : undefined
}

const statusOf = (
  doc: Wire.SalesOrder | Wire.Invoice,
  lines: ReadonlyArray<Wire.Line>,
  options: MappingOptions
): { readonly status: OrderStatus.OrderStatus; readonly exclude?: string } => {
  const status = doc.status.trim().toLowerCase()
  if (options.kind === "invoices") {
    if (status === "complete" || status === "completed") return { status: "paid" }
    if (status === "void" || status === "voided") return { status: "cancelled" }
    return { status: "unpaid", exclude: `Heartland invoice status is "${doc.status}", not complete` }
  }
  switch (status) {
    case "pending":
    case "open":
      // posbridge's own write-back marks the order: once tracking is there, ShipStation must not see it as
      // awaiting shipment again when the write re-saves the order (README "Write-back").
      return { status: trackingOf(doc, options.trackingField) !== undefined ? "shipped" : options.openOrderStatus }
    case "closed":
    case "complete":
    case "completed": {
      const unfulfilled = lines.some((line) => {
        const qty = dec(line.qty)
        const done = dec(line.qty_fulfilled)
        return qty !== undefined && done !== undefined && Decimal.compare(done, qty) < 0
      })
      return { status: unfulfilled ? "on_hold" : "shipped" }
    }
    case "canceled":
    case "cancelled":
    case "void":
      return { status: "cancelled" }
    default:
      // An unknown status is shown (on hold) rather than dropped, so the merchant sees it and can report it.
      return { status: "on_hold" }
  }
}

/** Maps one document; `undefined` when its `updated_at` is unreadable (the caller reports it). */
export const toSourceDocument = (
  doc: Wire.SalesOrder | Wire.Invoice,
  related: Related,
  options: MappingOptions
): SourceDocument.SourceDocument | undefined => {
  const modified = parseTime(doc.updated_at)
  if (modified === undefined) return undefined
  const created = parseTime(doc.created_at) ?? modified
  const problems: Array<string> = []

  const lines: Array<Order.OrderLine> = []
  let discount = Decimal.zero
  let linesTotal = Decimal.zero
  let lineTax: Decimal.Decimal | undefined
  for (const line of related.lines) {
    const qty = dec(line.qty)
    if (qty === undefined) {
      problems.push(`line ${line.id} has an unreadable quantity`)
      continue
    }
    // Returns and removed units are not shipped.
    if (Decimal.compare(qty, Decimal.zero) <= 0) continue
    if (!/^\d+(\.0+)?$/.test(qty)) {
      problems.push(`line ${line.id} has a fractional quantity (${qty}); ShipStation needs whole units`)
      continue
    }
    const quantity = Number.parseInt(qty, 10)
    const original = dec(line.original_unit_price) ?? dec(line.adjusted_unit_price)
    const paid = dec(line.adjusted_unit_price) ?? original
    if (original === undefined || paid === undefined) {
      problems.push(`line ${line.id} has no readable unit price`)
      continue
    }
    const item = line.item_id === undefined || line.item_id === null ? undefined : related.items.get(line.item_id)
    const sku = text(item?.public_id) ?? (line.item_id ? `heartland-item-${line.item_id}` : `heartland-line-${line.id}`)
    lines.push(
      compact({
        lineId: line.id,
        sku,
        name: text(item?.description) ?? text(line.description) ?? sku,
        quantity,
        unitPrice: original,
        adjustment: false,
        upc: text(item?.upc),
        options: []
      }) as Order.OrderLine
    )
    linesTotal = Decimal.add(linesTotal, Decimal.multiplyInt(paid, quantity))
    if (Decimal.compare(paid, original) < 0) {
      discount = Decimal.add(discount, Decimal.multiplyInt(subtract(original, paid), quantity))
    }
    const tax = dec(line.total_tax)
    if (tax !== undefined) lineTax = Decimal.add(lineTax ?? Decimal.zero, tax)
  }
  // Lines carry Heartland's original price and the discount is one adjustment line, the form ShipStation
  // documents for discounts; the order total stays what the customer paid.
  if (!Decimal.isZero(discount)) {
    lines.push({
      lineId: "discount",
      sku: "DISCOUNT",
      name: "Discount",
      quantity: 1,
      unitPrice: Decimal.negate(discount),
      adjustment: true,
      options: []
    })
  }

  const shipping = dec(doc.shipping_charge)
  const tax = dec(doc.total_tax) ?? lineTax
  const total =
    dec(doc.total) ??
    Decimal.sum([linesTotal, shipping ?? Decimal.zero, tax ?? Decimal.zero].filter((d) => d !== undefined))

  const customer = doc.customer ?? undefined
  const customerName = fullName(customer?.first_name, customer?.last_name)
  const email = text(customer?.email)
  const customerId = doc.customer_id ?? customer?.id ?? undefined
  const customerCode = text(customer?.public_id) ?? email ?? (customerId ? `heartland-${customerId}` : "walk-in")

  const lookup = (id: string | null | undefined) =>
    id === null || id === undefined ? undefined : related.addresses.get(id)
  const billing = lookup(doc.billing_address_id)
  const shipping_ = lookup(doc.shipping_address_id)
  const fallbackName = customerName ?? "Customer"
  const billTo: Order.Address = billing
    ? toAddress(billing, fallbackName, email)
    : (compact({ name: fallbackName, email, phone: text(customer?.phone) }) as Order.Address)
  // No shipping address: the order is emitted without a ship-to and held back at export with a reason, rather
  // than guessed from the customer's other addresses (README "Orders without a shipping address").
  const shipTo = shipping_ ? toAddress(shipping_, fallbackName, email) : undefined

  const { status, exclude } = statusOf(doc, related.lines, options)
  const order: Order.Order = compact({
    storeId: options.storeId,
    kind: options.kind,
    posRef: doc.id,
    orderNumber: text(doc.public_id) ?? doc.id,
    orderDate: created,
    posModifiedAt: modified,
    status,
    customerCode,
    billTo,
    shipTo,
    lines,
    orderTotal: total,
    taxAmount: tax,
    shippingAmount: shipping,
    source: "Heartland"
  }) as Order.Order
  const reason = exclude ?? (problems.length > 0 ? problems.join("; ") : undefined)
  return reason === undefined ? { order } : { order, exclude: reason }
}
