import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as Permits from "../src/internal/permits.js"

describe("the engine's pull limit", () => {
  it.scoped("stores waiting for a pull slot get it in the order they asked, never more at once than the limit", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(2)
      const order: Array<number> = []
      let running = 0
      let max = 0
      const gates = yield* Effect.forEach(Array.from({ length: 20 }), () => Deferred.make<void>())
      const fibers = yield* Effect.forEach(gates, (gate, i) =>
        Effect.fork(
          permits.withPermit(
            Effect.gen(function* () {
              order.push(i)
              running++
              max = Math.max(max, running)
              yield* Deferred.await(gate)
              running--
            })
          )
        ).pipe(Effect.zipLeft(Effect.yieldNow()))
      )
      // Release them newest first: each slot still goes to the oldest waiter.
      for (const gate of [...gates].reverse()) {
        yield* Deferred.succeed(gate, undefined)
        yield* Effect.yieldNow()
      }
      yield* Fiber.joinAll(fibers)
      expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i))
      expect(max).toBe(2)
      expect(yield* permits.available).toBe(2)
    })
  )

  it.scoped("a store stopped while it waits, or while it pulls, gives its slot back", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(1)
      const holder = yield* Effect.fork(permits.withPermit(Effect.never))
      yield* Effect.yieldNow()
      const waiters = yield* Effect.forEach(Array.from({ length: 5 }), () =>
        Effect.fork(permits.withPermit(Effect.void)).pipe(Effect.zipLeft(Effect.yieldNow()))
      )
      // Interrupted in the same instant its turn comes: the slot goes on to the next waiter.
      yield* Fiber.interrupt(holder).pipe(Effect.zipRight(Fiber.interrupt(waiters[0]!)))
      yield* Fiber.interrupt(waiters[1]!)
      yield* Fiber.joinAll(waiters.slice(2))
      expect(yield* permits.available).toBe(1)
      const late = yield* permits.withPermit(Effect.succeed("ran"))
      expect(late).toBe("ran")
    })
  )
})
