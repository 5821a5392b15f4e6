/**
 * A `Clock` that runs `scale` times faster than the one it wraps: `Clock.currentTimeMillis` advances `scale`
 * simulated milliseconds per real millisecond and `Effect.sleep(d)` sleeps `d / scale`. Run the simulator and the
 * adapter under the same scaled clock (`Effect.withClock`) and hours of leaky-bucket time pass in seconds while
 * both sides agree on time, headers and Retry-After.
 *
 * (pos-testkit's `SimClock` is a separate service the code must ask for; this is a drop-in `Clock`, which the
 * adapter's rate limiter and retry schedules read without knowing they are being simulated.)
 */
import { Clock, Duration, Effect, Layer } from "effect"

export interface Options {
  /** Simulated epoch millis at creation (default: the wrapped clock's time). Fixed values make recordings stable. */
  readonly startMillis?: number | undefined
  readonly base?: Clock.Clock | undefined
}

export const make = (scale: number, options: Options = {}): Clock.Clock => {
  const base = options.base ?? Clock.make()
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`ScaledClock: scale must be > 0, got ${scale}`)
  const realNanos = () => base.unsafeCurrentTimeNanos()
  const startNanos = realNanos()
  const startMillis = options.startMillis ?? Number(startNanos / 1_000_000n)
  const millis = () => startMillis + (Number(realNanos() - startNanos) / 1e6) * scale
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => Math.floor(millis()),
    currentTimeMillis: Effect.sync(() => Math.floor(millis())),
    unsafeCurrentTimeNanos: () => BigInt(Math.floor(millis() * 1e6)),
    currentTimeNanos: Effect.sync(() => BigInt(Math.floor(millis() * 1e6))),
    sleep: (duration) => base.sleep(Duration.millis(Duration.toMillis(duration) / scale))
  }
}

/** Sets a scaled clock as the default Clock for everything built on this layer. */
export const layer = (scale: number, options: Options = {}): Layer.Layer<never> => Layer.setClock(make(scale, options))
