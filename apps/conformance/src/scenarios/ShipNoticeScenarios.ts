/** Ship notices for an order ShipStation has exported: retries, concurrent copies, split orders, partial shipments. */

import { ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import { creds, type Driver, expect } from "./Driver.js"
import { polledOrder } from "./PosFixtures.js"
import { controlled, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders

const notify = (d: Driver, n: SS.Notice) => SS.shipNotify(d.bridge.url, orders.id, creds(orders), n)

/** An order of three units that ShipStation has exported, and the notice it would send for it. */
const shipped = (d: Driver) =>
  Effect.map(polledOrder(d, { minutes: 1, qty: 3 }), ({ o }) => ({
    id: String(o.id),
    notice: (carrier: string, trackingNumber: string, extra: Pick<SS.Notice, "items"> = {}): SS.Notice => ({
      orderId: String(o.id),
      orderNumber: o.public_id,
      carrier,
      trackingNumber,
      ...extra
    })
  }))

/** How many writes reached the POS while the outbox was delivered `times` times. */
const writeBacks = (d: Driver, times: number) =>
  Effect.gen(function* () {
    const puts = Effect.map(d.bridge.pos.stats, (s) => s.byRoute["orders.put"])
    const before = yield* puts
    for (let i = 0; i < times; i++) yield* d.bridge.deliverOutbox
    return (yield* puts) - before
  })

const storedNotices = (d: Driver, id: string) =>
  Effect.map(d.bridge.store.explain(orders.id, id).pipe(Effect.orDie), (found) => found.shipNotices.length)

export const scenarios: ReadonlyArray<Scenario> = controlled({
  "duplicate-ship-notices": {
    description: "ShipStation sends the same notice twice: both get 200, the POS is written once.",
    *steps(d) {
      const { notice } = yield* shipped(d)
      const n = notice("UPS", "1Z0001")
      const a = yield* notify(d, n)
      const b = yield* notify(d, n)
      yield* expect(d, a.status === 200 && b.status === 200, `notices answered ${a.status} and ${b.status}`)
      yield* expect(d, /already received/.test(b.body), `the retry was not recognized: ${b.body.trim()}`)
      yield* expect(d, (yield* writeBacks(d, 2)) === 1, "the duplicate notice did not reach the POS exactly once")
    }
  },
  "concurrent-ship-notices": {
    description: "Five identical notices at once: all answered 200, exactly one stored, one write-back.",
    *steps(d) {
      const { notice } = yield* shipped(d)
      const n = notice("FedEx", "7777")
      const all = yield* Effect.all(
        Array.from({ length: 5 }, () => notify(d, n)),
        { concurrency: "unbounded" }
      )
      yield* expect(
        d,
        all.every((r) => r.status === 200),
        `statuses ${all.map((r) => r.status).join(",")}`
      )
      const stored = all.filter((r) => !/already received/.test(r.body)).length
      yield* expect(d, stored === 1, "not exactly one notice was stored")
      yield* expect(d, (yield* writeBacks(d, 1)) === 1, "concurrent notices did not reach the POS exactly once")
    }
  },
  "split-order-notice": {
    description: "ShipStation split the order: the notice's OrderNumber has a suffix; it matches by OrderID.",
    *steps(d) {
      const { id, notice } = yield* shipped(d)
      const n = notice("USPS", "9400")
      const r = yield* notify(d, { ...n, orderNumber: `${n.orderNumber}-1` })
      yield* expect(
        d,
        r.status === 200 && !/no matching order/.test(r.body),
        `split notice: ${r.status} ${r.body.trim()}`
      )
      yield* expect(d, (yield* storedNotices(d, id)) === 1, "the split notice is not attached to the order")
    }
  },
  "partial-shipment": {
    description: "A notice for one of three units: accepted and written back; a second notice ships the rest.",
    *steps(d) {
      const { id, notice } = yield* shipped(d)
      const a = yield* notify(d, notice("UPS", "P1", { items: [{ sku: "BOOT-42", quantity: 1 }] }))
      const b = yield* notify(d, notice("UPS", "P2", { items: [{ sku: "BOOT-42", quantity: 2 }] }))
      yield* expect(
        d,
        a.status === 200 && b.status === 200 && !/already/.test(b.body),
        `partial notices: ${a.status} ${b.status} ${b.body.trim()}`
      )
      const stored = yield* storedNotices(d, id)
      yield* expect(d, stored === 2, `expected two stored partial notices, found ${stored}`)
    }
  }
})
