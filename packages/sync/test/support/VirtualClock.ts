/**
 * A virtual clock for the engine tests. `TestClock` checks that every test fiber is suspended before each
 * wake-up (a few real timer ticks per sleep), which makes 200 stores × 30 runs take minutes; this clock wakes
 * sleepers in time order and lets woken fibers run until nothing reads the clock or sleeps any more, which costs
 * microseconds. Time moves only through `advance`, so cadence measurements are exact.
 */
import { Clock, Duration, Effect, Random } from "effect"

interface Sleeper {
  readonly at: number
  readonly seq: number
  readonly resume: () => void
}

export class VirtualClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  /** Bumped by every clock read and sleep: the "something is still running" signal for `settle`. */
  activity = 0
  private seq = 0
  private sleepers: Array<Sleeper> = []

  constructor(public now: number) {}

  unsafeCurrentTimeMillis(): number {
    this.activity++
    return this.now
  }
  readonly currentTimeMillis = Effect.sync(() => this.unsafeCurrentTimeMillis())
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(this.unsafeCurrentTimeMillis()) * 1_000_000n
  }
  readonly currentTimeNanos = Effect.sync(() => this.unsafeCurrentTimeNanos())

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    return Effect.async<void>((resume) => {
      this.activity++
      if (millis <= 0) {
        resume(Effect.void)
        return
      }
      const sleeper: Sleeper = { at: this.now + millis, seq: this.seq++, resume: () => resume(Effect.void) }
      this.sleepers.push(sleeper)
      return Effect.sync(() => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper)
      })
    })
  }

  /** Lets every runnable fiber run until the clock has been quiet for a while. */
  readonly settle: Effect.Effect<void> = Effect.suspend(() => {
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

  /** Jumps forward and wakes every sleeper due, without letting them run: the caller decides when they do. */
  jump(millis: number): void {
    this.now += millis
    const due = this.sleepers.filter((s) => s.at <= this.now)
    this.sleepers = this.sleepers.filter((s) => s.at > this.now)
    for (const s of due) s.resume()
  }

  /** Moves time forward by `millis`, waking each sleeper at its instant (in order) and settling after each. */
  advance(millis: number): Effect.Effect<void> {
    const self = this
    return Effect.gen(function* () {
      const target = self.now + millis
      yield* self.settle
      while (true) {
        let next: Sleeper | undefined
        for (const s of self.sleepers)
          if (next === undefined || s.at < next.at || (s.at === next.at && s.seq < next.seq)) next = s
        if (next === undefined || next.at > target) break
        const at = next.at
        self.now = at
        const due = self.sleepers.filter((s) => s.at <= at)
        self.sleepers = self.sleepers.filter((s) => s.at > at)
        for (const s of due) s.resume()
        yield* self.settle
      }
      self.now = target
      yield* self.settle
    })
  }
}

/** Runs `effect` (and every fiber it forks) on a virtual clock starting at 2025-03-01T12:00Z, with a seeded Random. */
export const withVirtualClock = <A, E, R>(
  body: (clock: VirtualClock) => Effect.Effect<A, E, R>,
  seed = 42
): Effect.Effect<A, E, R> => {
  const clock = new VirtualClock(Date.UTC(2025, 2, 1, 12, 0, 0))
  return body(clock).pipe(Effect.withClock(clock), Effect.withRandom(Random.make(seed)))
}
