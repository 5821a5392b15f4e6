/**
 * ShipStation's field rules (PROTOCOL.md, "Order XML"), applied to each order before it is rendered.
 * ShipStation validates the whole document and one invalid order can stop the import of everything after
 * it, so every order is checked here: what can be repaired is repaired (and said so), what cannot is held
 * back with reasons the merchant can act on. Pure: no I/O.
 */
import type { Decimal, Order } from "@posbridge/core"
import * as Countries from "./Countries.js"

export type Result =
  | { readonly _tag: "Ok"; readonly order: Order.Order; readonly repairs: ReadonlyArray<string> }
  | { readonly _tag: "Held"; readonly reasons: ReadonlyArray<string> }

/** Maximum lengths (in UTF-16 code units, as ShipStation's .NET validator counts them). */
export const limits = {
  OrderID: 50,
  OrderNumber: 50,
  OrderStatus: 50,
  ShippingMethod: 100,
  PaymentMethod: 50,
  Notes: 1000,
  CustomField: 100,
  RequestedWarehouse: 100,
  Source: 50,
  CustomerCode: 50,
  Name: 100,
  Company: 100,
  Phone: 50,
  Email: 100,
  Address: 200,
  City: 100,
  State: 100,
  PostalCode: 50,
  LineItemID: 50,
  SKU: 100,
  ItemName: 200,
  ImageUrl: 500,
  UPC: 100,
  Location: 100,
  Option: 100,
  Quantity: 99_999
} as const

/** XML 1.0 forbids these even inside CDATA: one of them makes the whole document unreadable. */
const allowed = (code: number): boolean =>
  code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd)

/**
 * Any character `allowed` refuses, as one native scan: with the `u` flag a valid surrogate pair is one code
 * point (in the last range) and an unpaired surrogate is a code point outside every range.
 */
const forbidden = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

/** Removes characters XML cannot carry (control characters, U+FFFE/U+FFFF, unpaired surrogates). */
export const clean = (s: string): string => {
  // Every text field of every exported order passes here (twice: check, then render); nearly all are clean.
  if (!forbidden.test(s)) return s
  let out = ""
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    if (allowed(code)) continue
    const next = s.charCodeAt(i + 1)
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++ // a valid surrogate pair
      continue
    }
    out += s.slice(start, i)
    start = i + 1
  }
  return start === 0 ? s : out + s.slice(start)
}

/** Cuts `s` to `max` UTF-16 code units without splitting a surrogate pair. */
export const truncate = (s: string, max: number): string => {
  if (s.length <= max) return s
  const cut = s.slice(0, max)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

class Checker {
  readonly repairs: Array<string> = []
  readonly reasons: Array<string> = []

  /** Cleans and trims; cuts to `max` with a repair note. Empty becomes undefined. */
  text(label: string, value: string | undefined, max: number): string | undefined {
    if (value === undefined) return undefined
    const cleaned = clean(value).trim()
    if (cleaned !== value.trim()) this.repairs.push(`${label}: removed characters XML cannot carry`)
    if (cleaned === "") return undefined
    if (cleaned.length > max) {
      this.repairs.push(`${label}: cut from ${cleaned.length} to ${max} characters`)
      return truncate(cleaned, max).trimEnd()
    }
    return cleaned
  }

  /** Like `text`, but a value over the limit cannot be cut (it is an identity) and holds the order. */
  identity(label: string, value: string | undefined, max: number): string | undefined {
    if (value === undefined) return undefined
    const cleaned = clean(value).trim()
    if (cleaned.length > max) {
      this.reasons.push(`${label} "${truncate(cleaned, 60)}…" is longer than ShipStation's ${max} characters`)
      return undefined
    }
    if (cleaned !== value.trim()) this.repairs.push(`${label}: removed characters XML cannot carry`)
    return cleaned === "" ? undefined : cleaned
  }
}

const set = <T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void => {
  if (value !== undefined) target[key] = value
  // Most optional fields are simply absent: `delete` of a missing key is still a slow runtime call, and
  // deleting a present one turns the object into a slow dictionary, so it is done only when needed.
  else if (key in target) delete target[key]
}

/**
 * `Decimal.isNegative` compares as bigints; the sign of a decimal string is its `-` with a non-zero digit
 * (`-0.00` is not negative).
 */
const nonZeroDigit = /[1-9]/
const isNegative = (d: Decimal.Decimal): boolean => d.charCodeAt(0) === 45 /* - */ && nonZeroDigit.test(d)

const currencyCode = /^[A-Z]{3}$/

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const checkAddress = (
  c: Checker,
  label: "BillTo" | "ShipTo",
  address: Order.Address,
  fallbackName: string | undefined
): Order.Address => {
  const a: Mutable<Order.Address> = { ...address }
  let name = c.text(`${label}/Name`, address.name, limits.Name)
  if (name === undefined && fallbackName !== undefined) {
    name = fallbackName
    c.repairs.push(`${label}/Name: empty, used "${fallbackName}"`)
  }
  a.name = name ?? ""
  set(a, "company", c.text(`${label}/Company`, address.company, limits.Company))
  set(a, "address1", c.text(`${label}/Address1`, address.address1, limits.Address))
  set(a, "address2", c.text(`${label}/Address2`, address.address2, limits.Address))
  set(a, "city", c.text(`${label}/City`, address.city, limits.City))
  set(a, "state", c.text(`${label}/State`, address.state, limits.State))
  set(a, "postalCode", c.text(`${label}/PostalCode`, address.postalCode, limits.PostalCode))
  set(a, "phone", c.text(`${label}/Phone`, address.phone, limits.Phone))
  set(a, "email", c.text(`${label}/Email`, address.email, limits.Email))
  const rawCountry = address.country?.trim()
  if (rawCountry !== undefined && rawCountry !== "") {
    const code = Countries.toAlpha2(rawCountry)
    if (code !== undefined) {
      if (code !== rawCountry) c.repairs.push(`${label}/Country: "${rawCountry}" sent as ${code}`)
      a.country = code
    } else if (label === "ShipTo") {
      c.reasons.push(`ShipTo/Country "${truncate(rawCountry, 60)}" is not a recognized country name or ISO code`)
      delete a.country
    } else {
      // BillTo has no Country element in ShipStation's schema: an unknown value is simply not needed.
      delete a.country
    }
  } else delete a.country
  if (a.country !== undefined && Countries.requiresStateCode(a.country) && a.state !== undefined) {
    const code = Countries.stateCode(a.country, a.state)
    if (code !== undefined) {
      if (code !== a.state) c.repairs.push(`${label}/State: "${a.state}" sent as ${code}`)
      a.state = code
    } else if (label === "ShipTo") {
      c.reasons.push(
        `ShipTo/State "${truncate(a.state, 60)}" is not a ${a.country === "US" ? "US state" : "Canadian province"}`
      )
    }
  }
  return a
}

/** ShipStation can ship to an address only with these; the check names each missing one. */
const requireShipTo = (c: Checker, a: Order.Address): void => {
  if (a.name === "") c.reasons.push("ShipTo/Name is empty")
  if (a.address1 === undefined) c.reasons.push("ShipTo/Address1 is empty")
  if (a.city === undefined) c.reasons.push("ShipTo/City is empty")
  if (a.country === undefined && !c.reasons.some((r) => r.startsWith("ShipTo/Country"))) {
    c.reasons.push("ShipTo/Country is empty")
  }
  if (a.country !== undefined && Countries.requiresStateCode(a.country) && a.state === undefined) {
    c.reasons.push(`ShipTo/State is empty (required for ${a.country})`)
  }
}

const hasAddress = (a: Order.Address): boolean =>
  (a.address1 ?? "").trim() !== "" && (a.city ?? "").trim() !== "" && (a.country ?? "").trim() !== ""

const checkLine = (c: Checker, line: Order.OrderLine, index: number): Order.OrderLine | undefined => {
  const label = `Item ${index + 1}${line.lineId ? ` (${truncate(line.lineId, 40)})` : ""}`
  if (line.quantity <= 0) {
    c.repairs.push(`${label}: quantity ${line.quantity} is not shippable, line left out`)
    return undefined
  }
  const l: Mutable<Order.OrderLine> = { ...line }
  if (line.quantity > limits.Quantity) {
    c.reasons.push(`${label}: quantity ${line.quantity} is above ShipStation's ${limits.Quantity}`)
  }
  const adjustment = line.adjustment || isNegative(line.unitPrice)
  if (adjustment && !line.adjustment) c.repairs.push(`${label}: negative unit price, sent as an Adjustment`)
  l.adjustment = adjustment
  l.lineId = c.identity(`${label}/LineItemID`, line.lineId, limits.LineItemID) ?? ""
  let sku = c.identity(`${label}/SKU`, line.sku, limits.SKU)
  let name = c.text(`${label}/Name`, line.name, limits.ItemName)
  if (sku === undefined && adjustment) {
    sku = "ADJUSTMENT"
  } else if (sku === undefined && !c.reasons.some((r) => r.startsWith(`${label}/SKU`))) {
    c.reasons.push(`${label}: the item has no SKU`)
  }
  if (name === undefined && sku !== undefined) {
    name = sku
    c.repairs.push(`${label}/Name: empty, used the SKU`)
  }
  l.sku = sku ?? ""
  l.name = name ?? ""
  if (l.name === "" && sku === undefined) c.reasons.push(`${label}: the item has no name`)
  set(
    l,
    "imageUrl",
    (() => {
      const url = line.imageUrl === undefined ? undefined : clean(line.imageUrl).trim()
      if (url === undefined || url === "") return undefined
      // A cut URL points nowhere; leaving the image out is the repair.
      if (url.length > limits.ImageUrl) {
        c.repairs.push(`${label}/ImageUrl: longer than ${limits.ImageUrl} characters, left out`)
        return undefined
      }
      return url
    })()
  )
  set(l, "upc", c.text(`${label}/UPC`, line.upc, limits.UPC))
  set(l, "location", c.text(`${label}/Location`, line.location, limits.Location))
  if (line.weight !== undefined && isNegative(line.weight)) {
    c.repairs.push(`${label}/Weight: negative weight left out`)
    delete l.weight
    delete l.weightUnits
  }
  const options: Array<Order.LineOption> = []
  line.options.forEach((o, i) => {
    const name = c.text(`${label}/Option ${i + 1}/Name`, o.name, limits.Option)
    const value = c.text(`${label}/Option ${i + 1}/Value`, o.value, limits.Option)
    if (name !== undefined) options.push({ name, value: value ?? "" })
  })
  l.options = options
  return l
}

/** Checks one order against ShipStation's field rules. */
export const check = (order: Order.Order): Result => {
  const c = new Checker()
  const o: Mutable<Order.Order> = { ...order }

  const orderId = c.identity("OrderID", order.posRef, limits.OrderID)
  if (orderId === undefined && !c.reasons.some((r) => r.startsWith("OrderID"))) c.reasons.push("OrderID is empty")
  o.posRef = orderId ?? order.posRef

  const orderNumber = c.text("OrderNumber", order.orderNumber, limits.OrderNumber)
  if (orderNumber === undefined) {
    // The POS id is the only other identity the merchant can search for.
    if (orderId === undefined) c.reasons.push("OrderNumber is empty")
    else c.repairs.push(`OrderNumber: empty, used the POS id ${orderId}`)
  }
  o.orderNumber = orderNumber ?? orderId ?? ""

  set(o, "shippingMethod", c.text("ShippingMethod", order.shippingMethod, limits.ShippingMethod))
  set(o, "paymentMethod", c.text("PaymentMethod", order.paymentMethod, limits.PaymentMethod))
  const currency = order.currency?.trim().toUpperCase()
  if (currency !== undefined && currency !== "" && !currencyCode.test(currency)) {
    c.repairs.push(`CurrencyCode: "${truncate(order.currency ?? "", 20)}" is not an ISO 4217 code, left out`)
    delete o.currency
  } else set(o, "currency", currency === "" ? undefined : currency)
  set(o, "customerNotes", c.text("CustomerNotes", order.customerNotes, limits.Notes))
  set(o, "internalNotes", c.text("InternalNotes", order.internalNotes, limits.Notes))
  set(o, "giftMessage", c.text("GiftMessage", order.giftMessage, limits.Notes))
  set(o, "customField1", c.text("CustomField1", order.customField1, limits.CustomField))
  set(o, "customField2", c.text("CustomField2", order.customField2, limits.CustomField))
  set(o, "customField3", c.text("CustomField3", order.customField3, limits.CustomField))
  set(o, "requestedWarehouse", c.text("RequestedWarehouse", order.requestedWarehouse, limits.RequestedWarehouse))
  set(o, "source", c.text("Source", order.source, limits.Source))

  const billTo = checkAddress(c, "BillTo", order.billTo, order.shipTo?.name?.trim() || undefined)
  let customerCode = c.text("CustomerCode", order.customerCode, limits.CustomerCode)
  if (customerCode === undefined) {
    customerCode = billTo.email ?? (billTo.name !== "" ? billTo.name : undefined)
    if (customerCode !== undefined) {
      customerCode = truncate(customerCode, limits.CustomerCode)
      c.repairs.push(`CustomerCode: empty, used "${customerCode}"`)
    } else c.reasons.push("CustomerCode is empty and there is no customer email or name to use")
  }
  o.customerCode = customerCode ?? ""
  if (billTo.name === "") c.reasons.push("BillTo/Name is empty")
  o.billTo = billTo

  if (order.shipTo !== undefined) {
    const shipTo = checkAddress(c, "ShipTo", order.shipTo, billTo.name !== "" ? billTo.name : undefined)
    requireShipTo(c, shipTo)
    o.shipTo = shipTo
  } else if (hasAddress(order.billTo)) {
    c.repairs.push("ShipTo: missing, used the BillTo address")
    const shipTo = checkAddress(c, "ShipTo", order.billTo, undefined)
    requireShipTo(c, shipTo)
    o.shipTo = shipTo
  } else {
    c.reasons.push("there is no ship-to address and the bill-to address is incomplete")
  }

  const lines: Array<Order.OrderLine> = []
  order.lines.forEach((line, i) => {
    const l = checkLine(c, line, i)
    if (l !== undefined) lines.push(l)
  })
  o.lines = lines
  if (!o.lines.some((l) => !l.adjustment)) {
    c.reasons.push("the order has no shippable item (every line is a refund, a discount or quantity 0)")
  }

  return c.reasons.length > 0 ? { _tag: "Held", reasons: c.reasons } : { _tag: "Ok", order: o, repairs: c.repairs }
}
