/** When an order is exported again: late re-saves, unchanged re-saves, unchanged re-polls, the operator's touch. */
import * as Bridge from "../Bridge.js"
import { advance, expect, poll, serves, sync, syncThenPoll } from "./Driver.js"
import { addOrder, polledOrder, setup } from "./PosFixtures.js"
import { controlled, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders
const invoices = Bridge.stores.invoices

export const scenarios: ReadonlyArray<Scenario> = controlled({
  "late-arriving-resave": {
    description: "A re-save stamped 10:00 in the POS reaches the bridge at 10:07, after ShipStation polled to 10:05.",
    *steps(d) {
      const { o } = yield* polledOrder(d, { minutes: 0 })
      yield* advance(d, 5)
      yield* d.bridge.pos.updateOrder(o.id, { shippingCharge: "4.00", at: new Date(d.bridge.clock.now()) })
      yield* advance(d, 2)
      yield* poll(d, orders)
      yield* advance(d, 5)
      yield* syncThenPoll(d, orders, 5)
    }
  },
  "resave-no-change": {
    description: "The merchant opens an order and saves it unchanged: it is exported again.",
    *steps(d) {
      const { o } = yield* polledOrder(d, { minutes: 1 })
      yield* advance(d, 3)
      yield* d.bridge.pos.updateOrder(o.id, { at: new Date(d.bridge.clock.now()) })
      yield* sync(d)
      const before = d.bridge.versions.length
      yield* advance(d, 3)
      const r = yield* poll(d, orders)
      yield* expect(
        d,
        d.bridge.versions.length === before && serves(r, o.id),
        `the unchanged re-save of ${o.id} was not exported again`
      )
    }
  },
  "unchanged-repoll": {
    description: "A POS re-poll that finds nothing new restamps nothing: the order is not exported again.",
    *steps(d) {
      const { o } = yield* polledOrder(d, { minutes: 2 })
      yield* advance(d, 5)
      yield* sync(d)
      const r = yield* syncThenPoll(d, orders, 5)
      yield* expect(d, !serves(r, o.id), `order ${o.id} was exported again after an unchanged re-poll`)
    }
  },
  "heartland-invoice-touch": {
    description: "A Heartland invoice cannot be re-saved; the operator's touch exports it again.",
    *steps(d) {
      const p = yield* setup(d)
      const o = yield* addOrder(d, p)
      const invoice = yield* d.bridge.pos.completeToInvoice(o.id)
      yield* syncThenPoll(d, invoices, 2)
      yield* advance(d, 10)
      yield* d.bridge.touch(invoices.id, String(invoice.id))
      yield* advance(d, 2)
      const r = yield* poll(d, invoices)
      yield* expect(d, serves(r, invoice.id), `touched invoice ${invoice.id} was not in the next poll`)
    }
  }
})
