/**
 * One simulated Heartland Retail account: Sales Orders, Invoices and their lines, customers, addresses and items,
 * and every change made to them. A merchant's action (`Merchant`) and an API write (`write`) are the only ways
 * anything changes, each a function of this module that reads the time once and writes every save of a Sales
 * Order or an Invoice to the simulator's change log (pos-testkit `ChangeLog`: what changed, when, at which
 * version). The HTTP side only reads. A simulator serving several accounts keeps one of these per account.
 */
import type { ChangeLog } from "@posbridge/pos-testkit"
import { DateTime, Effect } from "effect"

export type Json = string | number | boolean | null | { readonly [k: string]: Json } | ReadonlyArray<Json>

export interface SimLine {
  readonly id: number
  readonly item_id: number | null
  readonly qty: number
  readonly qty_fulfilled: number
  readonly original_unit_price: string
  readonly adjusted_unit_price: string
  readonly total_tax: string
}

export interface SimDocument {
  readonly id: number
  readonly public_id: string
  status: string
  readonly customer_id: number | null
  billing_address_id: number | null
  shipping_address_id: number | null
  shipping_charge: string
  custom: Record<string, Json>
  readonly created_at: string
  updated_at: string
  lines: Array<SimLine>
  /** Invoices only. */
  readonly order_id?: number | null
}

export interface SimCustomer {
  readonly id: number
  readonly public_id: string
  readonly first_name: string
  readonly last_name: string
  readonly email: string | null
}

export interface SimAddress {
  readonly id: number
  readonly customer_id: number
  readonly first_name: string
  readonly last_name: string
  readonly company: string | null
  readonly line_1: string
  readonly line_2: string | null
  readonly city: string
  readonly state: string
  readonly postal_code: string
  readonly country: string
  readonly phone: string | null
}

export interface SimItem {
  readonly id: number
  readonly public_id: string
  readonly description: string
  readonly upc: string | null
}

export interface LineInput {
  readonly itemId: number | null
  readonly qty: number
  readonly unitPrice: string
  /** Price after a discount; defaults to `unitPrice`. */
  readonly adjustedUnitPrice?: string | undefined
  readonly tax?: string | undefined
}

export interface OrderInput {
  readonly customerId?: number | null | undefined
  readonly shippingAddressId?: number | null | undefined
  readonly billingAddressId?: number | null | undefined
  readonly status?: string | undefined
  readonly lines: ReadonlyArray<LineInput>
  readonly shippingCharge?: string | undefined
  readonly publicId?: string | undefined
  readonly custom?: Record<string, Json> | undefined
  /** Creation and modification time; default now. */
  readonly at?: DateTime.DateTime.Input | undefined
}

export interface OrderPatch {
  readonly status?: string | undefined
  readonly shippingAddressId?: number | null | undefined
  readonly lines?: ReadonlyArray<LineInput> | undefined
  readonly shippingCharge?: string | undefined
  readonly custom?: Record<string, Json> | undefined
  readonly at?: DateTime.DateTime.Input | undefined
}

export type AddressInput = Omit<SimAddress, "id" | "customer_id" | "company" | "line_2" | "phone"> &
  Partial<Pick<SimAddress, "company" | "line_2" | "phone">>

/** What a merchant does to the account in Heartland (and what a test reads back). */
export interface Merchant {
  readonly addItem: (input: {
    readonly publicId: string
    readonly description: string
    readonly upc?: string
  }) => Effect.Effect<SimItem>
  readonly addCustomer: (input: {
    readonly firstName: string
    readonly lastName: string
    readonly email?: string | undefined
    readonly publicId?: string | undefined
  }) => Effect.Effect<SimCustomer>
  readonly addAddress: (customerId: number, input: AddressInput) => Effect.Effect<SimAddress>
  readonly addOrder: (input: OrderInput) => Effect.Effect<SimDocument>
  readonly updateOrder: (id: number, patch: OrderPatch) => Effect.Effect<SimDocument>
  /** Closes the order (all lines fulfilled) and creates its complete invoice. */
  readonly completeToInvoice: (
    orderId: number,
    options?: { readonly at?: DateTime.DateTime.Input | undefined }
  ) => Effect.Effect<SimDocument>
  readonly voidInvoice: (
    id: number,
    options?: { readonly at?: DateTime.DateTime.Input | undefined }
  ) => Effect.Effect<SimDocument>
  readonly orders: Effect.Effect<ReadonlyArray<SimDocument>>
  readonly invoices: Effect.Effect<ReadonlyArray<SimDocument>>
  readonly order: (id: number) => Effect.Effect<SimDocument | undefined>
}

/** What an API `PUT /api/sales/orders/{id}` changes (the fields the adapter's write-back sends). */
export interface OrderWrite {
  /** Merged key by key into the order's custom fields. */
  readonly custom?: Record<string, Json> | undefined
  readonly status?: string | undefined
}

export interface Account {
  readonly accountId: string
  /** What the merchant (or a test) does to the account. */
  readonly merchant: Merchant
  /** An API write to a Sales Order. */
  readonly write: (doc: SimDocument, change: OrderWrite) => Effect.Effect<void>
  /** Documents and records by id, as the routes read them. */
  readonly orders: ReadonlyMap<number, SimDocument>
  readonly invoices: ReadonlyMap<number, SimDocument>
  readonly customers: ReadonlyMap<number, SimCustomer>
  readonly addresses: ReadonlyMap<number, SimAddress>
  readonly items: ReadonlyMap<number, SimItem>
}

export interface AccountOptions {
  /** The account's id in the change log. */
  readonly accountId: string
  /** Where every save of a document is recorded. */
  readonly changes: ChangeLog.ChangeLog
  readonly now: Effect.Effect<DateTime.Utc>
  /** Whether a PUT on an order moves its `updated_at`. */
  readonly writeBumpsUpdatedAt: boolean
}

const iso = (dt: DateTime.Utc) => DateTime.formatIso(dt)

export const makeAccount = (options: AccountOptions): Account => {
  const orders = new Map<number, SimDocument>()
  const invoices = new Map<number, SimDocument>()
  const customers = new Map<number, SimCustomer>()
  const addresses = new Map<number, SimAddress>()
  const items = new Map<number, SimItem>()
  const ids = { order: 1000, invoice: 5000, customer: 100, address: 200, item: 300, line: 0 }

  const timeOf = (at: DateTime.DateTime.Input | undefined) =>
    at === undefined ? Effect.map(options.now, iso) : Effect.succeed(iso(DateTime.toUtc(DateTime.unsafeMake(at))))

  /** Records a save of `doc` now (its `updated_at` may be earlier: a save the API shows late). */
  const saved = (kind: "orders" | "invoices", doc: SimDocument, what: string) =>
    Effect.map(options.now, (now) => {
      options.changes.record({
        account: options.accountId,
        kind,
        ref: String(doc.id),
        at: DateTime.toEpochMillis(now),
        posModifiedAt: Date.parse(doc.updated_at),
        what,
        // The adapter holds an order without a shipping address back rather than guess one (its README).
        ...(doc.shipping_address_id === null ? { unshippable: "no shipping address" } : {})
      })
    })

  const edited = (patch: OrderPatch) => {
    const fields = (["status", "shippingAddressId", "lines", "shippingCharge", "custom"] as const).filter(
      (k) => patch[k] !== undefined
    )
    return fields.length === 0 ? "re-saved" : `edited ${fields.join(", ")}`
  }

  const makeLines = (input: ReadonlyArray<LineInput>): Array<SimLine> =>
    input.map((line) => ({
      id: ++ids.line,
      item_id: line.itemId,
      qty: line.qty,
      qty_fulfilled: 0,
      original_unit_price: line.unitPrice,
      adjusted_unit_price: line.adjustedUnitPrice ?? line.unitPrice,
      total_tax: line.tax ?? "0"
    }))

  const requireOrder = (id: number) =>
    Effect.suspend(() => {
      const doc = orders.get(id)
      return doc === undefined ? Effect.dieMessage(`Simulator: no order ${id}`) : Effect.succeed(doc)
    })

  const merchant: Merchant = {
    addItem: (input) =>
      Effect.sync(() => {
        const item: SimItem = {
          id: ++ids.item,
          public_id: input.publicId,
          description: input.description,
          upc: input.upc ?? null
        }
        items.set(item.id, item)
        return item
      }),
    addCustomer: (input) =>
      Effect.sync(() => {
        const id = ++ids.customer
        const customer: SimCustomer = {
          id,
          public_id: input.publicId ?? `C-${id}`,
          first_name: input.firstName,
          last_name: input.lastName,
          email: input.email ?? null
        }
        customers.set(id, customer)
        return customer
      }),
    addAddress: (customerId, input) =>
      Effect.sync(() => {
        const address: SimAddress = {
          company: null,
          line_2: null,
          phone: null,
          ...input,
          id: ++ids.address,
          customer_id: customerId
        }
        addresses.set(address.id, address)
        return address
      }),
    addOrder: (input) =>
      Effect.tap(
        Effect.map(timeOf(input.at), (at) => {
          const id = ++ids.order
          const doc: SimDocument = {
            id,
            public_id: input.publicId ?? `SO-${id}`,
            status: input.status ?? "open",
            customer_id: input.customerId ?? null,
            billing_address_id: input.billingAddressId ?? input.shippingAddressId ?? null,
            shipping_address_id: input.shippingAddressId ?? null,
            shipping_charge: input.shippingCharge ?? "0",
            custom: { ...input.custom },
            created_at: at,
            updated_at: at,
            lines: makeLines(input.lines)
          }
          orders.set(id, doc)
          return doc
        }),
        (doc) => saved("orders", doc, "created")
      ),
    updateOrder: (id, patch) =>
      Effect.gen(function* () {
        const doc = yield* requireOrder(id)
        if (patch.status !== undefined) doc.status = patch.status
        if (patch.shippingAddressId !== undefined) doc.shipping_address_id = patch.shippingAddressId
        if (patch.lines !== undefined) doc.lines = makeLines(patch.lines)
        if (patch.shippingCharge !== undefined) doc.shipping_charge = patch.shippingCharge
        if (patch.custom !== undefined) doc.custom = { ...doc.custom, ...patch.custom }
        doc.updated_at = yield* timeOf(patch.at)
        yield* saved("orders", doc, edited(patch))
        return doc
      }),
    completeToInvoice: (orderId, opts = {}) =>
      Effect.gen(function* () {
        const doc = yield* requireOrder(orderId)
        const at = yield* timeOf(opts.at)
        doc.status = "closed"
        doc.lines = doc.lines.map((line) => ({ ...line, qty_fulfilled: line.qty }))
        doc.updated_at = at
        const id = ++ids.invoice
        const invoice: SimDocument = {
          id,
          public_id: `INV-${id}`,
          status: "complete",
          order_id: doc.id,
          customer_id: doc.customer_id,
          billing_address_id: doc.billing_address_id,
          shipping_address_id: doc.shipping_address_id,
          shipping_charge: doc.shipping_charge,
          custom: {},
          created_at: at,
          updated_at: at,
          lines: doc.lines.map((line) => ({ ...line, id: ++ids.line }))
        }
        invoices.set(id, invoice)
        yield* saved("orders", doc, "completed into an invoice")
        yield* saved("invoices", invoice, "created")
        return invoice
      }),
    voidInvoice: (id, opts = {}) =>
      Effect.gen(function* () {
        const invoice = invoices.get(id)
        if (invoice === undefined) return yield* Effect.dieMessage(`Simulator: no invoice ${id}`)
        invoice.status = "void"
        invoice.updated_at = yield* timeOf(opts.at)
        yield* saved("invoices", invoice, "voided")
        return invoice
      }),
    orders: Effect.sync(() => [...orders.values()]),
    invoices: Effect.sync(() => [...invoices.values()]),
    order: (id) => Effect.sync(() => orders.get(id))
  }

  return {
    accountId: options.accountId,
    merchant,
    write: (doc, change) =>
      Effect.gen(function* () {
        // Merged key by key (unconfirmed: the real API may replace the object; the adapter sends it whole).
        if (change.custom !== undefined) doc.custom = { ...doc.custom, ...change.custom }
        if (change.status !== undefined) doc.status = change.status
        // A write that leaves updated_at alone is no save a client can see.
        if (options.writeBumpsUpdatedAt) {
          doc.updated_at = iso(yield* options.now)
          yield* saved("orders", doc, "api write")
        }
      }),
    orders,
    invoices,
    customers,
    addresses,
    items
  }
}
