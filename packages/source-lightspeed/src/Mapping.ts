/**
 * Pure mapping of one normalised Lightspeed Sale to the document posbridge stores.
 * Invoices = completed Sales (identified by saleID); orders = Quotes found through their Sales (identified by
 * quoteID, stable across the new saleID each quote modification creates).
 */
import { Decimal, type DocumentKind, type Order, type SourceDocument, type StoreId } from "@posbridge/core"
import { type DateTime, Option } from "effect"
import * as ChangeDetection from "./ChangeDetection.js"
import type * as Wire from "./Wire.js"

export interface Context {
  readonly storeId: StoreId.StoreId
  readonly kind: DocumentKind.DocumentKind
  readonly currency?: string | undefined
}

/** A Sale that is not a document of this store's kind at all (nothing is recorded for it). */
export interface Skip {
  readonly _tag: "Skip"
  readonly saleId: string
  readonly reason: string
}

export interface Document {
  readonly _tag: "Document"
  readonly saleId: string
  readonly document: SourceDocument.SourceDocument
}

export type Result = Skip | Document

/** Marker of posbridge's write-back line in the Sale's internal note (see WriteBack.ts). */
export const writeBackMarker = "[posbridge] Shipped"

const present = (s: string | undefined): string | undefined => {
  const t = s?.trim()
  return t === undefined || t === "" ? undefined : t
}

const isId = (s: string | undefined): s is string => {
  const t = present(s)
  return t !== undefined && t !== "0"
}

const time = (t: Option.Option<DateTime.Utc> | undefined): Option.Option<DateTime.Utc> =>
  t === undefined ? Option.none() : t

const note = (n: Option.Option<{ readonly note?: string | undefined }> | undefined): string | undefined =>
  n === undefined ? undefined : Option.match(n, { onNone: () => undefined, onSome: (x) => present(x.note) })

const some = <A>(o: Option.Option<A> | undefined): A | undefined =>
  o === undefined ? undefined : Option.getOrUndefined(o)

const compact = <A extends Record<string, unknown>>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

const fullName = (first?: string, last?: string): string | undefined =>
  present([present(first), present(last)].filter((x) => x !== undefined).join(" "))

const address = (
  base: { firstName?: string | undefined; lastName?: string | undefined; company?: string | undefined },
  contact: Wire.Contact | undefined,
  fallbackName: string
): Order.Address => {
  const a = contact?.Addresses?.[0]
  const phone = contact?.Phones?.find((p) => present(p.number) !== undefined)
  const email = contact?.Emails?.find((e) => present(e.address) !== undefined)
  const company = present(base.company)
  return compact({
    name: fullName(base.firstName, base.lastName) ?? company ?? fallbackName,
    company,
    address1: present(a?.address1),
    address2: present(a?.address2),
    city: present(a?.city),
    state: present(a?.stateCode) ?? present(a?.state),
    postalCode: present(a?.zip),
    country: present(a?.countryCode) ?? present(a?.country),
    phone: present(phone?.number),
    email: present(email?.address)
  }) as Order.Address
}

const hasStreet = (a: Order.Address): boolean => a.address1 !== undefined

/**
 * Lines as they ship. Refund lines (negative quantity) cancel the same item's sold quantity within the Sale; a
 * line whose net quantity is zero or less is dropped. Lines without an item (misc. charges) are kept as sold.
 */
export const lines = (saleLines: ReadonlyArray<Wire.SaleLine>): ReadonlyArray<Order.OrderLine> => {
  const refunds = new Map<string, number>()
  for (const l of saleLines) {
    if (l.unitQuantity < 0 && isId(l.itemID)) refunds.set(l.itemID, (refunds.get(l.itemID) ?? 0) - l.unitQuantity)
  }
  const out: Array<Order.OrderLine> = []
  for (const l of saleLines) {
    if (l.unitQuantity <= 0) continue
    let quantity = l.unitQuantity
    if (isId(l.itemID)) {
      const refunded = refunds.get(l.itemID) ?? 0
      const take = Math.min(refunded, quantity)
      refunds.set(l.itemID, refunded - take)
      quantity -= take
    }
    if (quantity <= 0) continue
    const item = some(l.Item)
    const sku = present(item?.customSku) ?? present(item?.systemSku) ?? `LS-LINE-${l.saleLineID}`
    out.push(
      compact({
        lineId: l.saleLineID,
        sku,
        name: present(item?.description) ?? sku,
        quantity,
        unitPrice: l.unitPrice,
        adjustment: false,
        upc: present(item?.upc),
        options: []
      }) as Order.OrderLine
    )
  }
  return out
}

const skip = (sale: Wire.Sale, reason: string): Skip => ({ _tag: "Skip", saleId: sale.saleID, reason })

export const map = (sale: Wire.Sale, ctx: Context): Result => {
  const modifiedAt = ChangeDetection.modifiedAt(sale)
  if (Option.isNone(modifiedAt)) return skip(sale, "the Sale has no timeStamp, updatetime or createTime")
  const quote = some(sale.Quote)
  const quoteId = isId(sale.quoteID) ? sale.quoteID : isId(quote?.quoteID) ? quote?.quoteID : undefined
  const completed = sale.completed === true
  const voided = sale.voided === true

  let posRef: string
  let status: Order.Order["status"]
  let orderDate: DateTime.Utc
  let exclude: string | undefined
  if (ctx.kind === "orders") {
    if (quoteId === undefined) return skip(sale, "not a quote (quoteID is 0)")
    // Each quote modification creates a new Sale; only the one the Quote points to is the current version.
    if (quote !== undefined && isId(quote.saleID) && quote.saleID !== sale.saleID) {
      return skip(sale, `superseded version of quote ${quoteId} (current sale ${quote.saleID})`)
    }
    posRef = quoteId
    status = quote?.archived === true || voided ? "cancelled" : completed ? "paid" : "unpaid"
    orderDate = Option.getOrElse(
      Option.orElse(time(quote?.issueDate), () => time(sale.createTime)),
      () => modifiedAt.value
    )
  } else {
    if (!completed) return skip(sale, "sale not completed")
    posRef = sale.saleID
    status = voided ? "cancelled" : "paid"
    orderDate = Option.getOrElse(
      Option.orElse(time(sale.completeTime), () => time(sale.createTime)),
      () => modifiedAt.value
    )
  }

  const saleLines = sale.SaleLines ?? []
  const shipLines = lines(saleLines)
  if (shipLines.length === 0 && status !== "cancelled") {
    exclude = saleLines.some((l) => l.unitQuantity < 0)
      ? "fully refunded or a return: nothing left to ship"
      : "the sale has no lines to ship"
  }

  const customer = some(sale.Customer)
  const customerContact = some(customer?.Contact)
  const billTo = address(customer ?? {}, customerContact, "Walk-in customer")
  const shipToWire = isId(sale.shipToID) || sale.ShipTo !== undefined ? some(sale.ShipTo) : undefined
  let shipTo: Order.Address | undefined
  if (shipToWire !== undefined) {
    shipTo = address(shipToWire, some(shipToWire.Contact), billTo.name)
    // A ShipTo without its own street (some registers only fill names) falls back to the customer's address.
    if (!hasStreet(shipTo) && hasStreet(billTo)) shipTo = { ...billTo, name: shipTo.name }
  } else if (hasStreet(billTo)) {
    shipTo = billTo
  }
  // No ship-to and no customer address: shipTo stays absent and the export holds the order back with its reason.

  const internal = note(some(sale.SaleNotes)?.InternalNote)
  if (status !== "cancelled" && (shipToWire?.shipped === true || internal?.includes(writeBackMarker) === true)) {
    status = "shipped"
  }

  const tax = Decimal.add(sale.calcTax1 ?? Decimal.zero, sale.calcTax2 ?? Decimal.zero)
  const order: Order.Order = compact({
    storeId: ctx.storeId,
    kind: ctx.kind,
    posRef,
    orderNumber: ctx.kind === "orders" ? `Q${posRef}` : (present(sale.ticketNumber) ?? sale.saleID),
    orderDate,
    posModifiedAt: modifiedAt.value,
    status,
    customerCode: isId(sale.customerID)
      ? sale.customerID
      : isId(customer?.customerID)
        ? customer.customerID
        : "walk-in",
    billTo,
    shipTo,
    lines: shipLines,
    orderTotal: sale.calcTotal ?? sale.total ?? Decimal.zero,
    taxAmount: tax,
    currency: ctx.currency,
    internalNotes: internal,
    customerNotes: note(some(sale.SaleNotes)?.PrintedNote) ?? present(quote?.notes),
    source: "Lightspeed"
  }) as Order.Order
  return {
    _tag: "Document",
    saleId: sale.saleID,
    document: exclude === undefined ? { order } : { order, exclude }
  }
}
