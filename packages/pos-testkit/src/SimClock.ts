/**
 * The one simulated clock of posbridge's simulators, tests and conformance bridge. It is a drop-in `Clock`
 * (`Effect.withClock(effect, clock)`, `Layer.setClock(clock)`), so the code under test (rate limiters, retry
 * schedules, `Effect.sleep`, the simulators' own "now") reads it through Effect's `Clock` without knowing it is
 * simulated, and a simulator and an adapter run under one clock agree on time, headers and Retry-After.
 *
 * - **Time** runs `scale` times faster than a base clock (`scale: 60`: one base second is one simulated minute),
 *   or stands still (`scale: 0`) until moved by `set`, `jump` or `advance`. The base is the real clock unless
 *   given; pass the `TestClock` (`yield* Effect.clock` in a test) and `TestClock.adjust` moves simulated time.
 * - **Sleeps** wait on the base clock (`duration / scale`, or the whole duration on a clock that stands still, so
 *   timeouts and backoff still take base time), or are virtual: a sleeper wakes only when the clock is moved past
 *   its instant. `advance` moves a virtual clock one wake-up at a time and lets the woken fibers run until the
 *   world is quiet again, so intervals are measured exactly and cost microseconds.
 * - **Quiet** (`settle`) is decided from clock activity (every read and every sleep counts): `"fibers"` yields to
 *   Effect's scheduler until nothing has touched the clock for a while, which suffices for in-test fakes;
 *   `"event-loop"` also waits for turns of the event loop, for fibers that await real promises (an adapter
 *   talking to a simulator through SimServer's in-process client: web Request/Response bodies resolve on the
 *   microtask queue, not on Effect's scheduler; without it time jumped under a run in flight, e.g. a 60 s
 *   interval measured as 60.018 s).
 *
 * (Effect's `TestClock` checks that every test fiber is suspended before each wake-up, a few real timer ticks per
 * sleep, which made 200 stores × 30 runs take minutes; virtual sleeps cost microseconds.)
 *
 * @since 0.0.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** How sleeps wait: on the base clock, or until the clock is moved past them. */
export type Sleeps = "base" | "virtual"

/** When `settle` counts the world as quiet: see the module comment. */
export type Settle = "fibers" | "event-loop"

export interface Options {
  /** Simulated epoch milliseconds at creation. Default: the base clock's time. Fixed values make runs comparable. */
  readonly start?: number | undefined
  /** Simulated milliseconds per base millisecond, ≥ 0; 0 stands still until moved. Default 1. */
  readonly scale?: number | undefined
  /** Default: `"virtual"` on a clock that stands still, `"base"` otherwise. */
  readonly sleeps?: Sleeps | undefined
  /** Default `"fibers"`. */
  readonly settle?: Settle | undefined
  /** The clock time is scaled from and base sleeps wait on. Default: the real clock. */
  readonly base?: Clock.Clock | undefined
}

interface Sleeper {
  readonly at: number
  readonly seq: number
  readonly resume: () => void
}

/** Scheduler turns without clock activity before the fibers count as quiet. */
const quietYields = 8
/** Event-loop turns without clock activity before the world counts as quiet (`settle: "event-loop"`). */
const quietTurns = 2

// A macrotask runs after the microtask queue has drained: a real "nothing left" probe. Node's setImmediate also
// runs after pending I/O callbacks; elsewhere a zero timeout is the web-standard macrotask.
const scheduler = globalThis as {
  readonly setImmediate?: (f: () => void) => unknown
  readonly clearImmediate?: (handle: unknown) => void
}
const macrotask = Effect.async<void>((resume) => {
  const done = () => resume(Effect.void)
  if (scheduler.setImmediate !== undefined && scheduler.clearImmediate !== undefined) {
    const handle = scheduler.setImmediate(done)
    const clear = scheduler.clearImmediate
    return Effect.sync(() => clear(handle))
  }
  const handle = setTimeout(done, 0)
  return Effect.sync(() => clearTimeout(handle))
})

export class SimClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  readonly scale: number
  readonly sleeps: Sleeps
  /** Bumped by every clock read and sleep: the "something is still running" signal for `settle`. */
  activity = 0
  private readonly base: Clock.Clock
  private readonly settleMode: Settle
  /** Simulated millis at `anchor` (base nanos); time since then runs at `scale`. */
  private origin: number
  private anchor: bigint
  private seq = 0
  private sleepers: Array<Sleeper> = []

  constructor(options: Options = {}) {
    const scale = options.scale ?? 1
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new RangeError(`SimClock: scale must be a number ≥ 0, got ${scale}`)
    this.scale = scale
    this.sleeps = options.sleeps ?? (scale === 0 ? "virtual" : "base")
    this.settleMode = options.settle ?? "fibers"
    this.base = options.base ?? Clock.make()
    this.anchor = this.base.unsafeCurrentTimeNanos()
    this.origin = options.start ?? Number(this.anchor / 1_000_000n)
  }

  private millis(): number {
    return this.scale === 0
      ? this.origin
      : this.origin + (Number(this.base.unsafeCurrentTimeNanos() - this.anchor) / 1e6) * this.scale
  }

  /** Simulated epoch milliseconds (reading it here is not clock activity). */
  get now(): number {
    return Math.floor(this.millis())
  }

  unsafeCurrentTimeMillis(): number {
    this.activity++
    return Math.floor(this.millis())
  }
  readonly currentTimeMillis: Effect.Effect<number> = Effect.sync(() => this.unsafeCurrentTimeMillis())
  unsafeCurrentTimeNanos(): bigint {
    this.activity++
    const millis = this.millis()
    const whole = Math.floor(millis)
    // Exact for whole milliseconds: epoch nanos are beyond a double's integer precision.
    return BigInt(whole) * 1_000_000n + BigInt(Math.floor((millis - whole) * 1e6))
  }
  readonly currentTimeNanos: Effect.Effect<bigint> = Effect.sync(() => this.unsafeCurrentTimeNanos())

  sleep(duration: Duration.Duration): Effect.Effect<void> {
    const millis = Duration.toMillis(duration)
    if (this.sleeps === "base") {
      return Effect.suspend(() => {
        this.activity++
        return this.base.sleep(this.scale === 0 ? duration : Duration.millis(millis / this.scale))
      })
    }
    return Effect.async<void>((resume) => {
      this.activity++
      if (millis <= 0) {
        resume(Effect.void)
        return
      }
      const sleeper: Sleeper = { at: this.millis() + millis, seq: this.seq++, resume: () => resume(Effect.void) }
      this.sleepers.push(sleeper)
      return Effect.sync(() => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper)
      })
    })
  }

  /** Sets simulated time (a scaled clock runs on from there). Wakes no sleeper. */
  set(millis: number): void {
    this.anchor = this.base.unsafeCurrentTimeNanos()
    this.origin = millis
  }

  /** Jumps forward and wakes every virtual sleeper due, without letting them run: the caller decides when. */
  jump(millis: number): void {
    this.set(this.millis() + millis)
    this.wakeDue()
  }

  private wakeDue(): void {
    const now = this.millis()
    const due = this.sleepers.filter((s) => s.at <= now)
    this.sleepers = this.sleepers.filter((s) => s.at > now)
    for (const s of due) s.resume()
  }

  /** Yields to Effect's scheduler until the clock has been quiet for a while. */
  private readonly yieldUntilQuiet: Effect.Effect<void> = Effect.suspend(() => {
    let last = -1
    let quiet = 0
    return Effect.whileLoop({
      while: () => quiet < quietYields,
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

  /** Also waits until nothing touched the clock across a few turns of the event loop. */
  private readonly yieldUntilIdle: Effect.Effect<void> = Effect.suspend(() => {
    let turns = 0
    return Effect.whileLoop({
      while: () => turns < quietTurns,
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

  /** Lets every runnable fiber run until the world is quiet (see `Settle`). */
  get settle(): Effect.Effect<void> {
    return this.settleMode === "fibers" ? this.yieldUntilQuiet : this.yieldUntilIdle
  }

  /** Moves time forward by `millis`, waking each virtual sleeper at its instant (in order) and settling after each. */
  advance(millis: number): Effect.Effect<void> {
    return Effect.gen(this, function* () {
      const target = this.millis() + millis
      yield* this.settle
      while (true) {
        let next: Sleeper | undefined
        for (const s of this.sleepers)
          if (next === undefined || s.at < next.at || (s.at === next.at && s.seq < next.seq)) next = s
        if (next === undefined || next.at > target) break
        this.set(next.at)
        this.wakeDue()
        yield* this.settle
      }
      this.set(target)
      yield* this.settle
    })
  }
}

export const make = (options: Options = {}): SimClock => new SimClock(options)

/** Sets a new `SimClock`, created when the layer is built, as the default `Clock` of everything built on it. */
export const layer = (options: Options = {}): Layer.Layer<never> => Layer.suspend(() => Layer.setClock(make(options)))
