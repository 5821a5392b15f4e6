/**
 * The loop that keeps posbridge's copy of every store fresh. One supervised fiber per store pulls the store's
 * PosSource from its committed cursor, commits each page with its cursor through `OrderStore.ingest`, and sleeps
 * until its next run (interval with jitter, or an exponential backoff after a failure). Stores never wait for
 * each other except through the global pull limit; a rejected credential parks its store until the settings
 * change. With `onlyHeld`, a configured store runs only while its owner holds it (see StoreEntity). See README.md for the behaviour in prose; the parts live in `internal/` (engine: the set of stores;
 * runner: the per-store loop; schedule: intervals, backoff, parking; run: one pull; progress: backfill progress).
 */
import type { OrderStore, StoreDirectory } from "@posbridge/core"
import { Context, type Effect, Layer, type Scope, type Stream } from "effect"
import * as internal from "./internal/engine.js"
import type { Options, StoreSpec } from "./internal/options.js"
import type { AfterRun } from "./internal/runner.js"
import type * as SyncStatus from "./SyncStatus.js"

export type { AfterRun, Options, StoreSpec }

export interface SyncEngineService {
  /**
   * Makes the running set of stores equal to `stores`: starts new ones, stops removed ones, restarts those whose
   * settings, interval or look-back changed (which unparks a parked store). Unchanged stores keep running.
   */
  readonly setStores: (stores: ReadonlyArray<StoreSpec>) => Effect.Effect<void>
  /**
   * Holds the store on this process for as long as the calling scope is open (the store's cluster entity): with
   * `onlyHeld` a configured store runs only while held. `owns` is checked before every run, so a process that
   * lost the store's shard never starts another pull.
   */
  readonly hold: (storeId: string, owns: Effect.Effect<boolean>) => Effect.Effect<void, never, Scope.Scope>
  readonly isHeld: (storeId: string) => Effect.Effect<boolean>
  /** Runs the store now, or joins the run in progress or already requested: never two runs of a store at once. */
  readonly syncNow: (storeId: string) => Effect.Effect<SyncStatus.RunResult, StoreDirectory.UnknownStore>
  readonly status: (storeId: string) => Effect.Effect<SyncStatus.StoreStatus, StoreDirectory.UnknownStore>
  readonly statuses: Effect.Effect<ReadonlyArray<SyncStatus.StoreStatus>>
  /**
   * Progress of the store's current run, or of its next one when idle, ending when that run ends (or the store
   * is removed). For the CLI progress bar.
   */
  readonly progress: (storeId: string) => Stream.Stream<SyncStatus.Progress, StoreDirectory.UnknownStore>
  /**
   * Calls `listener` after every run of every store this process runs, with the run's result and the store's
   * figures read right after it (documents, versions waiting for a poll), for as long as the scope is open.
   */
  readonly afterEachRun: (listener: AfterRun) => Effect.Effect<void, never, Scope.Scope>
}

export class SyncEngine extends Context.Tag("@posbridge/sync/SyncEngine")<SyncEngine, SyncEngineService>() {}

export const make = (
  options: Options = {}
): Effect.Effect<SyncEngineService, never, OrderStore.OrderStore | Scope.Scope> => internal.make(options)

export const layer = (options: Options = {}): Layer.Layer<SyncEngine, never, OrderStore.OrderStore> =>
  Layer.scoped(SyncEngine, make(options))
