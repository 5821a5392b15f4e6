/** When an order is exported again: late re-saves, unchanged re-saves, unchanged re-polls, the operator's touch. */
import * as Bridge from "../Bridge.js"
import { advance, expect, poll, serves, sync, syncThenPoll } from "./Driver.js"
import { addOrder, polledOrder, setup } from "./PosFixtures.js"
import { controlled, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders
const invoices = Bridge.stores.invoices

export const scenarios: ReadonlyArray<Scenario> = controlled({
  "late-arriving-resave": {
    description:
      "The merchant re-saves an order at 09:01; the POS shows the save at 09:08, stamped 09:01, after ShipStation polled to 09:06.",
    *steps(d) {
      const { o } = yield* polledOrder(d, { minutes: 1 })
      const saved = d.bridge.clock.now()
      yield* advance(d, 5)
      yield* poll(d, orders)
      yield* advance(d, 2)
      yield* d.bridge.pos.updateOrder(o.id, { at: new Date(saved) })
      yield* syncThenPoll(d, orders, 5)
    }
  },
  "resave-no-change": {
    description: "The merchant opens an order and saves it unchanged: it is exported again.",
    *steps(d) {
      const { o } = yield* polledOrder(d, { minutes: 1 })
      yield* advance(d, 3)
      const first = d.served.find((s) => s.posRef === String(o.id))?.lastModified ?? 0
      yield* d.bridge.pos.updateOrder(o.id, { at: new Date(d.bridge.clock.now()) })
      yield* sync(d)
      yield* advance(d, 3)
      const r = yield* poll(d, orders)
      const again = r.orders.find((x) => x.posRef === String(o.id))
      yield* expect(
        d,
        again !== undefined && again.lastModified > first,
        `the unchanged re-save of ${o.id} was not exported again with a newer LastModified`
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
