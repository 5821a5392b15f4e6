/**
 * The engine's global pull limit: `size` permits handed out first come, first served.
 *
 * Effect's Semaphore wakes every waiter on each release and the ones that lose the race wait again inside the
 * wait they lost (`take` calls itself within its resumed effect), so with hundreds of stores waiting for a few
 * permits each waiting fiber's stack grows by a frame per lost race: ~2,000 frames per store fiber, 40 MB of
 * heap at 100 stores during a first sync. Here a release hands its permit to the oldest waiter directly: one
 * wait per acquisition, and no store waits behind later arrivals.
 */
import { Deferred, Effect, FiberId } from "effect"

export interface Permits {
  /** Runs `self` holding one permit; waiting for it can be interrupted. */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Permits not held (for tests). */
  readonly available: Effect.Effect<number>
}

export const make = (size: number): Effect.Effect<Permits> =>
  Effect.sync(() => {
    let free = Math.max(1, size)
    const waiters: Array<Deferred.Deferred<void>> = []

    const release = Effect.sync(() => {
      const next = waiters.shift()
      if (next === undefined) free++
      else Deferred.unsafeDone(next, Effect.void)
    })

    const acquire = Effect.suspend(() => {
      if (free > 0 && waiters.length === 0) {
        free--
        return Effect.void
      }
      const turn = Deferred.unsafeMake<void>(FiberId.none)
      waiters.push(turn)
      return Deferred.await(turn).pipe(
        Effect.onInterrupt(() =>
          Effect.suspend(() => {
            const at = waiters.indexOf(turn)
            if (at >= 0) {
              waiters.splice(at, 1)
              return Effect.void
            }
            // Handed a permit in the instant it was interrupted: pass it on.
            return release
          })
        )
      )
    })

    return {
      withPermit: (self) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(restore(acquire), Effect.ensuring(restore(self), release))
        ),
      available: Effect.sync(() => free)
    }
  })
