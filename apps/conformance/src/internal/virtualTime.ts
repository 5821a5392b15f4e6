/**
 * Runs an effect that sleeps (Retry-After, backoff, timeouts) under TestClock: whenever it is only waiting for
 * time, the clock jumps to its next wake-up; otherwise the event loop gets a turn (in-process HTTP resolves
 * promises). Recorded waits therefore cost no real time, yet the adapter observes them as it would live.
 */
import { Chunk, Effect, Fiber, Option, TestClock, TestContext } from "effect"

export const run = <A, E, R>(effect: Effect.Effect<A, E, R>, startMillis: number): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    yield* TestClock.setTime(startMillis)
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      const sleeps = yield* TestClock.sleeps()
      if (Chunk.isNonEmpty(sleeps) && Option.isNone(yield* Fiber.poll(fiber))) {
        const now = yield* TestClock.currentTimeMillis
        yield* TestClock.adjust(Math.max(0, Math.min(...sleeps) - now))
      }
    }
    return yield* Fiber.join(fiber)
  }).pipe(Effect.provide(TestContext.TestContext))
