/**
 * How a save of a Sale goes to the simulator's change log (pos-testkit `ChangeLog`): once per document it is in
 * posbridge's terms. A completed Sale is an invoice (its saleID); the Sale a Quote points at is that order (its
 * quoteID); a Sale that is neither (an open sale, a superseded quote version) is no document ShipStation sees.
 */
import type { ChangeLog } from "@posbridge/pos-testkit"

/** What is read of a Sale (account.ts's `SimSale`; structural, so the account module alone imports this one). */
interface Sale {
  readonly saleID: number
  readonly quoteID: number
  readonly customerID: number
  readonly completed: boolean
  readonly voided: boolean
  readonly createTime: number
  readonly updatetime: number
  readonly timeStamp: number
  readonly shipTo: { readonly input: Person } | undefined
  readonly lines: ReadonlyArray<{ readonly unitQuantity: number }>
}

interface Person {
  readonly address?: unknown
}

export interface RecorderOptions {
  readonly accountId: string
  readonly changes: ChangeLog.ChangeLog
  readonly quotes: ReadonlyMap<number, { readonly saleID: number }>
  readonly customers: ReadonlyMap<number, { readonly input: Person }>
}

/** What makes the adapter hold a Sale back or leave it out: no address to ship to, or nothing to ship. */
const unshippableReason = (sale: Sale, customers: RecorderOptions["customers"]): string | undefined => {
  const customer = customers.get(sale.customerID)
  if (sale.shipTo?.input.address === undefined && customer?.input.address === undefined) return "no address"
  if (!sale.voided && !sale.lines.some((l) => l.unitQuantity > 0)) return "nothing to ship"
  return undefined
}

/** Records a save of `sale` made at `at` (epoch ms). */
export const recorder =
  (options: RecorderOptions) =>
  (sale: Sale, at: number, what: string): void => {
    const documents: Array<{ readonly kind: "invoices" | "orders"; readonly ref: number }> = []
    if (sale.completed) documents.push({ kind: "invoices", ref: sale.saleID })
    if (sale.quoteID > 0 && options.quotes.get(sale.quoteID)?.saleID === sale.saleID)
      documents.push({ kind: "orders", ref: sale.quoteID })
    const unshippable = unshippableReason(sale, options.customers)
    for (const d of documents) {
      options.changes.record({
        account: options.accountId,
        kind: d.kind,
        ref: String(d.ref),
        at,
        // The adapter's POS modified time: the latest of the Sale's times (ChangeDetection.modifiedAt).
        posModifiedAt: Math.max(sale.updatetime, sale.timeStamp, sale.createTime),
        what,
        ...(unshippable === undefined ? {} : { unshippable })
      })
    }
  }
