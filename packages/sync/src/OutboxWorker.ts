/**
 * Delivers stored ship notices to the POS. A notice is durable before ShipStation gets its 200; this worker
 * claims due outbox items (a lease, so two runners never deliver the same one at once), calls the store's
 * `PosSource.recordShipment`, and on failure retries with exponential backoff until `maxAttempts`, after which
 * the item is dead and shown to the operator.
 *
 * Each store's items are delivered by the runner that owns the store (`deliveries`), one store's at a time in a
 * delivery of its own: a POS that takes 15 s per write-back delays only its own store's write-backs, never
 * another store's. A store with nothing due costs no fiber.
 */
import { Metrics, OrderStore, type PosSource } from "@posbridge/core"
import { Cause, Clock, DateTime, Duration, Effect, FiberMap, Option, Schedule, type Scope } from "effect"

export interface Options {
  /** Finds the PosSource of a configured store; None when the store is not (or no longer) configured. */
  readonly sourceFor: (storeId: string) => Effect.Effect<Option.Option<PosSource.PosSourceService>>
  readonly maxAttempts: number
  readonly initialBackoff: Duration.Duration
  readonly maxBackoff: Duration.Duration
  /** How long `run` rests when it found nothing due: 1 s. */
  readonly idle?: Duration.Duration | undefined
  /**
   * Items claimed at once: 20 for `deliverDue`/`run`, 1 for `deliveries`. Claimed items wait their turn under one
   * lease, so `leaseFor` must outlast `batch` write-backs; one at a time, a crash strands one item, not a batch.
   */
  readonly batch?: number | undefined
  /** How long a claim holds its items (5 min); a claimer that dies mid-delivery leaves them due again after it. */
  readonly leaseFor?: Duration.Duration | undefined
}

/** Backoff before attempt `attempts + 1`: initial × 2^(attempts−1), capped. */
export const backoff = (attempts: number, initial: Duration.Duration, max: Duration.Duration): Duration.Duration =>
  Duration.min(Duration.times(initial, 2 ** Math.max(0, attempts - 1)), max)

/** One write-back: the POS's summary, or why it failed. An adapter's defect fails the attempt, not the loop. */
const writeBack = (options: Options, item: OrderStore.OutboxItem, order: Option.Option<OrderStore.StoredOrder>) =>
  Effect.gen(function* () {
    const source = yield* options.sourceFor(item.storeId)
    if (Option.isNone(source)) {
      return yield* Effect.fail(`store "${item.storeId}" is not configured on this server`)
    }
    const result = yield* source.value
      .recordShipment(
        item.notice,
        Option.map(order, (o) => o.order)
      )
      .pipe(Effect.mapError((e) => e.message))
    return result.summary
  }).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.logError("ship notice write-back crashed in the POS adapter", Cause.die(defect)).pipe(
        Effect.zipRight(Effect.fail("the POS adapter failed unexpectedly (see the server log)"))
      )
    ),
    Effect.either
  )

/**
 * Claims and delivers one batch of due items — of one store when `storeId` is given, else of every store;
 * returns how many items it handled.
 */
export const deliverDue = (options: Options, storeId?: string) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const items = yield* store.claimWriteBacks({
      storeId,
      limit: options.batch ?? 20,
      leaseFor: options.leaseFor ?? Duration.minutes(5)
    })
    for (const item of items) {
      yield* deliverOne(options, store, item)
    }
    return items.length
  })

/** One claimed item: written back, or failed for a retry, or failed for good; a span and a count either way. */
const deliverOne = (options: Options, store: OrderStore.OrderStoreService, item: OrderStore.OutboxItem) =>
  Effect.gen(function* () {
    const order = Option.isSome(item.posRef) ? yield* store.find(item.storeId, item.posRef.value) : Option.none()
    const outcome = yield* writeBack(options, item, order)
    const result = outcome._tag === "Right" ? "delivered" : item.attempts >= options.maxAttempts ? "dead" : "retrying"
    yield* Metrics.increment(Metrics.writeBacks, { store: item.storeId, outcome: result })
    yield* Effect.annotateCurrentSpan("posbridge.writeBack.outcome", result)
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
  }).pipe(
    Effect.withSpan("OutboxWorker.writeBack", {
      attributes: {
        "posbridge.store": item.storeId,
        "posbridge.writeBack": item.id,
        "posbridge.attempt": item.attempts
      }
    })
  )

/**
 * The runner's write-back deliveries for the stores it holds. One look per runner (`every`, 1 s) at which stores
 * have due items, instead of one per store: a thousand held stores cost one indexed query a second, not a thousand.
 * For each held store with due items and no delivery in flight, the look starts one (a fiber that claims and
 * delivers the store's items one at a time until none is due, then ends), so a slow POS delays only its own
 * store's write-backs. A store with nothing due holds no fiber, only its id in a set. The look also finds items
 * due again after a backoff or after a dead runner's lease, and notices stored by any replica.
 */
export interface Deliveries {
  /**
   * Delivers `storeId`'s write-backs on this runner for as long as the calling scope is open (the store's cluster
   * entity): its due items at once, then whenever the look finds some. Closing the scope interrupts a delivery in
   * flight (its item is due again once its lease ends).
   */
  readonly hold: (storeId: string) => Effect.Effect<void, never, Scope.Scope>
}

/** The runner's deliveries; the look runs until the scope closes (a failed look is logged and retried). */
export const deliveries = (
  options: Options,
  every: Duration.Duration = Duration.seconds(1)
): Effect.Effect<Deliveries, never, OrderStore.OrderStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const held = new Set<string>()
    const inFlight = yield* FiberMap.make<string>()
    const one = { ...options, batch: options.batch ?? 1 }
    // Until none is due; an error ends it (logged) and the next look starts it again.
    const drain = (storeId: string) =>
      deliverDue(one, storeId).pipe(
        Effect.repeat({ while: (n) => n > 0 }),
        Effect.catchAll((e) => Effect.logError("outbox worker could not read the store", e)),
        Effect.annotateLogs({ store: storeId }),
        Effect.provideService(OrderStore.OrderStore, store)
      )
    const look = store.storesWithDueWriteBacks.pipe(
      Effect.flatMap((due) =>
        Effect.forEach(
          due.filter((storeId) => held.has(storeId)),
          (storeId) => FiberMap.run(inFlight, storeId, drain(storeId), { onlyIfMissing: true }),
          { discard: true }
        )
      ),
      Effect.catchAllCause((cause) => Effect.logError("outbox deliveries could not read the store", cause))
    )
    yield* look.pipe(
      Effect.repeat(Schedule.spaced(every)),
      Effect.annotateLogs({ component: "outbox" }),
      Effect.forkScoped
    )
    return {
      hold: (storeId) =>
        Effect.acquireRelease(
          // A store just held (started here, or taken over from a runner that died) looks at once.
          Effect.suspend(() => {
            held.add(storeId)
            return FiberMap.run(inFlight, storeId, drain(storeId), { onlyIfMissing: true })
          }),
          () =>
            Effect.suspend(() => {
              held.delete(storeId)
              return FiberMap.remove(inFlight, storeId)
            })
        )
    }
  })

/** Repeats `deliver` forever, resting when it found nothing due or could not read the store. */
const loop = (
  rest: Effect.Effect<void>,
  deliver: Effect.Effect<number, OrderStore.OrderStoreError, OrderStore.OrderStore>
) =>
  deliver.pipe(
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.interrupt
        : Effect.logError("outbox worker could not read the store", cause).pipe(Effect.as(0))
    ),
    Effect.flatMap((n) => (n > 0 ? Effect.void : rest)),
    Effect.forever,
    Effect.annotateLogs({ component: "outbox" })
  )

/**
 * One loop for every store: a slow POS holds up every other store's write-backs behind it. Kept for tests that
 * show why `deliveries` delivers per store, which is what the server runs.
 */
export const run = (options: Options): Effect.Effect<never, never, OrderStore.OrderStore> =>
  loop(Effect.sleep(options.idle ?? Duration.seconds(1)), deliverDue(options))
