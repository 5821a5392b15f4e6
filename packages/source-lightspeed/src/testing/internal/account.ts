/**
 * One simulated Lightspeed account: its Sales, Quotes, customers and items, and every change made to them. A
 * merchant's action (`Merchant`) and an API write (`write`) are the only ways anything changes, each a function
 * of this module reading the time once and writing every save to the simulator's change log (pos-testkit
 * `ChangeLog`), named as posbridge exports it: a completed Sale is an invoice (its saleID), a Quote is an order (its
 * quoteID, changed through the Sale it points at). The HTTP side only reads. A simulator serving several accounts
 * keeps one of these per account id.
 */
import type { ChangeLog } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { recorder } from "./changes.js"

export interface AddressInput {
  readonly address1: string
  readonly address2?: string | undefined
  readonly city: string
  readonly state?: string | undefined
  readonly stateCode?: string | undefined
  readonly zip?: string | undefined
  readonly country?: string | undefined
  readonly countryCode?: string | undefined
}

export interface PersonInput {
  readonly firstName: string
  readonly lastName: string
  readonly company?: string | undefined
  readonly address?: AddressInput | undefined
  readonly phone?: string | undefined
  readonly email?: string | undefined
}

export interface LineInput {
  readonly systemSku: string
  readonly customSku?: string | undefined
  readonly upc?: string | undefined
  readonly description: string
  /** Negative for a refund line. */
  readonly quantity: number
  /** Decimal string, e.g. `"12.50"`. */
  readonly unitPrice: string
}

export interface SaleInput {
  readonly customer?: PersonInput | undefined
  readonly shipTo?: PersonInput | undefined
  readonly lines: ReadonlyArray<LineInput>
  /** Default true. A quote is never completed at creation. */
  readonly completed?: boolean | undefined
  /** Creates a Quote whose Sale this is. */
  readonly quote?: { readonly notes?: string | undefined } | undefined
  readonly internalNote?: string | undefined
  readonly printedNote?: string | undefined
  readonly shopID?: number | undefined
  /** Creation time (epoch ms); default now. Used to seed history. */
  readonly at?: number | undefined
}

export interface SaleView {
  readonly saleID: number
  readonly quoteID: number
  readonly completed: boolean
  readonly voided: boolean
  readonly internalNote: string
  readonly shipped: boolean | undefined
  readonly shipNote: string | undefined
  readonly updatetime: number
}

/** What a merchant does to the account in Lightspeed's back office (and what a test reads back). */
export interface Merchant {
  readonly accountId: string
  readonly addSale: (input: SaleInput) => Effect.Effect<{ readonly saleID: number; readonly quoteID: number }>
  /** The merchant opens the Sale and saves it without changes. */
  readonly resaveSale: (saleID: number) => Effect.Effect<void>
  readonly completeSale: (saleID: number) => Effect.Effect<void>
  readonly voidSale: (saleID: number) => Effect.Effect<void>
  /** A quote edit: Lightspeed creates a new Sale (new saleID) for the same quoteID. Returns the new saleID. */
  readonly modifyQuote: (
    quoteID: number,
    change: { readonly lines?: ReadonlyArray<LineInput>; readonly notes?: string }
  ) => Effect.Effect<number>
  readonly archiveQuote: (quoteID: number) => Effect.Effect<void>
  /** The merchant edits a Sale's notes in the back office. */
  readonly editNotes: (
    saleID: number,
    notes: { readonly internalNote?: string | undefined; readonly printedNote?: string | undefined }
  ) => Effect.Effect<void>
  readonly sale: (saleID: number) => Effect.Effect<SaleView | undefined>
  /** The Sale a Quote points at now, if the quote exists. */
  readonly quoteSale: (quoteID: number) => Effect.Effect<number | undefined>
  readonly saleCount: Effect.Effect<number>
}

export interface SimPerson {
  readonly id: number
  readonly input: PersonInput
}

export interface SimShipTo extends SimPerson {
  shipped: boolean
  shipNote: string
}

export interface SimLine {
  readonly saleLineID: number
  readonly itemID: number
  readonly unitQuantity: number
  readonly unitPriceCents: number
}

export interface SimItem {
  readonly itemID: number
  readonly systemSku: string
  readonly customSku: string
  readonly upc: string
  readonly description: string
}

export interface SimSale {
  readonly saleID: number
  createTime: number
  updatetime: number
  timeStamp: number
  completeTime: number | undefined
  completed: boolean
  voided: boolean
  archived: boolean
  readonly ticketNumber: string
  readonly customerID: number
  readonly quoteID: number
  readonly shopID: number
  readonly shipTo: SimShipTo | undefined
  lines: ReadonlyArray<SimLine>
  internalNote: string
  printedNote: string
}

export interface SimQuote {
  readonly quoteID: number
  readonly issueDate: number
  notes: string
  archived: boolean
  saleID: number
}

/** What an API `PUT …/Sale/{id}.json` may change (the fields the adapter's write-back sends). */
export interface SaleWrite {
  readonly internalNote?: string | undefined
  readonly printedNote?: string | undefined
  readonly shipped?: boolean | undefined
  readonly shipNote?: string | undefined
}

export interface Account {
  readonly accountId: string
  /** What the merchant (or a test) does to the account. */
  readonly merchant: Merchant
  readonly sales: ReadonlyMap<number, SimSale>
  readonly quotes: ReadonlyMap<number, SimQuote>
  readonly customers: ReadonlyMap<number, SimPerson>
  readonly items: ReadonlyMap<number, SimItem>
  /** An API write to a Sale. */
  readonly write: (sale: SimSale, change: SaleWrite) => Effect.Effect<void>
}

export interface AccountOptions {
  readonly accountId: string
  /** Where every save of a Sale is recorded. */
  readonly changes: ChangeLog.ChangeLog
  /** Simulated epoch millis. */
  readonly now: Effect.Effect<number>
  /** Unconfirmed in the real API; the simulator assumes the pessimistic case: a write bumps `updatetime`. */
  readonly writeBumpsUpdatetime: boolean
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000

/** `"12.50"` → 1250: amounts are kept in integer cents, so totals are exact. */
const parseCents = (decimal: string): number => {
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(decimal.trim())
  if (m === null) throw new RangeError(`Simulator: not a 2-place amount: ${decimal}`)
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0"))
  return m[1] === "-" ? -cents : cents
}

export const makeAccount = (options: AccountOptions): Account => {
  const { now } = options
  const sales = new Map<number, SimSale>()
  const quotes = new Map<number, SimQuote>()
  const customers = new Map<number, SimPerson>()
  const items = new Map<string, SimItem>()
  const itemsById = new Map<number, SimItem>()
  const ids = { sale: 1000, line: 5000, customer: 200, shipTo: 300, quote: 40, item: 700, ticket: 220000000 }

  const itemFor = (line: LineInput): SimItem => {
    const key = `${line.systemSku}|${line.customSku ?? ""}|${line.description}`
    let item = items.get(key)
    if (item === undefined) {
      item = {
        itemID: ++ids.item,
        systemSku: line.systemSku,
        customSku: line.customSku ?? "",
        upc: line.upc ?? "",
        description: line.description
      }
      items.set(key, item)
      itemsById.set(item.itemID, item)
    }
    return item
  }

  const makeLines = (lines: ReadonlyArray<LineInput>): ReadonlyArray<SimLine> =>
    lines.map((l) => ({
      saleLineID: ++ids.line,
      itemID: itemFor(l).itemID,
      unitQuantity: l.quantity,
      unitPriceCents: parseCents(l.unitPrice)
    }))

  const saved = recorder({ accountId: options.accountId, changes: options.changes, quotes, customers })

  const touch = (sale: SimSale, at: number) => {
    sale.updatetime = Math.max(seconds(at), sale.updatetime)
    // Documented: "last modified, or if complete the time it was completed".
    sale.timeStamp = sale.completed && sale.completeTime !== undefined ? sale.completeTime : sale.updatetime
  }

  const addSale = (input: SaleInput) =>
    Effect.map(now, (nowMs) => {
      const at = seconds(input.at ?? nowMs)
      let customerID = 0
      if (input.customer !== undefined) {
        customerID = ++ids.customer
        customers.set(customerID, { id: customerID, input: input.customer })
      }
      const isQuote = input.quote !== undefined
      const completed = !isQuote && (input.completed ?? true)
      const saleID = ++ids.sale
      let quoteID = 0
      if (isQuote) {
        quoteID = ++ids.quote
        quotes.set(quoteID, { quoteID, issueDate: at, notes: input.quote?.notes ?? "", archived: false, saleID })
      }
      const sale: SimSale = {
        saleID,
        createTime: at,
        updatetime: at,
        timeStamp: at,
        completeTime: completed ? at : undefined,
        completed,
        voided: false,
        archived: false,
        ticketNumber: String(++ids.ticket),
        customerID,
        quoteID,
        shopID: input.shopID ?? 1,
        shipTo:
          input.shipTo === undefined
            ? undefined
            : { id: ++ids.shipTo, input: input.shipTo, shipped: false, shipNote: "" },
        lines: makeLines(input.lines),
        internalNote: input.internalNote ?? "",
        printedNote: input.printedNote ?? ""
      }
      sales.set(saleID, sale)
      saved(sale, nowMs, "created")
      return { saleID, quoteID }
    })

  const withSale = (saleID: number, f: (sale: SimSale, nowMs: number) => void) =>
    Effect.flatMap(now, (nowMs) => {
      const sale = sales.get(saleID)
      return sale === undefined ? Effect.dieMessage(`Simulator: no sale ${saleID}`) : Effect.sync(() => f(sale, nowMs))
    })

  const withQuote = <A>(quoteID: number, f: (quote: SimQuote, sale: SimSale, nowMs: number) => A) =>
    Effect.flatMap(now, (nowMs) => {
      const quote = quotes.get(quoteID)
      const sale = quote === undefined ? undefined : sales.get(quote.saleID)
      return quote === undefined || sale === undefined
        ? Effect.dieMessage(`Simulator: no quote ${quoteID}`)
        : Effect.sync(() => f(quote, sale, nowMs))
    })

  const merchant: Merchant = {
    accountId: options.accountId,
    addSale,
    resaveSale: (saleID) =>
      withSale(saleID, (sale, nowMs) => {
        touch(sale, nowMs)
        saved(sale, nowMs, "re-saved")
      }),
    completeSale: (saleID) =>
      withSale(saleID, (sale, nowMs) => {
        sale.completed = true
        sale.completeTime = seconds(nowMs)
        touch(sale, nowMs)
        saved(sale, nowMs, "completed")
      }),
    voidSale: (saleID) =>
      withSale(saleID, (sale, nowMs) => {
        sale.voided = true
        sale.updatetime = seconds(nowMs)
        // Voiding is the one change that moves timeStamp on a completed Sale in this model.
        sale.timeStamp = sale.updatetime
        saved(sale, nowMs, "voided")
      }),
    modifyQuote: (quoteID, change) =>
      withQuote(quoteID, (quote, old, nowMs) => {
        const at = seconds(nowMs)
        const saleID = ++ids.sale
        const copy: SimSale = {
          ...old,
          saleID,
          createTime: at,
          updatetime: at,
          timeStamp: at,
          ticketNumber: String(++ids.ticket),
          lines:
            change.lines === undefined
              ? old.lines.map((l) => ({ ...l, saleLineID: ++ids.line }))
              : makeLines(change.lines),
          shipTo: old.shipTo === undefined ? undefined : { ...old.shipTo }
        }
        sales.set(saleID, copy)
        quote.saleID = saleID
        if (change.notes !== undefined) quote.notes = change.notes
        // The superseded Sale is archived; its own updatetime moves too, so a pull sees it (and must skip it).
        old.archived = true
        touch(old, nowMs)
        saved(copy, nowMs, change.lines === undefined && change.notes === undefined ? "re-saved" : "edited")
        saved(old, nowMs, "superseded")
        return saleID
      }),
    archiveQuote: (quoteID) =>
      withQuote(quoteID, (quote, sale, nowMs) => {
        quote.archived = true
        sale.archived = true
        touch(sale, nowMs)
        saved(sale, nowMs, "archived")
      }),
    editNotes: (saleID, notes) =>
      withSale(saleID, (sale, nowMs) => {
        if (notes.internalNote !== undefined) sale.internalNote = notes.internalNote
        if (notes.printedNote !== undefined) sale.printedNote = notes.printedNote
        touch(sale, nowMs)
        saved(sale, nowMs, "edited notes")
      }),
    sale: (saleID) =>
      Effect.sync(() => {
        const s = sales.get(saleID)
        return s === undefined
          ? undefined
          : {
              saleID: s.saleID,
              quoteID: s.quoteID,
              completed: s.completed,
              voided: s.voided,
              internalNote: s.internalNote,
              shipped: s.shipTo?.shipped,
              shipNote: s.shipTo?.shipNote,
              updatetime: s.updatetime
            }
      }),
    saleCount: Effect.sync(() => sales.size),
    quoteSale: (quoteID) => Effect.sync(() => quotes.get(quoteID)?.saleID)
  }

  return {
    accountId: options.accountId,
    merchant,
    sales,
    quotes,
    customers,
    items: itemsById,
    write: (sale, change) =>
      Effect.map(now, (nowMs) => {
        if (change.internalNote !== undefined) sale.internalNote = change.internalNote
        if (change.printedNote !== undefined) sale.printedNote = change.printedNote
        if (sale.shipTo !== undefined) {
          if (change.shipped !== undefined) sale.shipTo.shipped = change.shipped
          if (change.shipNote !== undefined) sale.shipTo.shipNote = change.shipNote
        }
        // A write that leaves the modified times alone is no save a client can see.
        if (options.writeBumpsUpdatetime) {
          touch(sale, nowMs)
          saved(sale, nowMs, "api write")
        }
      })
  }
}
