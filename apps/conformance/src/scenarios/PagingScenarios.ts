/** What one poll serves while things change under it: a refresh between pages, re-saves between pages, a held order. */
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import { expect, serves, sync, syncThenPoll } from "./Driver.js"
import { addAddress, addOrder, addOrders, atlantis, setup } from "./PosFixtures.js"
import { controlled, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders

export const scenarios: ReadonlyArray<Scenario> = controlled({
  "manual-refresh-mid-poll": {
    description:
      "The merchant forces a refresh (last sync → now) while ShipStation is between pages of a scheduled poll.",
    *steps(d) {
      const p = yield* setup(d)
      yield* addOrders(d, p, 5)
      // Read before the scheduled poll: the refresh asks from where the previous poll ended.
      const last = d.lastEnd.get(orders.id)
      yield* syncThenPoll(d, orders, 2, {
        betweenPages: (page) =>
          page === 1
            ? Effect.gen(function* () {
                yield* addOrder(d, p)
                yield* syncThenPoll(d, orders, 1, last === undefined ? {} : { start: last })
              })
            : Effect.void
      })
    }
  },
  "documents-changing-between-pages": {
    description:
      "Orders on page 1 are re-saved (one unchanged, one edited) and new ones arrive while ShipStation reads pages 2..N.",
    *steps(d) {
      const p = yield* setup(d)
      const first = yield* addOrder(d, p)
      const second = yield* addOrder(d, p)
      yield* addOrders(d, p, 5)
      yield* syncThenPoll(d, orders, 2, {
        betweenPages: () =>
          Effect.gen(function* () {
            const now = new Date(d.bridge.clock.now())
            yield* d.bridge.pos.updateOrder(first.id, { at: now })
            yield* d.bridge.pos.updateOrder(second.id, { shippingCharge: "1.00", at: now })
            yield* addOrder(d, p)
            yield* sync(d)
            yield* Effect.sync(() => d.bridge.clock.advance(10_000))
          })
      })
    }
  },
  "unrepairable-order-among-valid": {
    description: "One order has a ship-to country that cannot be mapped; it is held back and the rest are served.",
    *steps(d) {
      const p = yield* setup(d)
      const bad = yield* addAddress(d.bridge.pos, p.customer, atlantis)
      yield* addOrders(d, p, 2)
      const o = yield* addOrder(d, p, { shipTo: bad })
      d.held.add(String(o.id))
      yield* addOrders(d, p, 2)
      const r = yield* syncThenPoll(d, orders, 2)
      yield* expect(
        d,
        r.orders.length === 4 && !serves(r, o.id),
        `expected the 4 valid orders without ${o.id}, got ${r.orders.map((x) => x.posRef).join(", ")}`
      )
      const explained = yield* d.bridge.store.find(orders.id, String(o.id)).pipe(Effect.orDie)
      yield* expect(
        d,
        explained._tag === "Some" && explained.value.heldReasons.length > 0,
        `order ${o.id} has no held reason to show the merchant`
      )
    }
  }
})
