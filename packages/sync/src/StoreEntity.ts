/**
 * Each store is an `@effect/cluster` entity keyed by its store id: the one runner that owns the store's shard
 * runs its sync loop (held in the SyncEngine for as long as the entity lives), its "sync now" and its
 * write-back delivery. When the shard moves (a runner died, joined or left) the cluster stops the entity here
 * and the new owner starts it from the store's committed cursor. A single process (SQLite) is a cluster of one
 * runner and runs the same code.
 *
 * The cluster builds an entity only when a message reaches it, so every runner runs a small `activator` that
 * sends `Activate` to each configured store whose shard it owns and that is not held yet: stores start without
 * outside traffic and restart after a failover. Building the entity does no I/O (the POS may be down).
 */
import { Entity, EntityId, Sharding } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { StoreDirectory } from "@posbridge/core"
import { Cause, Duration, Effect, Exit, Option, Schedule, Schema, type Scope } from "effect"
import { SyncEngine } from "./SyncEngine.js"
import * as SyncStatus from "./SyncStatus.js"

/** Brings the store's entity to life on its owner (a no-op there) and answers the owner's `host:port`. */
export const Activate = Rpc.make("Activate", { success: Schema.String })

/** Runs the store now on its owner, or joins the run in progress there. */
export const SyncNow = Rpc.make("SyncNow", { success: SyncStatus.RunResult, error: StoreDirectory.UnknownStore })

export const StoreEntity = Entity.make("posbridge/Store", [Activate, SyncNow])

/** The store's owner did not answer (it is starting, stopping or gone); the caller may retry. */
export class OwnerUnavailable extends Schema.TaggedError<OwnerUnavailable>()("OwnerUnavailable", {
  storeId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The runner that owns store "${this.storeId}" did not answer (${this.reason}); try again in a few seconds.`
  }
}

export interface Options {
  /**
   * Holds the store's write-back deliveries on the owner for as long as it owns the store (the entity's scope):
   * `OutboxWorker.deliveries`'s `hold`.
   */
  readonly writeBacks: (storeId: string) => Effect.Effect<void, never, Scope.Scope>
}

/** Registers the entity on this runner. Needs the SyncEngine made with `onlyHeld: true`. */
export const layer = (options: Options) =>
  StoreEntity.toLayer(
    Effect.gen(function* () {
      const address = yield* Entity.CurrentAddress
      const runner = yield* Entity.CurrentRunnerAddress
      const sharding = yield* Sharding.Sharding
      const engine = yield* SyncEngine
      const storeId = address.entityId
      const owner = `${runner.host}:${runner.port}`
      yield* engine.hold(
        storeId,
        Effect.sync(() => sharding.hasShardId(address.shardId))
      )
      yield* options.writeBacks(storeId)
      yield* Effect.logDebug(`store ${storeId}: owned by this runner (${owner})`)
      return StoreEntity.of({
        Activate: () => Effect.succeed(owner),
        SyncNow: () => engine.syncNow(storeId)
      })
    }),
    // Alive for as long as the runner owns the shard; Activate must never wait behind a long SyncNow.
    { maxIdleTime: Duration.infinity, concurrency: "unbounded" }
  )

/** Clients for other modules (the admin routes, the OAuth callback): they reach the owner from any replica. */
export const client = Effect.gen(function* () {
  const make = yield* StoreEntity.client
  /**
   * "Sync now" on the store's owner; a run may take long (a backfill), so the bound is generous. Anything but
   * an unknown store (the owner stopping mid-run, the cluster failing, no answer in time) is OwnerUnavailable.
   */
  const syncNow = (
    storeId: string,
    timeout: Duration.DurationInput = Duration.minutes(5)
  ): Effect.Effect<SyncStatus.RunResult, StoreDirectory.UnknownStore | OwnerUnavailable> =>
    make(storeId)
      .SyncNow()
      .pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new OwnerUnavailable({ storeId, reason: "no answer in time" })
        }),
        Effect.catchAllCause((cause) => {
          const failure = Cause.failureOption(cause)
          if (Option.isSome(failure)) {
            const e = failure.value
            return e._tag === "UnknownStore" || e._tag === "OwnerUnavailable"
              ? Effect.fail(e)
              : Effect.fail(new OwnerUnavailable({ storeId, reason: e._tag }))
          }
          return Effect.logWarning(`sync now of store ${storeId} did not complete`, cause).pipe(
            Effect.zipRight(
              Effect.fail(
                new OwnerUnavailable({
                  storeId,
                  reason: Cause.isInterruptedOnly(cause) ? "its run was interrupted" : "the cluster failed"
                })
              )
            )
          )
        })
      )
  /** `host:port` of the runner that owns the store, None when no runner answers within `timeout`. */
  const ownerOf = (storeId: string, timeout: Duration.DurationInput = Duration.seconds(2)) =>
    make(storeId)
      .Activate()
      .pipe(
        Effect.timeout(timeout),
        Effect.exit,
        Effect.map((exit) => (Exit.isSuccess(exit) ? Option.some(exit.value) : Option.none()))
      )
  return { syncNow, ownerOf }
})

/**
 * Every `every` (default 1 s), sends `Activate` to each store in `storeIds` whose shard this runner owns and
 * that is not held here yet. Runs until interrupted.
 */
export const activator = (
  storeIds: Effect.Effect<ReadonlyArray<string>>,
  every: Duration.DurationInput = Duration.seconds(1)
): Effect.Effect<never, never, Sharding.Sharding | SyncEngine | Scope.Scope> =>
  Effect.gen(function* () {
    const sharding = yield* Sharding.Sharding
    const engine = yield* SyncEngine
    const make = yield* StoreEntity.client
    const tick = Effect.gen(function* () {
      const ids = yield* storeIds
      const toStart: Array<string> = []
      for (const id of ids) {
        const entityId = EntityId.make(id)
        if (!sharding.hasShardId(sharding.getShardId(entityId, StoreEntity.getShardGroup(entityId)))) continue
        if (!(yield* engine.isHeld(id))) toStart.push(id)
      }
      yield* Effect.forEach(
        toStart,
        (id) =>
          make(id)
            .Activate()
            .pipe(Effect.timeout(Duration.seconds(5)), Effect.ignore),
        { concurrency: 16, discard: true }
      )
    })
    return yield* tick.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("store activation failed", cause)),
      Effect.repeat(Schedule.spaced(every)),
      Effect.andThen(Effect.never)
    )
  })
