/**
 * The Heartland simulator as pos-testkit's `PosSimulator` (what `posbridge simulate heartland` serves): `accounts`
 * accounts `1000`, `1001`, … each seeded like the server's demo (account 1000 exactly as the demo, the others
 * from their own seeds), the demo's merchant activity on every account, and the control API's actions in
 * Heartland's terms. A store's settings point at `{baseUrl}/{account}` with the simulator's token.
 */
import { PosSimulator } from "@posbridge/pos-testkit"
import { Duration, Effect } from "effect"
import { runDemo, type Seeded, seedDemo } from "./internal/demo.js"
import * as Simulator from "./Simulator.js"

/** The demo's seeding and activity (apps/server's demo mode runs the same). */
export const demo = { seed: 42, orders: 40, every: Duration.seconds(30) } as const

/** The token every account accepts. */
export const token = "sim-token"

const unsupported = (message: string) => new PosSimulator.ControlError({ reason: "unsupported", message })
const invalid = (message: string) => new PosSimulator.ControlError({ reason: "invalid", message })

const fields: PosSimulator.PosSimulator["fields"] = {
  orders: [
    { name: "shippingCharge", description: "the order's shipping charge, a decimal", examples: ["12.50", "5.99"] },
    { name: "status", description: "open or pending (closed: complete it into an invoice)", examples: ["pending"] }
  ],
  invoices: [{ name: "status", description: "void: the merchant voids the invoice", examples: ["void"] }]
}

export const make = (options: PosSimulator.Options): Effect.Effect<PosSimulator.PosSimulator> =>
  Effect.gen(function* () {
    const ids = PosSimulator.accountIds(options.accounts ?? 1)
    const sim = yield* Simulator.make({
      token,
      accounts: ids,
      clock: options.clock,
      pullIdleMillis: options.pullIdleMillis
    })
    const { onClock, accountOf, logged, shared } = PosSimulator.frameOf(sim, options.clock)
    const baseSeed = options.seed ?? demo.seed
    const seeded = new Map<string, Seeded>()
    for (const [i, id] of ids.entries()) {
      seeded.set(
        id,
        yield* onClock(seedDemo(sim.account(id)!, { seed: baseSeed + i, orders: options.documents ?? demo.orders }))
      )
    }
    let added = 0

    const orderOf = (control: Simulator.AccountControl, ref: string) =>
      Effect.flatMap(control.order(Number(ref)), (doc) =>
        doc === undefined ? Effect.fail(PosSimulator.unknownDocument(control.accountId, "orders", ref)) : Effect.void
      )
    const invoiceOf = (control: Simulator.AccountControl, ref: string) =>
      Effect.flatMap(control.invoices, (all) =>
        all.some((i) => String(i.id) === ref)
          ? Effect.void
          : Effect.fail(PosSimulator.unknownDocument(control.accountId, "invoices", ref))
      )
    const newOrder = (control: Simulator.AccountControl) => {
      const s = seeded.get(control.accountId)!
      const customer = s.customers[added++ % s.customers.length]!
      const address = s.orders.find((o) => o.customer_id === customer.id)?.shipping_address_id ?? null
      return control.addOrder({
        customerId: customer.id,
        shippingAddressId: address,
        billingAddressId: address,
        lines: [{ itemId: s.items[0]!.id, qty: 1, unitPrice: "24.00" }],
        shippingCharge: "5.99"
      })
    }

    const simulator: PosSimulator.PosSimulator = {
      adapterId: "heartland",
      displayName: "Heartland Retail",
      ...shared,
      kinds: ["orders", "invoices"],
      fields,
      activity: onClock(
        Effect.all(
          ids.map((id, i) => runDemo(sim.account(id)!, seeded.get(id)!, { seed: baseSeed + i, every: demo.every })),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.zipRight(Effect.never))
      ),
      addDocument: (account, kind) =>
        logged(account, (control) =>
          kind === "orders"
            ? newOrder(control)
            : Effect.flatMap(newOrder(control), (order) => control.completeToInvoice(order.id))
        ),
      resave: (account, kind, ref) =>
        logged(account, (control) =>
          kind === "invoices"
            ? Effect.zipRight(
                invoiceOf(control, ref),
                Effect.fail(
                  unsupported("Heartland invoices cannot be re-saved (posbridge's touch refreshes one instead).")
                )
              )
            : Effect.zipRight(orderOf(control, ref), control.updateOrder(Number(ref), {}))
        ),
      setField: (account, kind, ref, field, value) =>
        logged(account, (control) => {
          if (kind === "invoices") {
            if (field !== "status" || value !== "void")
              return Effect.fail(invalid('An invoice can only be voided: {"field": "status", "value": "void"}.'))
            return Effect.zipRight(invoiceOf(control, ref), control.voidInvoice(Number(ref)))
          }
          const text = typeof value === "string" ? value : String(value)
          if (field === "shippingCharge" && /^\d{1,6}(\.\d{1,2})?$/.test(text)) {
            return Effect.zipRight(orderOf(control, ref), control.updateOrder(Number(ref), { shippingCharge: text }))
          }
          if (field === "status" && (text === "open" || text === "pending")) {
            return Effect.zipRight(orderOf(control, ref), control.updateOrder(Number(ref), { status: text }))
          }
          return Effect.fail(
            invalid(
              `Orders accept shippingCharge (a decimal) or status (open, pending), not ${field} = ${JSON.stringify(value)}.`
            )
          )
        }),
      storeSettings: (account) =>
        Effect.map(accountOf(account), () => ({
          baseUrl: `${options.baseUrl.replace(/\/+$/, "")}/${account}`,
          apiToken: token
        }))
    }
    return simulator
  })

/** What the adapter's `testing` entry exports for `posbridge simulate heartland` and the conformance oracle. */
export const simulator: PosSimulator.Descriptor = { _tag: "PosbridgeSimulator", adapterId: "heartland", make }
