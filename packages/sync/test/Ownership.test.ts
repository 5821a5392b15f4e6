import { describe, expect, it } from "@effect/vitest"
import { StoreDirectory } from "@posbridge/core"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as SyncEngine from "../src/SyncEngine.js"
import { makeFakePos, settings } from "./support/FakePos.js"
import { engineWithMemory } from "./support/Harness.js"
import { withVirtualClock } from "./support/VirtualClock.js"

/** An engine that runs only held stores (the server's), on the virtual clock. */
const held = <E>(
  body: (
    engine: SyncEngine.SyncEngineService,
    advance: (ms: number) => Effect.Effect<void>
  ) => Effect.Effect<void, E, Scope.Scope>
) =>
  withVirtualClock((clock) =>
    Effect.flatMap(SyncEngine.SyncEngine, (engine) => body(engine, (ms) => clock.advance(ms))).pipe(
      Effect.provide(engineWithMemory({ onlyHeld: true, jitter: 0 }))
    )
  )

describe("SyncEngine with onlyHeld (each store run by the runner that owns it)", () => {
  it.scoped("a configured store runs only while held, and stops when released", () =>
    held((engine, advance) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop")
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 10_000 }])
        yield* advance(30_000)
        expect(pos.pullStarts).toEqual([])
        expect(Exit.isFailure(yield* Effect.exit(engine.syncNow("shop")))).toBe(true)

        const entity = yield* Scope.make()
        yield* engine.hold("shop", Effect.succeed(true)).pipe(Scope.extend(entity))
        expect(yield* engine.isHeld("shop")).toBe(true)
        yield* advance(25_000)
        expect(pos.pullStarts.length).toBe(3)

        yield* Scope.close(entity, Exit.void)
        expect(yield* engine.isHeld("shop")).toBe(false)
        const pulls = pos.pullStarts.length
        yield* advance(30_000)
        expect(pos.pullStarts.length).toBe(pulls)
        const gone = yield* Effect.flip(engine.syncNow("shop"))
        expect(gone).toBeInstanceOf(StoreDirectory.UnknownStore)
      })
    )
  )

  it.scoped("a held store whose runner lost its shard starts no new pull, and resumes when it owns it again", () =>
    held((engine, advance) =>
      Effect.gen(function* () {
        const pos = makeFakePos("shop")
        let owns = true
        yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 10_000 }])
        yield* engine.hold(
          "shop",
          Effect.sync(() => owns)
        )
        yield* advance(15_000)
        const before = pos.pullStarts.length
        expect(before).toBe(2)
        owns = false
        yield* advance(60_000)
        expect(pos.pullStarts.length).toBe(before)
        owns = true
        yield* advance(2_000)
        expect(pos.pullStarts.length).toBe(before + 1)
      })
    )
  )

  it.scoped(
    "a sync now asked of a store whose runner lost its shard waits for the ownership recheck (no spinning)",
    () =>
      held((engine, advance) =>
        Effect.gen(function* () {
          const pos = makeFakePos("shop")
          let owns = true
          let checks = 0
          yield* engine.setStores([{ settings: settings("shop"), source: pos.source, intervalMillis: 60_000 }])
          yield* engine.hold(
            "shop",
            Effect.sync(() => {
              checks++
              // A runner asking in a loop is let through after 100 checks, so this test fails instead of hanging.
              return owns || checks > 100
            })
          )
          yield* advance(5_000)
          const pulls = pos.pullStarts.length
          expect(pulls).toBe(1)
          owns = false
          const asked = yield* Effect.fork(engine.syncNow("shop"))
          const before = checks
          yield* advance(3_500)
          // Asked once, then rechecked once a second: a handful of checks, not a loop asking as fast as it can.
          expect(checks - before).toBeGreaterThanOrEqual(1)
          expect(checks - before).toBeLessThanOrEqual(5)
          expect(pos.pullStarts.length).toBe(pulls)
          owns = true
          yield* advance(1_000)
          const result = yield* Fiber.join(asked)
          expect(result.outcome).toBe("succeeded")
          expect(pos.pullStarts.length).toBe(pulls + 1)
        })
      )
  )

  it.scoped("a held store follows the configuration: a changed spec restarts it, a removed one stops", () =>
    held((engine, advance) =>
      Effect.gen(function* () {
        const first = makeFakePos("shop")
        const second = makeFakePos("shop")
        yield* engine.hold("shop", Effect.succeed(true))
        yield* engine.setStores([{ settings: settings("shop"), source: first.source, intervalMillis: 10_000 }])
        yield* advance(15_000)
        expect(first.pullStarts.length).toBe(2)
        yield* engine.setStores([
          { settings: settings("shop", "new-password-456"), source: second.source, intervalMillis: 10_000 }
        ])
        yield* advance(15_000)
        expect(first.pullStarts.length).toBe(2)
        expect(second.pullStarts.length).toBe(2)
        yield* engine.setStores([])
        yield* advance(20_000)
        expect(second.pullStarts.length).toBe(2)
        expect(yield* engine.isHeld("shop")).toBe(true)
      })
    )
  )
})
