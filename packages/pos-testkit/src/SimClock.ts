/**
 * A time-scaled clock for simulators: with `scale: 60` one real second is one simulated minute, so a demo shows
 * an hour of POS activity in a minute. It reads Effect's `Clock`, so under `TestClock` simulated time moves only
 * when the test adjusts it (`TestClock.adjust("1 second")` → one simulated minute at scale 60).
 *
 * @since 0.0.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export interface Options {
  /** Simulated milliseconds per real millisecond (> 0). Default 1. */
  readonly scale?: number | undefined
  /** Simulated time when the clock is created. Default: the current `Clock` time. */
  readonly start?: DateTime.DateTime.Input | undefined
}

export interface SimClockService {
  readonly scale: number
  /** Simulated epoch milliseconds. */
  readonly nowMillis: Effect.Effect<number>
  /** Simulated time as a UTC `DateTime`. */
  readonly now: Effect.Effect<DateTime.Utc>
  /** Sleeps for a simulated duration (real duration / scale). */
  readonly sleep: (duration: Duration.DurationInput) => Effect.Effect<void>
}

export class SimClock extends Context.Tag("@posbridge/pos-testkit/SimClock")<SimClock, SimClockService>() {
  static readonly layer = (options: Options = {}): Layer.Layer<SimClock> => Layer.effect(this, make(options))
}

export const make = (options: Options = {}): Effect.Effect<SimClockService> =>
  Effect.gen(function* () {
    const scale = options.scale ?? 1
    if (!(scale > 0) || !Number.isFinite(scale))
      return yield* Effect.dieMessage(`SimClock: scale must be > 0, got ${scale}`)
    const realStart = yield* Clock.currentTimeMillis
    const simStart =
      options.start === undefined ? realStart : DateTime.toEpochMillis(DateTime.unsafeMake(options.start))
    const nowMillis = Effect.map(Clock.currentTimeMillis, (real) => simStart + Math.floor((real - realStart) * scale))
    return {
      scale,
      nowMillis,
      now: Effect.map(nowMillis, (millis) => DateTime.unsafeMake(millis)),
      sleep: (duration) => Effect.sleep(Duration.millis(Duration.toMillis(Duration.decode(duration)) / scale))
    }
  })

export const now: Effect.Effect<DateTime.Utc, never, SimClock> = Effect.flatMap(SimClock, (clock) => clock.now)
export const nowMillis: Effect.Effect<number, never, SimClock> = Effect.flatMap(SimClock, (clock) => clock.nowMillis)
export const sleep = (duration: Duration.DurationInput): Effect.Effect<void, never, SimClock> =>
  Effect.flatMap(SimClock, (clock) => clock.sleep(duration))
