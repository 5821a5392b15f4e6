/**
 * Demo data for the simulator: reproducible customers with addresses (unicode names), items and orders with
 * discounts, and the merchant activity that keeps the server's `heartland-demo` account changing.
 */
import { Decimal } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { Clock, DateTime, type Duration, Effect } from "effect"
import type { AddressInput, LineInput, Merchant, SimAddress, SimCustomer, SimDocument, SimItem } from "./account.js"

const dec = (s: string) => Decimal.unsafeMake(s)

const firstNames = [
  "Ana",
  "Björn",
  "Chloé",
  "Dmitri",
  "Émile",
  "Fatima",
  "Grace",
  "Hiro",
  "Inés",
  "José",
  "Kai",
  "Łucja",
  "Mia",
  "Noah",
  "Zoë"
]
const lastNames = ["García", "Müller", "O'Brien", "Nguyễn", "Smith", "Søren", "Kowalski", "Dubois", "Tanaka", "Johnson"]
const streets = ["Main St", "Oak Ave", "Rue de l'Église", "Market St", "Elm Rd", "Cedar Ln"]
const cities: ReadonlyArray<readonly [string, string, string]> = [
  ["Portland", "OR", "97205"],
  ["Austin", "TX", "78701"],
  ["Burlington", "VT", "05401"],
  ["Madison", "WI", "53703"],
  ["Asheville", "NC", "28801"]
]
const products = [
  "Trail Runner",
  "Wool Socks",
  "Rain Shell",
  "Camp Mug",
  "Headlamp",
  "Café Blend 1kg",
  "Daypack 20L",
  "Beanie"
]

export interface SeedOptions {
  readonly seed: number
  readonly orders?: number | undefined
  readonly customers?: number | undefined
  readonly items?: number | undefined
  /** Share of orders without a shipping address (in-store pickup). Default 0.05. */
  readonly withoutShipping?: number | undefined
  /** Time of the first order; orders are one second apart. Default: now minus one second per order. */
  readonly start?: DateTime.DateTime.Input | undefined
}

export interface Seeded {
  readonly customers: ReadonlyArray<SimCustomer>
  readonly items: ReadonlyArray<SimItem>
  readonly orders: ReadonlyArray<SimDocument>
}

/** A customer and their home address, under the customer's name. */
export const addCustomerWithAddress = (
  control: Merchant,
  person: { readonly firstName: string; readonly lastName: string; readonly email?: string | undefined },
  home: Omit<AddressInput, "first_name" | "last_name">
): Effect.Effect<{ readonly customer: SimCustomer; readonly address: SimAddress }> =>
  Effect.gen(function* () {
    const customer = yield* control.addCustomer(person)
    const address = yield* control.addAddress(customer.id, {
      first_name: person.firstName,
      last_name: person.lastName,
      ...home
    })
    return { customer, address }
  })

/** Realistic, reproducible demo data: customers with addresses (unicode names), items, orders with discounts. */
export const seedDemo = (control: Merchant, options: SeedOptions): Effect.Effect<Seeded> =>
  Effect.gen(function* () {
    const rng = Faults.makePrng(options.seed)
    const orderCount = options.orders ?? 50
    const start =
      options.start === undefined
        ? DateTime.subtract(DateTime.unsafeMake(yield* Clock.currentTimeMillis), { seconds: orderCount + 1 })
        : DateTime.toUtc(DateTime.unsafeMake(options.start))
    const items: Array<SimItem> = []
    for (let i = 0; i < (options.items ?? 30); i++) {
      const name = products[i % products.length] ?? "Item"
      items.push(
        yield* control.addItem({
          publicId: `SKU-${1000 + i}`,
          description: `${name} ${Math.floor(i / products.length) + 1}`
        })
      )
    }
    const customers: Array<{ readonly customer: SimCustomer; readonly address: SimAddress }> = []
    for (let i = 0; i < (options.customers ?? 20); i++) {
      const first = rng.pick(firstNames)
      const last = rng.pick(lastNames)
      const email = `${first}.${last}.${i}@example.com`
        .toLowerCase()
        .normalize("NFD")
        .replace(/[^\x20-\x7e]/g, "")
        .replace(/'/g, "")
      const [city, state, zip] = rng.pick(cities)
      const home = {
        line_1: `${100 + rng.nextInt(900)} ${rng.pick(streets)}`,
        city,
        state,
        postal_code: zip,
        country: "US"
      }
      customers.push(yield* addCustomerWithAddress(control, { firstName: first, lastName: last, email }, home))
    }
    const orders: Array<SimDocument> = []
    const withoutShipping = options.withoutShipping ?? 0.05
    for (let i = 0; i < orderCount; i++) {
      const buyer = rng.pick(customers)
      const lines: Array<LineInput> = []
      const lineCount = 1 + rng.nextInt(3)
      for (let l = 0; l < lineCount; l++) {
        const price = `${5 + rng.nextInt(95)}.${String(rng.nextInt(100)).padStart(2, "0")}`
        const discounted = rng.next() < 0.2
        lines.push({
          itemId: rng.pick(items).id,
          qty: 1 + rng.nextInt(3),
          unitPrice: price,
          adjustedUnitPrice: discounted ? Decimal.fixed(Decimal.add(dec(price), dec("-2.50"))) : undefined,
          tax: `${rng.nextInt(5)}.${String(rng.nextInt(100)).padStart(2, "0")}`
        })
      }
      orders.push(
        yield* control.addOrder({
          customerId: buyer.customer.id,
          shippingAddressId: rng.next() < withoutShipping ? null : buyer.address.id,
          billingAddressId: buyer.address.id,
          status: rng.next() < 0.8 ? "open" : "pending",
          shippingCharge: rng.pick(["0", "5.99", "9.95"]),
          lines,
          at: DateTime.add(start, { seconds: i })
        })
      )
    }
    return { customers: customers.map((c) => c.customer), items, orders }
  })

/**
 * One step of merchant activity for the demo: a new order, an edit, an order completed into an invoice, or a
 * voided invoice. Run it on a schedule (`Effect.repeat(step, Schedule.spaced(...))`) to keep the demo moving.
 */
export const demoStep = (control: Merchant, seeded: Seeded, rng: Faults.Prng): Effect.Effect<void> =>
  Effect.gen(function* () {
    const orders = (yield* control.orders).filter((o) => o.status === "open" || o.status === "pending")
    const roll = rng.next()
    if (roll < 0.5 || orders.length === 0) {
      const customer = rng.pick(seeded.customers)
      const address = (yield* control.orders).find((o) => o.customer_id === customer.id)?.shipping_address_id ?? null
      yield* control.addOrder({
        customerId: customer.id,
        shippingAddressId: address,
        lines: [
          { itemId: rng.pick(seeded.items).id, qty: 1 + rng.nextInt(2), unitPrice: `${10 + rng.nextInt(50)}.00` }
        ],
        shippingCharge: "5.99"
      })
    } else if (roll < 0.75) {
      const order = rng.pick(orders)
      yield* control.updateOrder(order.id, { shippingCharge: rng.pick(["0", "5.99", "12.50"]) })
    } else if (roll < 0.95) {
      yield* control.completeToInvoice(rng.pick(orders).id)
    } else {
      const invoices = (yield* control.invoices).filter((i) => i.status === "complete")
      if (invoices.length > 0) yield* control.voidInvoice(rng.pick(invoices).id)
    }
  })

/** Keeps the demo account changing every `every` until interrupted. */
export const runDemo = (
  control: Merchant,
  seeded: Seeded,
  options: { readonly seed: number; readonly every: Duration.DurationInput }
) =>
  Effect.gen(function* () {
    const rng = Faults.makePrng(options.seed + 1)
    return yield* Effect.forever(Effect.zipRight(Effect.sleep(options.every), demoStep(control, seeded, rng)))
  })
