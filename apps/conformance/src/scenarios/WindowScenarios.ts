/** How ShipStation's windows fall: a skewed clock, overlapping windows, windows one minute apart. */
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import { advance, minute, poll, sync, syncThenPoll } from "./Driver.js"
import { addOrder, addOrders, setup } from "./PosFixtures.js"
import { type Controlled, controlled, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders

const clockSkew = (skew: number): Record<string, Controlled> => ({
  [`shipstation-clock-${skew > 0 ? "ahead" : "behind"}-10-minutes`]: {
    description: `ShipStation's clock is ${Math.abs(skew)} minutes ${skew > 0 ? "ahead of" : "behind"} the bridge's; orders arrive around every poll.`,
    *steps(d) {
      d.offset = skew * minute
      const p = yield* setup(d)
      for (let i = 0; i < 8; i++) {
        const o = yield* addOrder(d, p, { at: d.bridge.clock.now() - 3 * minute })
        yield* advance(d, 1)
        if (i % 2 === 0) yield* sync(d)
        yield* poll(d, orders)
        if (i % 3 === 0) yield* d.bridge.pos.updateOrder(o.id, { shippingCharge: "2.00" })
        yield* sync(d)
        yield* advance(d, 2)
      }
    }
  }
})

export const scenarios: ReadonlyArray<Scenario> = controlled({
  ...clockSkew(10),
  ...clockSkew(-10),
  "overlapping-windows": {
    description: "Each poll starts 5 minutes before the previous end.",
    *steps(d) {
      const p = yield* setup(d)
      for (let i = 0; i < 6; i++) {
        yield* addOrders(d, p, 2)
        yield* syncThenPoll(d, orders, 3, { overlapMinutes: 5 })
      }
    }
  },
  "one-minute-gaps": {
    description: "Windows at minute precision: each starts at the previous end (inclusive end minute), every minute.",
    *steps(d) {
      const p = yield* setup(d)
      for (let i = 0; i < 8; i++) {
        yield* addOrder(d, p)
        yield* Effect.sync(() => d.bridge.clock.advance(37_000))
        yield* sync(d)
        const last = d.lastEnd.get(orders.id)
        yield* poll(d, orders, last === undefined ? {} : { start: last + minute })
        yield* Effect.sync(() => d.bridge.clock.advance(23_000))
      }
    }
  }
})
