import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Option } from "effect"
import { connected, fast, latest, line, orderOf, person, pullAll } from "./helpers.js"

describe("LightspeedSource against the simulator", () => {
  it.live("a backfill emits every completed sale once, with lines, customer and ship-to", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        for (let i = 0; i < 250; i++) {
          yield* sim.control.addSale({ customer: person("Ada", `L${i}`), lines: [line("A", 1), line("B", 2)] })
        }
        yield* sim.control.addSale({ lines: [line("C", 1)], completed: false })
        const batches = yield* pullAll(service)
        const docs = latest(batches)
        expect(docs.size).toBe(250)
        expect(batches.length).toBe(3)
        const first = orderOf([...docs.values()][0])
        expect(first.lines.map((l) => [l.sku, l.quantity])).toEqual([
          ["A", 1],
          ["B", 2]
        ])
        expect(first.shipTo?.city).toBe("Portland")
        expect(first.status).toBe("paid")
        expect(first.orderTotal).toBe("32.4")
      })
    )
  )

  it.live("re-saving a completed sale is seen as a re-save from the stored cursor", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({})
        const { saleID } = yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        const first = yield* pullAll(service)
        const before = orderOf(latest(first).get(String(saleID)))
        yield* Effect.sleep("2 seconds")
        yield* sim.control.resaveSale(saleID)
        const cursor = first[first.length - 1]?.cursor
        const second = yield* pullAll(service, Option.fromNullable(cursor))
        const after = orderOf(latest(second).get(String(saleID)))
        expect(after.posModifiedAt.epochMillis).toBeGreaterThan(before.posModifiedAt.epochMillis)
      })
    )
  )

  it.live("a sale written late, behind the committed cursor but within the overlap, is read by the next pull", () =>
    fast(
      Effect.gen(function* () {
        const { sim, service } = yield* connected({ settings: { overlapSeconds: 120 } })
        yield* sim.control.addSale({ customer: person("Ada", "L"), lines: [line("A", 1)] })
        const first = yield* pullAll(service)
        const cursor = first[first.length - 1]?.cursor
        // Lightspeed's eventual consistency: a sale becomes visible with a modified time a minute in the past.
        const late = yield* sim.control.addSale({
          customer: person("Bo", "L"),
          lines: [line("B", 1)],
          at: (yield* Clock.currentTimeMillis) - 60_000
        })
        const second = yield* pullAll(service, Option.fromNullable(cursor))
        expect([...latest(second).keys()]).toContain(String(late.saleID))
      })
    )
  )
})
