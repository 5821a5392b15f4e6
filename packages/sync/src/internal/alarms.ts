/**
 * The engine's one timer for every store: a store that waits for its next run sets an alarm here and rests on
 * its own wake-up queue, so an idle store costs one suspended fiber and a map entry, not a fiber racing a sleep
 * against its queue (`Effect.race` forks two fibers per waiting store). One fiber sleeps until the earliest
 * alarm (through `Clock`, so `TestClock` drives it in tests) and runs the alarms that are due.
 */
import { Clock, Duration, Effect, Queue, type Scope } from "effect"

export interface Alarms {
  /** Runs `fire` at `at` (epoch millis), replacing `owner`'s earlier alarm if any. */
  readonly set: (owner: object, at: number, fire: Effect.Effect<void>) => Effect.Effect<void>
  /** Drops `owner`'s alarm (a no-op when it has none or it already fired). */
  readonly cancel: (owner: object) => Effect.Effect<void>
  /** Alarms set and not yet fired (for tests). */
  readonly pending: Effect.Effect<number>
}

interface Alarm {
  readonly at: number
  readonly fire: Effect.Effect<void>
}

export const make: Effect.Effect<Alarms, never, Scope.Scope> = Effect.gen(function* () {
  const alarms = new Map<object, Alarm>()
  // The time the timer fiber sleeps until (Infinity when it waits for a first alarm); an alarm set earlier
  // than it wakes the fiber to sleep less.
  let sleepingUntil = Number.POSITIVE_INFINITY
  const changed = yield* Queue.sliding<void>(1)

  const tick = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const due: Array<Effect.Effect<void>> = []
    let earliest = Number.POSITIVE_INFINITY
    for (const [owner, alarm] of alarms) {
      if (alarm.at <= now) {
        alarms.delete(owner)
        due.push(alarm.fire)
      } else if (alarm.at < earliest) earliest = alarm.at
    }
    for (const fire of due) yield* fire
    if (due.length > 0) return
    sleepingUntil = earliest
    yield* Number.isFinite(earliest)
      ? Effect.raceFirst(Effect.sleep(Duration.millis(earliest - now)), Queue.take(changed))
      : Queue.take(changed)
    sleepingUntil = Number.POSITIVE_INFINITY
  })
  yield* Effect.forkScoped(Effect.forever(tick))

  return {
    set: (owner, at, fire) =>
      Effect.suspend(() => {
        alarms.set(owner, { at, fire })
        return at < sleepingUntil ? Queue.offer(changed, undefined) : Effect.void
      }),
    cancel: (owner) =>
      Effect.sync(() => {
        alarms.delete(owner)
      }),
    pending: Effect.sync(() => alarms.size)
  }
})
