/**
 * A store's runs: wait for the next run (or a "sync now"), run, schedule the next one. A store that waits holds
 * no fiber: its next run is an alarm in the engine's one timer (`alarms.ts`), and a fiber exists only while a run
 * is in progress (`start` forks it into the engine's FiberMap). Requests for a run are coalesced — callers during
 * a run join it, callers before it starts share it — so a store never runs twice at once. Stopping the store
 * (removed or restarted) interrupts its run and releases every waiting caller.
 */
import { Metrics, type OrderStore, PosSource } from "@posbridge/core"
import { Context, DateTime, Deferred, Effect, Exit, FiberMap, Layer, Option, Ref, Scope, SubscriptionRef } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
import type * as Alarms from "./alarms.js"
import { fingerprint, isService, type StoreSpec, type Tuning } from "./options.js"
import type * as Permits from "./permits.js"
import * as Progress from "./progress.js"
import { pullAll } from "./run.js"
import { firstDelay, nextDelay, now } from "./schedule.js"

export interface Coalesce {
  readonly current: Option.Option<Deferred.Deferred<SyncStatus.RunResult>>
  readonly pending: Option.Option<Deferred.Deferred<SyncStatus.RunResult>>
}

export interface Runner {
  readonly spec: StoreSpec
  readonly fingerprint: string
  readonly interval: number
  readonly lookback: number
  readonly status: SubscriptionRef.SubscriptionRef<SyncStatus.StoreStatus>
  readonly stopped: Deferred.Deferred<void>
  /** Whether this process still owns the store (its cluster shard); checked, in memory, before every run. */
  readonly owns: Effect.Effect<boolean>
  /** Holds the store's PosSource when its spec is a Layer; closed when the store stops. */
  readonly scope: Scope.CloseableScope
  readonly startedAt: DateTime.Utc
  /**
   * The scheduling state, read and changed only in synchronous steps so that a "sync now", an alarm and the end
   * of a run never interleave: the requested runs, whether a run's fiber is in flight (no second one is
   * started), whether the store stopped (nothing starts again), and its PosSource once built.
   */
  readonly state: {
    coalesce: Coalesce
    running: boolean
    stopping: boolean
    source: Option.Option<PosSource.PosSourceService>
  }
}

/** A runner for `spec`; a restart (`previous`) keeps the history but not the parking or the failure streak. */
export const make = (
  spec: StoreSpec,
  interval: number,
  lookback: number,
  previous: Option.Option<Runner>,
  owns: Effect.Effect<boolean>
) =>
  Effect.gen(function* () {
    const carried = yield* Option.match(previous, {
      onNone: () => Effect.succeed(Option.none<SyncStatus.StoreStatus>()),
      onSome: (runner) => Effect.map(SubscriptionRef.get(runner.status), Option.some)
    })
    const initial: SyncStatus.StoreStatus = {
      storeId: spec.settings.id,
      adapter: spec.settings.adapter,
      state: "starting",
      intervalMillis: interval,
      lastSuccessAt: Option.none(),
      firstSync: Option.none(),
      lastError: Option.none(),
      parkedReason: Option.none(),
      nextRunAt: Option.none(),
      consecutiveFailures: 0,
      backlog: Option.none(),
      runs: 0,
      progress: Option.none(),
      ...Progress.zeroCounts,
      ...Option.match(carried, {
        onNone: () => ({}),
        onSome: (s) => ({
          lastSuccessAt: s.lastSuccessAt,
          firstSync: s.firstSync,
          lastError: s.lastError,
          backlog: s.backlog,
          runs: s.runs,
          progress: s.progress,
          documentsIngested: s.documentsIngested,
          inserted: s.inserted,
          unchanged: s.unchanged,
          restamps: s.restamps,
          ignored: s.ignored
        })
      })
    }
    const runner: Runner = {
      spec,
      fingerprint: fingerprint(spec, interval, lookback),
      interval,
      lookback,
      status: yield* SubscriptionRef.make(initial),
      stopped: yield* Deferred.make<void>(),
      owns,
      scope: yield* Scope.make(),
      startedAt: yield* now,
      state: {
        coalesce: { current: Option.none(), pending: Option.none() },
        running: false,
        stopping: false,
        source: Option.none()
      }
    }
    return runner
  })

/** Told after every run of a store, with the store's figures then (see `SyncEngineService.afterEachRun`). */
export type AfterRun = (
  storeId: string,
  result: SyncStatus.RunResult,
  stats: OrderStore.OrderStats
) => Effect.Effect<void>

export interface Shared {
  readonly store: OrderStore.OrderStoreService
  readonly permits: Permits.Permits
  readonly tuning: Tuning
  readonly listeners: Ref.Ref<ReadonlyArray<AfterRun>>
  readonly alarms: Alarms.Alarms
  /** The runs in flight, by store id (at most one per store). */
  readonly fibers: FiberMap.FiberMap<string>
}

const ownershipRecheckMillis = 1_000

/**
 * Forks the store's run into `fibers` unless one is in flight or the store stopped. Called by its alarm, by a
 * "sync now" and when the store starts.
 */
export const start = (shared: Shared, runner: Runner): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (runner.state.running || runner.state.stopping) return Effect.void
    runner.state.running = true
    return shared.alarms
      .cancel(runner)
      .pipe(Effect.zipRight(FiberMap.run(shared.fibers, runner.spec.settings.id, runs(shared, runner))), Effect.asVoid)
  })

/** Sets the store's next run `delay` from now (None: parked, only a sync now or new settings wake it). */
const schedule = (shared: Shared, runner: Runner, delay: Option.Option<number>) =>
  Effect.gen(function* () {
    const at = yield* now
    const nextRunAt = Option.map(delay, (millis) => DateTime.add(at, { millis }))
    yield* SubscriptionRef.update(runner.status, (s) => ({ ...s, nextRunAt }))
    if (Option.isSome(nextRunAt)) {
      yield* shared.alarms.set(runner, DateTime.toEpochMillis(nextRunAt.value), start(shared, runner))
    }
  })

/** The store's first wait: a random slice of its interval, so a thousand stores started together spread out. */
export const begin = (shared: Shared, runner: Runner) =>
  Effect.gen(function* () {
    const delay = yield* firstDelay(shared.tuning, runner.interval)
    yield* SubscriptionRef.update(runner.status, (s): SyncStatus.StoreStatus => ({ ...s, state: "idle" }))
    yield* schedule(shared, runner, delay)
  })

/**
 * Asks for a run and waits for its result: joins the run in progress, or the one already requested, or requests
 * one and starts it unless a run is in flight (which starts it when it ends).
 */
export const request = (shared: Shared, runner: Runner) =>
  Effect.gen(function* () {
    // A store stopping (removed, or restarting with new settings) runs no more.
    if (runner.state.stopping) return yield* stoppedResult(runner)
    const fresh = yield* Deferred.make<SyncStatus.RunResult>()
    const c = runner.state.coalesce
    let target = fresh
    if (Option.isSome(c.current)) target = c.current.value
    else if (Option.isSome(c.pending)) target = c.pending.value
    else runner.state.coalesce = { ...c, pending: Option.some(fresh) }
    if (target === fresh) yield* start(shared, runner)
    return yield* Deferred.await(target)
  })

/** One run of the store, then its next alarm (or its next run, when one was requested meanwhile); the fiber ends. */
const runs = (shared: Shared, runner: Runner): Effect.Effect<void> =>
  Effect.suspend(() => {
    // Set when the store's shard is no longer ours: requested runs then wait for the recheck, not a busy loop.
    let disowned = false
    return Effect.gen(function* () {
      const getSource = Effect.gen(function* () {
        const cached = runner.state.source
        if (Option.isSome(cached)) return cached.value
        const spec = runner.spec.source
        const source: PosSource.PosSourceService = isService(spec)
          ? spec
          : Context.get(yield* Layer.buildWithScope(spec, runner.scope), PosSource.PosSource)
        runner.state.source = Option.some(source)
        return source
      })
      const run = {
        store: shared.store,
        permits: shared.permits,
        settings: runner.spec.settings,
        status: runner.status,
        lookback: runner.lookback,
        getSource,
        secrets: [...(runner.spec.secrets ?? [])]
      }
      const runOnce = Effect.gen(function* () {
        const fresh = yield* Deferred.make<SyncStatus.RunResult>()
        const c = runner.state.coalesce
        const deferred = Option.getOrElse(c.pending, () => fresh)
        runner.state.coalesce = { current: Option.some(deferred), pending: Option.none() }
        const result = yield* pullAll(run)
        runner.state.coalesce = { ...runner.state.coalesce, current: Option.none() }
        yield* Deferred.succeed(deferred, result)
        return result
      })
      // A process that lost the store's shard never starts another pull; the new owner runs it (and this store is
      // stopped here as soon as the cluster hands the shard over). Requested runs wait for that.
      if (!(yield* runner.owns)) {
        disowned = true
        return yield* schedule(shared, runner, Option.some(ownershipRecheckMillis))
      }
      const result = yield* runOnce
      yield* afterRun(shared, runner, result)
      const s = yield* SubscriptionRef.get(runner.status)
      yield* schedule(shared, runner, yield* nextDelay(shared.tuning, runner.interval, result, s.consecutiveFailures))
    }).pipe(
      // A defect here (not a failed pull, which is a result) must not end the store's schedule for good.
      Effect.catchAllDefect((defect) =>
        Effect.logError(
          `store ${runner.spec.settings.id}: its run failed unexpectedly; retrying after its interval`,
          defect
        ).pipe(Effect.zipRight(schedule(shared, runner, Option.some(runner.interval))))
      ),
      // Nothing yields between here and the fiber's end, so a request sees either this run in flight (and is
      // started here when it ends) or none (and starts one itself).
      Effect.ensuring(
        Effect.suspend(() => {
          runner.state.running = false
          // A run requested while this one ran (after it took the requests it serves) starts now, unless the
          // store is no longer ours (its alarm rechecks in a second).
          return !disowned && Option.isSome(runner.state.coalesce.pending) ? start(shared, runner) : Effect.void
        })
      )
    )
  })

/**
 * After every run the store's gauges (documents, waiting, held, write-backs) are set from the order store by
 * this runner, which owns the store; a scrape of /metrics reads none of it. The first successful run since the
 * store started is logged once, with what the store then holds, so an operator (and the demo's user) knows when
 * ShipStation's next poll has orders to find.
 */
const afterRun = (shared: Shared, runner: Runner, result: SyncStatus.RunResult) =>
  Effect.gen(function* () {
    const id = runner.spec.settings.id
    const stats = yield* shared.store.stats(id).pipe(Effect.option)
    if (Option.isSome(stats)) {
      yield* Metrics.setStoreGauges(id, stats.value)
      for (const listener of yield* Ref.get(shared.listeners)) {
        yield* listener(id, result, stats.value).pipe(
          Effect.catchAllCause((cause) => Effect.logWarning(`store ${id}: a listener of its runs failed`, cause))
        )
      }
    }
    if (result.outcome !== "succeeded") return
    if (Option.isSome((yield* SubscriptionRef.get(runner.status)).firstSync)) return
    const documents = Option.match(stats, { onNone: () => result.documents, onSome: (st) => st.documents })
    const seconds = (DateTime.toEpochMillis(result.finishedAt) - DateTime.toEpochMillis(runner.startedAt)) / 1000
    yield* SubscriptionRef.update(runner.status, (s) => ({
      ...s,
      firstSync: Option.some({ at: result.finishedAt, seconds: Math.max(0, seconds), documents })
    }))
    yield* Effect.logInfo(
      `store ${id}: first sync finished ${seconds.toFixed(1)} s after start; it holds ${documents} ${runner.spec.settings.documentKind} for ShipStation`
    )
  })

/** What a caller waiting on a run of a store that stopped (removed, restarting, released) is told. */
const stoppedResult = (runner: Runner) =>
  Effect.gen(function* () {
    const at = yield* now
    const s = yield* SubscriptionRef.get(runner.status)
    const stopped: SyncStatus.RunResult = {
      storeId: s.storeId,
      run: s.runs,
      outcome: "stopped",
      startedAt: at,
      finishedAt: at,
      pages: 0,
      documents: 0,
      error: Option.none()
    }
    return stopped
  })

/**
 * Stops the store: no run starts again, its alarm is dropped, a run in progress is interrupted (its page is not
 * committed), callers waiting on a requested run are released with a "stopped" result, its PosSource's scope is
 * closed.
 */
export const stop = (shared: Shared, runner: Runner) =>
  Effect.gen(function* () {
    runner.state.stopping = true
    yield* shared.alarms.cancel(runner)
    yield* FiberMap.remove(shared.fibers, runner.spec.settings.id)
    const c = runner.state.coalesce
    runner.state.coalesce = { current: Option.none(), pending: Option.none() }
    const stopped = yield* stoppedResult(runner)
    for (const d of [c.current, c.pending]) if (Option.isSome(d)) yield* Deferred.succeed(d.value, stopped)
    yield* Scope.close(runner.scope, Exit.void)
    yield* Deferred.succeed(runner.stopped, undefined)
  })
