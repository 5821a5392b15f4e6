/**
 * The virtual clock for tests whose fibers also wait on real promises, such as an adapter talking to a simulator
 * through pos-testkit's in-process HttpClient (web Request/Response bodies resolve on the microtask queue, not on
 * Effect's scheduler). `VirtualClock.settle` only yields to Effect's scheduler, so it can declare the world quiet
 * while a response is still being read and let time jump under a run in flight (seen: a 60 s interval measured
 * as 60.018 s). This clock counts the world quiet only when nothing read the clock or slept across a few turns
 * of the Node event loop as well.
 */
import { Effect, Random } from "effect"
import { VirtualClock } from "./VirtualClock.js"

// setImmediate runs after the microtask queue drains and after pending I/O callbacks: a real "nothing left" probe.
const macrotask = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

export class IoVirtualClock extends VirtualClock {
  /** Event-loop turns without clock activity before the world counts as quiet. */
  static readonly quietTurns = 2

  /** What `VirtualClock.settle` does: yield to Effect's scheduler until the clock has been quiet for a while. */
  private readonly yieldUntilQuiet: Effect.Effect<void> = Effect.suspend(() => {
    let last = -1
    let quiet = 0
    return Effect.whileLoop({
      while: () => quiet < 8,
      body: () => Effect.yieldNow(),
      step: () => {
        if (this.activity === last) quiet++
        else {
          quiet = 0
          last = this.activity
        }
      }
    })
  })

  override readonly settle: Effect.Effect<void> = Effect.suspend(() => {
    let turns = 0
    return Effect.whileLoop({
      while: () => turns < IoVirtualClock.quietTurns,
      body: () =>
        Effect.gen(this, function* () {
          yield* this.yieldUntilQuiet
          const before = this.activity
          yield* macrotask
          yield* this.yieldUntilQuiet
          turns = this.activity === before ? turns + 1 : 0
        }),
      step: () => undefined
    })
  })
}

/** `withVirtualClock` on an `IoVirtualClock`: same start instant (2025-03-01T12:00Z) and seeded Random. */
export const withIoVirtualClock = <A, E, R>(
  body: (clock: IoVirtualClock) => Effect.Effect<A, E, R>,
  seed = 42
): Effect.Effect<A, E, R> => {
  const clock = new IoVirtualClock(Date.UTC(2025, 2, 1, 12, 0, 0))
  return body(clock).pipe(Effect.withClock(clock), Effect.withRandom(Random.make(seed)))
}
