import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import type { SimClock } from "@posbridge/pos-testkit"
import { DateTime, Duration, Effect, Exit, Fiber, Option, type Scope, Stream } from "effect"
import * as AdapterRegistry from "../src/AdapterRegistry.js"
import * as SyncEngine from "../src/SyncEngine.js"
import type * as SyncStatus from "../src/SyncStatus.js"
import { authError, makeFakePos, makeGauge, settings, transientError } from "./support/FakePos.js"
import { engineWithMemory, nowUtc } from "./support/Harness.js"
import { withVirtualClock } from "./support/VirtualClock.js"

const gaps = (starts: ReadonlyArray<number>) => starts.slice(1).map((t, k) => t - starts[k]!)

/** A test of the engine, on the memory store, with every fiber on a virtual clock. */
const onVirtualClock =
  <E>(
    options: SyncEngine.Options,
    body: (
      engine: SyncEngine.SyncEngineService,
      clock: SimClock.SimClock
    ) => Effect.Effect<void, E, SyncEngine.SyncEngine | OrderStore.OrderStore | Scope.Scope>
  ) =>
  () =>
    withVirtualClock((clock) =>
      Effect.flatMap(SyncEngine.SyncEngine, (engine) => body(engine, clock)).pipe(
        Effect.provide(engineWithMemory(options))
      )
    )

describe("SyncEngine failures", () => {
  it.scoped(
    "a failing store backs off exponentially up to the cap, and recovers on its interval",
    onVirtualClock({ jitter: 0, backoffMaxMillis: 16_000 }, (engine, clock) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop")
        pos.fault = transientError("503 from POS")
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 60_000 }])
        yield* clock.advance(120_000)
        expect(gaps(pos.pullStarts)).toEqual([
          1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000, 16_000, 16_000, 16_000
        ])
        const status = yield* engine.status("shop")
        expect(status.state).toBe("backing-off")
        expect(Option.map(status.lastError, (e) => e.message)).toEqual(Option.some("503 from POS"))
        expect(Option.isSome(status.nextRunAt)).toBe(true)
        pos.fault = undefined
        const before = pos.pullStarts.length
        yield* clock.advance(16_000)
        expect((yield* engine.status("shop")).state).toBe("idle")
        yield* clock.advance(120_000)
        expect(gaps(pos.pullStarts.slice(before))).toEqual([60_000, 60_000])
      })
    )
  )

  it.scoped(
    "a POS that says when to come back is retried no sooner",
    onVirtualClock({ jitter: 0 }, (engine, clock) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop")
        pos.fault = transientError("rate limited", 45_000)
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source }])
        yield* clock.advance(100_000)
        expect(gaps(pos.pullStarts)).toEqual([45_000, 45_000])
        const status = yield* engine.status("shop")
        expect(Option.flatMap(status.lastError, (e) => Option.fromNullable(e.retryAfterMillis))).toEqual(
          Option.some(45_000)
        )
      })
    )
  )

  it.scoped(
    "rejected credentials park the store with a visible reason until its settings change",
    onVirtualClock({ jitter: 0 }, (engine, clock) =>
      Effect.gen(function* () {
        const store = yield* OrderStore.OrderStore
        const pos = makeFakePos("shop")
        pos.save(1, DateTime.subtract(yield* nowUtc, { hours: 1 }))
        const old = settings("shop", "old-password-123")
        pos.fault = authError("401: token old-password-123 was rejected")
        const spec = { settings: old, source: pos.source, secrets: AdapterRegistry.collectSecrets(old) }
        yield* engine.setStores([spec])
        yield* clock.advance(3_600_000)
        expect(pos.pullStarts.length).toBe(1)
        const parked = yield* engine.status("shop")
        expect(parked.state).toBe("parked")
        expect(parked.nextRunAt).toEqual(Option.none())
        expect(parked.parkedReason).toEqual(Option.some("401: token *** was rejected"))
        // The same settings again do not unpark it …
        yield* engine.setStores([spec])
        yield* clock.advance(3_600_000)
        expect(pos.pullStarts.length).toBe(1)
        // … new credentials do.
        pos.fault = undefined
        const fixed = settings("shop", "new-password-456")
        yield* engine.setStores([{ settings: fixed, source: pos.source }])
        yield* clock.advance(60_000)
        const status = yield* engine.status("shop")
        expect(status.state).toBe("idle")
        expect(status.parkedReason).toEqual(Option.none())
        expect((yield* store.stats("shop")).documents).toBe(1)
      })
    )
  )
})

describe("SyncEngine sync now", () => {
  it.scoped(
    "callers asking at once share one run, and a caller during a run joins it",
    onVirtualClock({ jitter: 0 }, (engine, clock) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop", { delayMillis: 5_000 })
        pos.save(1, DateTime.subtract(yield* nowUtc, { hours: 1 }))
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 3_600_000 }])
        yield* clock.advance(20_000) // the first run (two 5 s responses)
        expect(pos.pullStarts.length).toBe(1)

        const callers = yield* Effect.forEach([1, 2, 3], () => Effect.fork(engine.syncNow("shop")))
        yield* clock.advance(3_000)
        const late = yield* Effect.fork(engine.syncNow("shop")) // the run is in progress: joins it
        yield* clock.advance(20_000)
        const results = yield* Effect.forEach([...callers, late], Fiber.join)
        expect(new Set(results.map((r) => r.run))).toEqual(new Set([2]))
        expect(results.every((r) => r.outcome === "succeeded")).toBe(true)
        expect(pos.pullStarts.length).toBe(2)
        expect(pos.inFlight.max).toBe(1)

        // Next run is scheduled from the end of the requested one, not doubled.
        yield* clock.advance(3_600_000)
        expect(pos.pullStarts.length).toBe(3)
      })
    )
  )

  it.scoped(
    "a sync now asked as a run ends (while its figures are read) gets a run of its own, not the next interval",
    onVirtualClock({ jitter: 0 }, (engine, clock) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop", { delayMillis: 1_000 })
        pos.save(1, DateTime.subtract(yield* nowUtc, { hours: 1 }))
        const asked: Array<Fiber.Fiber<SyncStatus.RunResult, unknown>> = []
        // After the first run, while the engine reads its figures, someone asks for a run: the run in progress is
        // over (nothing to join), and the store is not idle yet.
        yield* engine.afterEachRun((_, result) =>
          result.run === 1
            ? Effect.forkDaemon(engine.syncNow("shop")).pipe(
                Effect.tap((f) => asked.push(f)),
                // The request is in before the run's fiber ends.
                Effect.zipRight(Effect.sleep(Duration.seconds(1)))
              )
            : Effect.void
        )
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 3_600_000 }])
        yield* clock.advance(20_000)
        expect(asked.length).toBe(1)
        const result = yield* Fiber.join(asked[0]!)
        expect([result.run, result.outcome]).toEqual([2, "succeeded"])
        expect(pos.pullStarts.length).toBe(2)
      })
    )
  )

  it.scoped("sync now for a store that is not configured says so", () =>
    Effect.gen(function* () {
      const engine = yield* SyncEngine.SyncEngine
      const exit = yield* Effect.exit(engine.syncNow("nope"))
      expect(Exit.isFailure(exit) && String(Exit.causeOption(exit).pipe(Option.getOrThrow))).toContain(
        'no store "nope"'
      )
    }).pipe(Effect.provide(engineWithMemory()))
  )
})

describe("SyncEngine configuration changes", () => {
  it.scoped(
    "a store added while running starts within one interval, and a removed one stops",
    onVirtualClock({}, (engine, clock) =>
      Effect.gen(function* () {
        const a = makeFakePos("a")
        const b = makeFakePos("b")
        const specA = { settings: settings("a"), source: a.source }
        yield* engine.setStores([specA])
        yield* clock.advance(120_000)
        const added = clock.now
        yield* engine.setStores([specA, { settings: settings("b"), source: b.source }])
        yield* clock.advance(60_000)
        expect(b.pullStarts.length).toBeGreaterThanOrEqual(1)
        expect(b.pullStarts[0]! - added).toBeLessThanOrEqual(60_000)

        yield* engine.setStores([{ settings: settings("b"), source: b.source }])
        const pullsOfA = a.pullStarts.length
        yield* clock.advance(600_000)
        expect(a.pullStarts.length).toBe(pullsOfA)
        expect(b.pullStarts.length).toBeGreaterThanOrEqual(10)
        expect((yield* engine.statuses).map((s) => s.storeId)).toEqual(["b"])
        expect(Exit.isFailure(yield* Effect.exit(engine.status("a")))).toBe(true)
      })
    )
  )
})

describe("SyncEngine limits", () => {
  it.scoped(
    "concurrent pulls across stores never exceed the configured limit",
    onVirtualClock({ maxConcurrentPulls: 4 }, (engine, clock) =>
      Effect.gen(function* () {
        const gauge = makeGauge()
        const now = yield* nowUtc
        const fakes = Array.from({ length: 30 }, (_, i) => {
          const pos = makeFakePos(`s${i}`, { delayMillis: 2_000, gauge, pageSize: 10 })
          for (let n = 0; n < 30; n++) pos.save(n, DateTime.subtract(now, { minutes: n + 1 }))
          return pos
        })
        yield* engine.setStores(fakes.map((pos, i) => ({ settings: settings(`s${i}`), source: pos.source })))
        yield* clock.advance(120_000)
        expect(gauge.max).toBe(4)
        const statuses = yield* engine.statuses
        expect(statuses.every((s) => s.documentsIngested === 30 && Option.isSome(s.lastSuccessAt))).toBe(true)
      })
    )
  )
})

describe("SyncEngine backfill progress", () => {
  it.scoped(
    "first connect shows pages, documents, rate, backlog and time left, ending at zero",
    onVirtualClock({ jitter: 0 }, (engine, clock) =>
      Effect.gen(function* () {
        const now = yield* nowUtc
        // 1,000 documents spread evenly over the 30-day look-back, 100 per page, 1 s per page.
        const pos = makeFakePos("shop", { pageSize: 100, delayMillis: 1_000 })
        for (let n = 0; n < 1_000; n++) pos.save(n, DateTime.subtract(now, { minutes: (n + 1) * 43 }))
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source }])
        const watching = yield* Effect.fork(Stream.runCollect(engine.progress("shop")))
        yield* clock.advance(5_500)
        const mid = Option.getOrThrow((yield* engine.status("shop")).progress)
        expect(mid.backfill).toBe(true)
        expect(mid.pages).toBeGreaterThanOrEqual(4)
        expect(mid.seen).toBe(mid.pages * 100)
        expect(mid.docsPerSecond).toBeGreaterThan(80)
        expect(mid.docsPerSecond).toBeLessThanOrEqual(100)
        // Extrapolated from POS modified times: within 10 % of what is really left.
        const backlog = Option.getOrThrow(mid.backlog)
        expect(Math.abs(backlog - (1_000 - mid.seen))).toBeLessThanOrEqual(100)
        expect(Option.getOrThrow(mid.etaMillis)).toBeGreaterThan(0)
        yield* clock.advance(60_000)
        const updates = [...(yield* Fiber.join(watching))]
        expect(updates.map((p) => p.seen)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000, 1_000])
        const last = updates[updates.length - 1]!
        expect(last.done).toBe(true)
        expect(last.backlog).toEqual(Option.some(0))
        expect((yield* engine.status("shop")).documentsIngested).toBe(1_000)
      })
    )
  )
})
