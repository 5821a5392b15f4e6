import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { DateTime, Effect, Option } from "effect"
import { expectSteadyCadence } from "./support/Cadence.js"
import { makeFakePos, settings, transientError } from "./support/FakePos.js"
import { nowUtc } from "./support/Harness.js"
import { withEngine } from "./support/VirtualClock.js"

describe("SyncEngine first run", () => {
  it.scoped("a store with no cursor backfills the look-back, then picks up new documents on its interval", () =>
    withEngine((engine, clock) =>
      Effect.gen(function* () {
        const store = yield* OrderStore.OrderStore
        const now = yield* nowUtc
        const pos = makeFakePos("shop", { pageSize: 100 })
        for (let n = 1; n <= 250; n++) pos.save(n, DateTime.subtract(now, { hours: n }))
        pos.save(999, DateTime.subtract(now, { days: 40 }))
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source }])
        yield* clock.advance(6_000)
        expect((yield* store.stats("shop")).documents).toBe(250)
        const status = yield* engine.status("shop")
        expect(status.state).toBe("idle")
        expect(status.documentsIngested).toBe(250)
        expect(status.inserted).toBe(250)
        pos.save(1000, yield* nowUtc)
        yield* clock.advance(60_000)
        expect((yield* store.stats("shop")).documents).toBe(251)
      })
    )
  )
})

describe("SyncEngine cadence", () => {
  it.scoped(
    "200 stores keep their interval while one always fails and one answers in 5 s",
    () =>
      withEngine((engine, clock) =>
        Effect.gen(function* () {
          const now = yield* nowUtc
          const fakes = Array.from({ length: 200 }, (_, i) => {
            const pos = makeFakePos(`s${i}`, { pageSize: 50 })
            pos.save(1, DateTime.subtract(now, { hours: 1 }))
            return pos
          })
          fakes[0]!.fault = transientError("POS down")
          fakes[1]!.delayMillis = 5_000
          yield* engine.setStores(fakes.map((pos, i) => ({ settings: settings(`s${i}`), source: pos.source })))
          const start = clock.now
          yield* clock.advance(5 * 60_000)
          for (const pos of fakes.slice(2)) expectSteadyCadence(pos.pullStarts, start)
          // The slow store keeps going at its own pace (two 5 s responses per run) …
          expect(fakes[1]!.pullStarts.length).toBeGreaterThanOrEqual(4)
          expect((yield* engine.status("s1")).lastError).toEqual(Option.none())
          // … and the failing one backs off instead of hammering its POS.
          const failing = yield* engine.status("s0")
          expect(failing.state).toBe("backing-off")
          expect(failing.consecutiveFailures).toBe(fakes[0]!.pullStarts.length)
          expect(fakes[0]!.pullStarts.length).toBeLessThanOrEqual(10)
        })
      ),
    120_000
  )
})
