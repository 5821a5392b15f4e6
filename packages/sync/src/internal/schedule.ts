/**
 * When a store runs next: its interval after a success, an exponential backoff after a failure (a POS's own
 * "retry after" obeyed even past the cap), never while parked. Every wait is jittered so that stores spread out.
 */
import { Clock, DateTime, Effect, Option, Random } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
import type { Tuning } from "./options.js"

export const now = Effect.map(Clock.currentTimeMillis, (millis) => DateTime.unsafeMake(millis))

/** `millis` minus up to `jitter` of it, so many stores spread out rather than bunching. */
const jittered = (tuning: Tuning, millis: number) =>
  Effect.map(Random.next, (r) => Math.max(0, Math.round(millis * (1 - tuning.jitter * r))))

const backoffMillis = (tuning: Tuning, failures: number) =>
  Math.min(tuning.backoffMax, tuning.backoffInitial * 2 ** Math.min(failures - 1, 40))

/**
 * The first run of each store starts after a random slice of the interval, so a thousand stores started
 * together do not fire together.
 */
export const firstDelay = (tuning: Tuning, interval: number) =>
  Effect.map(Random.next, (r) => Option.some(Math.round(interval * tuning.jitter * r)))

/** The wait before the next run after `result`; None while parked (only a sync now or new settings wake it). */
export const nextDelay = (
  tuning: Tuning,
  interval: number,
  result: SyncStatus.RunResult,
  consecutiveFailures: number
): Effect.Effect<Option.Option<number>> =>
  Effect.gen(function* () {
    if (result.outcome === "succeeded") return Option.some(yield* jittered(tuning, interval))
    if (result.outcome === "parked") return Option.none()
    // A POS that says when to come back is obeyed, even past the cap.
    const retryAfter = Option.match(result.error, {
      onNone: () => 0,
      onSome: (error) => error.retryAfterMillis ?? 0
    })
    return Option.some(Math.max(yield* jittered(tuning, backoffMillis(tuning, consecutiveFailures)), retryAfter))
  })
