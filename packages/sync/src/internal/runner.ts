/**
 * The per-store loop: wait for the next run (or a "sync now"), run, schedule the next one. Requests for a run
 * are coalesced — callers during a run join it, callers before it starts share it — so a store never runs
 * twice at once. Interrupting the loop (store removed or restarted) releases every waiting caller.
 */
import { Metrics, type OrderStore, PosSource } from "@posbridge/core"
import { Context, DateTime, Deferred, Duration, Effect, Layer, Option, Queue, Ref, SubscriptionRef } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
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
  readonly status: SubscriptionRef.SubscriptionRef<SyncStatus.StoreStatus>
  readonly wake: Queue.Queue<void>
  readonly coalesce: Ref.Ref<Coalesce>
  readonly stopped: Deferred.Deferred<void>
  /** Whether this process still owns the store (its cluster shard); checked, in memory, before every run. */
  readonly owns: Effect.Effect<boolean>
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
      status: yield* SubscriptionRef.make(initial),
      wake: yield* Queue.sliding<void>(1),
      coalesce: yield* Ref.make<Coalesce>({ current: Option.none(), pending: Option.none() }),
      stopped: yield* Deferred.make<void>(),
      owns
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
}

const ownershipRecheckMillis = 1_000

/** Runs the store until interrupted. */
export const loop = (shared: Shared, runner: Runner, interval: number, lookback: number) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const sourceRef = yield* Ref.make(Option.none<PosSource.PosSourceService>())
    const getSource = Effect.gen(function* () {
      const cached = yield* Ref.get(sourceRef)
      if (Option.isSome(cached)) return cached.value
      const spec = runner.spec.source
      const source: PosSource.PosSourceService = isService(spec)
        ? spec
        : Context.get(yield* Layer.buildWithScope(spec, scope), PosSource.PosSource)
      yield* Ref.set(sourceRef, Option.some(source))
      return source
    })
    const run = {
      store: shared.store,
      permits: shared.permits,
      settings: runner.spec.settings,
      status: runner.status,
      lookback,
      getSource,
      secrets: [...(runner.spec.secrets ?? [])]
    }

    // Wait `delay` (or forever when parked) unless someone asks for a run.
    const waitFor = (delay: Option.Option<number>) =>
      Effect.gen(function* () {
        const at = yield* now
        yield* SubscriptionRef.update(runner.status, (s) => ({
          ...s,
          nextRunAt: Option.map(delay, (millis) => DateTime.add(at, { millis }))
        }))
        const woken = Queue.take(runner.wake)
        yield* Option.match(delay, {
          onNone: () => woken,
          onSome: (millis) => Effect.race(Effect.sleep(Duration.millis(millis)), woken)
        })
      })

    const runOnce = Effect.gen(function* () {
      const fresh = yield* Deferred.make<SyncStatus.RunResult>()
      const deferred = yield* Ref.modify(runner.coalesce, (c): [Deferred.Deferred<SyncStatus.RunResult>, Coalesce] => {
        const d = Option.getOrElse(c.pending, () => fresh)
        return [d, { current: Option.some(d), pending: Option.none() }]
      })
      // Wake-ups offered before this point asked for the run that is starting now.
      yield* Queue.takeAll(runner.wake)
      const result = yield* pullAll(run)
      yield* Ref.update(runner.coalesce, (c) => ({ ...c, current: Option.none() }))
      yield* Deferred.succeed(deferred, result)
      return result
    })

    const startedAt = yield* now
    // After every run the store's gauges (documents, waiting, held, write-backs) are set from the order store by
    // this runner, which owns the store; a scrape of /metrics reads none of it. The first successful run since
    // the store started is logged once, with what the store then holds, so an operator (and the demo's user)
    // knows when ShipStation's next poll has orders to find.
    const afterRun = (result: SyncStatus.RunResult) =>
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
        const seconds = (DateTime.toEpochMillis(result.finishedAt) - DateTime.toEpochMillis(startedAt)) / 1000
        yield* SubscriptionRef.update(runner.status, (s) => ({
          ...s,
          firstSync: Option.some({ at: result.finishedAt, seconds: Math.max(0, seconds), documents })
        }))
        yield* Effect.logInfo(
          `store ${id}: first sync finished ${seconds.toFixed(1)} s after start; it holds ${documents} ${runner.spec.settings.documentKind} for ShipStation`
        )
      })

    let delay = yield* firstDelay(shared.tuning, interval)
    yield* SubscriptionRef.update(runner.status, (s): SyncStatus.StoreStatus => ({ ...s, state: "idle" }))
    while (true) {
      yield* waitFor(delay)
      // A process that lost the store's shard never starts another pull; the new owner runs it (and this loop
      // is stopped as soon as the cluster hands the shard over). Requested runs wait for that.
      if (!(yield* runner.owns)) {
        delay = Option.some(ownershipRecheckMillis)
        continue
      }
      const result = yield* runOnce
      yield* afterRun(result)
      const s = yield* SubscriptionRef.get(runner.status)
      delay = yield* nextDelay(shared.tuning, interval, result, s.consecutiveFailures)
    }
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() =>
      Effect.gen(function* () {
        // Callers waiting on a requested run are released: the store is gone or restarting.
        const c = yield* Ref.get(runner.coalesce)
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
        for (const d of [c.current, c.pending]) if (Option.isSome(d)) yield* Deferred.succeed(d.value, stopped)
        yield* Deferred.succeed(runner.stopped, undefined)
      })
    )
  )
