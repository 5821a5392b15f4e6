/**
 * The POS side of a scenario: the Heartland simulator behind hl-orders / hl-invoices, seeded with one item and
 * one customer, and orders added the way a merchant rings them up.
 */
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import * as Driver from "./Driver.js"

type Control = Bridge.Bridge["pos"]
type Customer = Effect.Effect.Success<ReturnType<Control["addCustomer"]>>

/** Where an address is; the names on it are the customer's. */
export interface Place {
  readonly line_1: string
  readonly city: string
  readonly state: string
  readonly postal_code: string
  readonly country: string
}

export const portland: Place = {
  line_1: "12 Main St",
  city: "Portland",
  state: "OR",
  postal_code: "97205",
  country: "US"
}

/** A ship-to country no rule can map: the order is held back. */
export const atlantis: Place = {
  line_1: "1 Nowhere",
  city: "Nowhere",
  state: "ZZ",
  postal_code: "0",
  country: "Atlantis"
}

// The Heartland simulator's testing entry should offer this (its own tests seed customers the same way).
export const addAddress = (pos: Control, customer: Customer, place: Place) =>
  pos.addAddress(customer.id, { first_name: customer.first_name, last_name: customer.last_name, ...place })

export const setup = (d: Driver.Driver) =>
  Effect.gen(function* () {
    const pos = d.bridge.pos
    const item = yield* pos.addItem({ publicId: "BOOT-42", description: "Trail boot" })
    const customer = yield* pos.addCustomer({ firstName: "Ana", lastName: "García" })
    const address = yield* addAddress(pos, customer, portland)
    return { item, customer, address }
  })

export type Pos = Effect.Effect.Success<ReturnType<typeof setup>>

export const addOrder = (
  d: Driver.Driver,
  p: Pos,
  options: { readonly at?: number; readonly qty?: number; readonly shipTo?: { readonly id: number } } = {}
) =>
  d.bridge.pos.addOrder({
    customerId: p.customer.id,
    shippingAddressId: (options.shipTo ?? p.address).id,
    billingAddressId: (options.shipTo ?? p.address).id,
    lines: [{ itemId: p.item.id, qty: options.qty ?? 1, unitPrice: "10.00" }],
    ...(options.at === undefined ? {} : { at: new Date(options.at) })
  })

/** `n` new orders, rung up now. */
export const addOrders = (d: Driver.Driver, p: Pos, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => addOrder(d, p), { discard: true })

/** A fresh account with one order that ShipStation has already polled once, `minutes` after the sync. */
export const polledOrder = (d: Driver.Driver, options: { readonly minutes: number; readonly qty?: number }) =>
  Effect.gen(function* () {
    const p = yield* setup(d)
    const o = yield* addOrder(d, p, options.qty === undefined ? {} : { qty: options.qty })
    yield* Driver.syncThenPoll(d, Bridge.stores.orders, options.minutes)
    return { p, o }
  })
