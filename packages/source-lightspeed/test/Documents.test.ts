import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { connected, fast, latest, line, orderOf, person, pullAll } from "./helpers.js"

describe("Lightspeed documents", () => {
  it.live("a voided sale is exported as cancelled", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        const { saleID } = yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        yield* sim.control.voidSale(saleID)
        expect(orderOf(latest(yield* pullAll(service)).get(String(saleID))).status).toBe("cancelled")
      })
    )
  )

  it.live("a partial refund ships only what is left; a full refund is excluded with a reason", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        const partial = yield* sim.control.addSale({
          customer: person("Ada", "L"),
          lines: [line("A", 2), line("B", 1), line("A", -1)]
        })
        const full = yield* sim.control.addSale({ customer: person("Bo", "K"), lines: [line("A", 1), line("A", -1)] })
        const docs = latest(yield* pullAll(service))
        expect(orderOf(docs.get(String(partial.saleID))).lines.map((l) => [l.sku, l.quantity])).toEqual([
          ["A", 1],
          ["B", 1]
        ])
        expect(docs.get(String(full.saleID))?.exclude).toBe("fully refunded or a return: nothing left to ship")
      })
    )
  )

  it.live("a walk-in sale uses the customer's address, and without one has no ship-to", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        const withCustomer = yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        const anonymous = yield* sim.control.addSale({ lines: [line("A", 1)] })
        const docs = latest(yield* pullAll(service))
        expect(orderOf(docs.get(String(withCustomer.saleID))).shipTo?.address1).toBe("1 Main St")
        const anon = orderOf(docs.get(String(anonymous.saleID)))
        expect(anon.shipTo).toBeUndefined()
        expect(anon.billTo.name).toBe("Walk-in customer")
        expect(anon.customerCode).toBe("walk-in")
      })
    )
  )

  it.live("a quote is identified by its quoteID across the new saleID each modification creates", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({ kind: "orders" })
        yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("Z", 1)] })
        const { saleID, quoteID } = yield* sim.control.addSale({
          customer: person("Ada", "L"),
          lines: [line("A", 1)],
          quote: { notes: "call first" }
        })
        const first = yield* pullAll(service)
        const before = orderOf(latest(first).get(String(quoteID)))
        expect([...latest(first).keys()]).toEqual([String(quoteID)])
        expect(before.status).toBe("unpaid")
        yield* Effect.sleep("2 seconds")
        const newSale = yield* sim.control.modifyQuote(quoteID, { lines: [line("A", 3)] })
        expect(newSale).not.toBe(saleID)
        const second = latest(yield* pullAll(service, Option.fromNullable(first[first.length - 1]?.cursor)))
        expect([...second.keys()]).toEqual([String(quoteID)])
        const after = orderOf(second.get(String(quoteID)))
        expect(after.lines[0]?.quantity).toBe(3)
        expect(after.posModifiedAt.epochMillis).toBeGreaterThan(before.posModifiedAt.epochMillis)
        yield* Effect.sleep("2 seconds")
        yield* sim.control.archiveQuote(quoteID)
        const third = latest(yield* pullAll(service, Option.some(first[first.length - 1]?.cursor ?? "")))
        expect(orderOf(third.get(String(quoteID))).status).toBe("cancelled")
      })
    )
  )

  it.live("a sale with 150 lines keeps every line across the object-or-array shapes", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        const lines = Array.from({ length: 150 }, (_, i) => line(`SKU-${i}`, 1 + (i % 3), "1.05"))
        const { saleID } = yield* sim.control.addSale({ customer: person("Ada", "L"), lines })
        const single = yield* sim.control.addSale({ customer: person("Bo", "K"), lines: [line("ONE", 1)] })
        const docs = latest(yield* pullAll(service))
        expect(orderOf(docs.get(String(saleID))).lines).toHaveLength(150)
        expect(orderOf(docs.get(String(single.saleID))).lines).toHaveLength(1)
      })
    )
  )
})
