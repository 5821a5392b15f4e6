/**
 * Delivers stored ship notices to the POS. A notice is durable before ShipStation gets its 200; this worker
 * claims due outbox items (a lease, so two replicas never deliver the same one at once), calls the store's
 * `PosSource.recordShipment`, and on failure retries with exponential backoff until `maxAttempts`, after which
 * the item is dead and shown to the operator.
 */
import { OrderStore, type PosSource } from "@posbridge/core"
import { Clock, DateTime, Duration, Effect, Option } from "effect"

export interface Options {
  /** Finds the PosSource of a configured store; None when the store is not (or no longer) configured. */
  readonly sourceFor: (storeId: string) => Effect.Effect<Option.Option<PosSource.PosSourceService>>
  readonly maxAttempts: number
  readonly initialBackoff: Duration.Duration
  readonly maxBackoff: Duration.Duration
  /** How often to look for due items when the last look found none. */
  readonly idle?: Duration.Duration | undefined
  readonly batch?: number | undefined
  readonly leaseFor?: Duration.Duration | undefined
}

/** Backoff before attempt `attempts + 1`: initial × 2^(attempts−1), capped. */
export const backoff = (attempts: number, initial: Duration.Duration, max: Duration.Duration): Duration.Duration =>
  Duration.min(Duration.times(initial, 2 ** Math.max(0, attempts - 1)), max)

/** Claims and delivers one batch; returns how many items it handled. */
export const deliverDue = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const items = yield* store.claimWriteBacks({
      limit: options.batch ?? 20,
      leaseFor: options.leaseFor ?? Duration.minutes(5)
    })
    for (const item of items) {
      const order = Option.isSome(item.posRef)
        ? Option.map(yield* store.find(item.storeId, item.posRef.value), (o) => o.order)
        : Option.none()
      const outcome = yield* Effect.gen(function* () {
        const source = yield* options.sourceFor(item.storeId)
        if (Option.isNone(source)) {
          return yield* Effect.fail(`store "${item.storeId}" is not configured on this server`)
        }
        const result = yield* source.value.recordShipment(item.notice, order).pipe(Effect.mapError((e) => e.message))
        return result.summary
      }).pipe(Effect.either)
      if (outcome._tag === "Right") {
        yield* store.completeWriteBack(item.id, outcome.right)
        yield* Effect.logInfo("ship notice written back").pipe(
          Effect.annotateLogs({ store: item.storeId, outbox: item.id, result: outcome.right })
        )
      } else if (item.attempts >= options.maxAttempts) {
        yield* store.failWriteBack(item.id, outcome.left, Option.none())
        yield* Effect.logWarning("ship notice write-back gave up; the operator must act").pipe(
          Effect.annotateLogs({ store: item.storeId, outbox: item.id, attempts: item.attempts, error: outcome.left })
        )
      } else {
        const now = DateTime.unsafeMake(yield* Clock.currentTimeMillis)
        const retryAt = DateTime.addDuration(now, backoff(item.attempts, options.initialBackoff, options.maxBackoff))
        yield* store.failWriteBack(item.id, outcome.left, Option.some(retryAt))
        yield* Effect.logWarning("ship notice write-back failed; will retry").pipe(
          Effect.annotateLogs({
            store: item.storeId,
            outbox: item.id,
            attempts: item.attempts,
            retryAt: DateTime.formatIso(retryAt),
            error: outcome.left
          })
        )
      }
    }
    return items.length
  })

/** Runs forever: delivers due items, then waits a little when there were none. */
export const run = (options: Options) =>
  deliverDue(options).pipe(
    Effect.catchAll((e) => Effect.logError("outbox worker could not read the store", e).pipe(Effect.as(0))),
    Effect.flatMap((n) => (n > 0 ? Effect.void : Effect.sleep(options.idle ?? Duration.seconds(1)))),
    Effect.forever,
    Effect.annotateLogs({ component: "outbox" })
  )
