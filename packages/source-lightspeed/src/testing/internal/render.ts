/**
 * The account as Lightspeed's JSON renders it. The shape quirks live here: one element is an object and several
 * an array, empty containers are `""`, every scalar is a string, amounts print without trailing zeros
 * (`317.1`), times are second precision with `+00:00`.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { Account, PersonInput, SimQuote, SimSale } from "./account.js"

const TAX_PERCENT = 8

/** One element as an object, several as an array: Lightspeed's JSON rendering of XML. */
export const oneOrMany = <A>(items: ReadonlyArray<A>): A | ReadonlyArray<A> | "" =>
  items.length === 0 ? "" : items.length === 1 ? (items[0] as A) : items

/** Integer cents as Lightspeed prints amounts: `317.1`, `12`, `-5.25`. */
export const renderCents = (cents: number): string => {
  const negative = cents < 0
  const abs = Math.abs(cents)
  const frac = String(abs % 100)
    .padStart(2, "0")
    .replace(/0+$/, "")
  return `${negative ? "-" : ""}${Math.floor(abs / 100)}${frac === "" ? "" : `.${frac}`}`
}

/** Lightspeed time format, always `+00:00`, second precision. */
export const renderTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}+00:00`

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(JSON.stringify(body), { status, headers, contentType: "application/json" })

export const apiError = (status: number, message: string, headers: Record<string, string> = {}) =>
  json({ httpCode: String(status), httpMessage: message, message, errorClass: "SimulatedError" }, status, headers)

const renderContact = (p: PersonInput) => ({
  Addresses:
    p.address === undefined
      ? ""
      : {
          ContactAddress: {
            address1: p.address.address1,
            address2: p.address.address2 ?? "",
            city: p.address.city,
            state: p.address.state ?? "",
            stateCode: p.address.stateCode ?? "",
            zip: p.address.zip ?? "",
            country: p.address.country ?? "",
            countryCode: p.address.countryCode ?? ""
          }
        },
  Phones: p.phone === undefined ? "" : { ContactPhone: { number: p.phone, useType: "Home" } },
  Emails: p.email === undefined ? "" : { ContactEmail: { address: p.email, useType: "Primary" } }
})

const totals = (sale: SimSale) => {
  const subtotal = sale.lines.reduce((n, l) => n + l.unitQuantity * l.unitPriceCents, 0)
  const tax = Math.round((subtotal * TAX_PERCENT) / 100)
  return { subtotal, tax, total: subtotal + tax }
}

export const renderQuote = (q: SimQuote) => ({
  quoteID: String(q.quoteID),
  issueDate: renderTime(q.issueDate),
  notes: q.notes,
  archived: String(q.archived),
  employeeID: "1",
  saleID: String(q.saleID)
})

const renderLines = (account: Account, sale: SimSale, relations: ReadonlySet<string>) =>
  sale.lines.length === 0
    ? ""
    : {
        SaleLine: oneOrMany(
          sale.lines.map((l) => {
            const item = account.items.get(l.itemID)
            return {
              saleLineID: String(l.saleLineID),
              itemID: String(l.itemID),
              unitQuantity: String(l.unitQuantity),
              unitPrice: renderCents(l.unitPriceCents),
              calcTotal: renderCents(l.unitPriceCents * l.unitQuantity),
              ...(relations.has("SaleLines.Item") && item !== undefined
                ? {
                    Item: {
                      itemID: String(item.itemID),
                      systemSku: item.systemSku,
                      customSku: item.customSku,
                      upc: item.upc,
                      description: item.description
                    }
                  }
                : {})
            }
          })
        )
      }

/** A Sale with the relations asked for in `load_relations`. */
export const renderSale = (account: Account, sale: SimSale, relations: ReadonlySet<string>) => {
  const t = totals(sale)
  const out: Record<string, unknown> = {
    saleID: String(sale.saleID),
    timeStamp: renderTime(sale.timeStamp),
    createTime: renderTime(sale.createTime),
    updatetime: renderTime(sale.updatetime),
    completeTime: sale.completeTime === undefined ? "" : renderTime(sale.completeTime),
    completed: String(sale.completed),
    archived: String(sale.archived),
    voided: String(sale.voided),
    referenceNumber: "",
    ticketNumber: sale.ticketNumber,
    total: renderCents(t.total),
    calcSubtotal: renderCents(t.subtotal),
    calcTax1: renderCents(t.tax),
    calcTax2: "0",
    calcTotal: renderCents(t.total),
    balance: sale.completed ? "0" : renderCents(t.total),
    customerID: String(sale.customerID),
    quoteID: String(sale.quoteID),
    shipToID: String(sale.shipTo?.id ?? 0),
    shopID: String(sale.shopID)
  }
  if (relations.has("SaleLines")) out.SaleLines = renderLines(account, sale, relations)
  const customer = account.customers.get(sale.customerID)
  if (relations.has("Customer") && customer !== undefined) {
    out.Customer = {
      customerID: String(customer.id),
      firstName: customer.input.firstName,
      lastName: customer.input.lastName,
      company: customer.input.company ?? "",
      ...(relations.has("Customer.Contact") ? { Contact: renderContact(customer.input) } : {})
    }
  }
  if (relations.has("ShipTo") && sale.shipTo !== undefined) {
    out.ShipTo = {
      shipToID: String(sale.shipTo.id),
      saleID: String(sale.saleID),
      shipped: String(sale.shipTo.shipped),
      shipNote: sale.shipTo.shipNote,
      firstName: sale.shipTo.input.firstName,
      lastName: sale.shipTo.input.lastName,
      company: sale.shipTo.input.company ?? "",
      ...(relations.has("ShipTo.Contact") ? { Contact: renderContact(sale.shipTo.input) } : {})
    }
  }
  if (relations.has("SaleNotes")) {
    const notes: Record<string, unknown> = {}
    if (sale.internalNote !== "") notes.InternalNote = { noteID: String(sale.saleID * 10), note: sale.internalNote }
    if (sale.printedNote !== "") notes.PrintedNote = { noteID: String(sale.saleID * 10 + 1), note: sale.printedNote }
    out.SaleNotes = Object.keys(notes).length === 0 ? "" : notes
  }
  const quote = account.quotes.get(sale.quoteID)
  if (relations.has("Quote") && quote !== undefined) out.Quote = renderQuote(quote)
  return out
}
