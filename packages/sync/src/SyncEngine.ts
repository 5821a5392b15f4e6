/**
 * The loop that keeps posbridge's copy of every store fresh. One supervised fiber per store pulls the store's
 * PosSource from its committed cursor, commits each page with its cursor through `OrderStore.ingest`, and sleeps
 * until its next run (interval with jitter, or an exponential backoff after a failure). Stores never wait for
 * each other except through the global pull limit; a rejected credential parks its store until the settings
 * change. See README.md for the behaviour in prose.
 */
import { OrderStore, PosSource, StoreDirectory, type StoreSettings } from "@posbridge/core"
import {
  Cause,
  type Chunk,
  Clock,
  Context,
  DateTime,
  Deferred,
  Duration,
  Effect,
  FiberMap,
  Layer,
  Option,
  Queue,
  Random,
  Redacted,
  Ref,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import type * as SyncStatus from "./SyncStatus.js"

export interface StoreSpec {
  readonly settings: StoreSettings.StoreSettings
  /** The store's PosSource, or a Layer building it (built once per start of the store, retried on failure). */
  readonly source: Layer.Layer<PosSource.PosSource, PosSource.PosSourceError> | PosSource.PosSourceService
  /** Time between the end of one successful run and the start of the next. Default: the engine's (60 s). */
  readonly intervalMillis?: number | undefined
  /** How far back the first connect reads. Default: the engine's (30 days). */
  readonly lookbackDays?: number | undefined
  /** Strings never to show in a status (e.g. `LoadedAdapter.secrets`). */
  readonly secrets?: ReadonlyArray<string> | undefined
}

export interface Options {
  /** Pages fetched and committed at once across all stores. Default 8. */
  readonly maxConcurrentPulls?: number | undefined
  readonly defaultIntervalMillis?: number | undefined
  readonly defaultLookbackDays?: number | undefined
  /** Fraction of the interval (and of each backoff) that is randomized. Default 0.1. */
  readonly jitter?: number | undefined
  /** First retry delay after a failure. Default 1 s. */
  readonly backoffInitialMillis?: number | undefined
  /** Backoff cap. Default 15 min. */
  readonly backoffMaxMillis?: number | undefined
}

export interface SyncEngineService {
  /**
   * Makes the running set of stores equal to `stores`: starts new ones, stops removed ones, restarts those whose
   * settings, interval or look-back changed (which unparks a parked store). Unchanged stores keep running.
   */
  readonly setStores: (stores: ReadonlyArray<StoreSpec>) => Effect.Effect<void>
  /** Runs the store now, or joins the run in progress or already requested: never two runs of a store at once. */
  readonly syncNow: (storeId: string) => Effect.Effect<SyncStatus.RunResult, StoreDirectory.UnknownStore>
  readonly status: (storeId: string) => Effect.Effect<SyncStatus.StoreStatus, StoreDirectory.UnknownStore>
  readonly statuses: Effect.Effect<ReadonlyArray<SyncStatus.StoreStatus>>
  /**
   * Progress of the store's current run, or of its next one when idle, ending when that run ends (or the store
   * is removed). For the CLI progress bar.
   */
  readonly progress: (storeId: string) => Stream.Stream<SyncStatus.Progress, StoreDirectory.UnknownStore>
}

export class SyncEngine extends Context.Tag("@posbridge/sync/SyncEngine")<SyncEngine, SyncEngineService>() {}

interface Coalesce {
  readonly current: Option.Option<Deferred.Deferred<SyncStatus.RunResult>>
  readonly pending: Option.Option<Deferred.Deferred<SyncStatus.RunResult>>
}

interface Runner {
  readonly spec: StoreSpec
  readonly fingerprint: string
  readonly status: SubscriptionRef.SubscriptionRef<SyncStatus.StoreStatus>
  readonly wake: Queue.Queue<void>
  readonly coalesce: Ref.Ref<Coalesce>
  readonly stopped: Deferred.Deferred<void>
}

type Failure = { readonly kind: SyncStatus.ErrorKind; readonly message: string; readonly retryAfterMillis?: number }

const parkingKinds: ReadonlySet<SyncStatus.ErrorKind> = new Set(["auth", "config", "permanent"])

const zeroCounts = {
  documentsIngested: 0,
  inserted: 0,
  unchanged: 0,
  restamps: { "pos-resaved": 0, "content-changed": 0, touched: 0 },
  ignored: { "wrong-kind": 0, excluded: 0, "older-version": 0, "not-found": 0 }
} as const

/** A comparable rendering of a spec; Redacted values are revealed so a changed password counts as a change. */
const fingerprint = (spec: StoreSpec, interval: number, lookback: number): string => {
  const canonical = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value
    if (Redacted.isRedacted(value)) return { $redacted: canonical(Redacted.value(value)) }
    if (DateTime.isDateTime(value)) return DateTime.formatIso(value)
    if (Array.isArray(value)) return value.map(canonical)
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)])
    )
  }
  return JSON.stringify(canonical({ settings: spec.settings, interval, lookback }))
}

const isService = (source: StoreSpec["source"]): source is PosSource.PosSourceService => !Layer.isLayer(source)

const scrub = (message: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((text, secret) => (secret.length > 0 ? text.split(secret).join("***") : text), message)

const classify = (cause: Cause.Cause<unknown>): Failure => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof PosSource.PosSourceError) {
      return error.retryAfterMillis === undefined
        ? { kind: error.kind, message: error.message }
        : { kind: error.kind, message: error.message, retryAfterMillis: error.retryAfterMillis }
    }
    if (error instanceof OrderStore.OrderStoreError) {
      return { kind: "store", message: `order store: ${error.operation}: ${error.message}` }
    }
    return { kind: "transient", message: String(error) }
  }
  const defect = Cause.squash(cause)
  return { kind: "defect", message: defect instanceof Error ? defect.message : String(defect) }
}

export const make = (
  options: Options = {}
): Effect.Effect<SyncEngineService, never, OrderStore.OrderStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const maxConcurrentPulls = Math.max(1, options.maxConcurrentPulls ?? 8)
    const defaultInterval = options.defaultIntervalMillis ?? 60_000
    const defaultLookback = options.defaultLookbackDays ?? 30
    const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.1))
    const backoffInitial = options.backoffInitialMillis ?? 1_000
    const backoffMax = options.backoffMaxMillis ?? 15 * 60_000

    const permits = yield* Effect.makeSemaphore(maxConcurrentPulls)
    const fibers = yield* FiberMap.make<string>()
    const runners = yield* Ref.make(new Map<string, Runner>())
    // setStores calls are serialized so two diffs never interleave.
    const setLock = yield* Effect.makeSemaphore(1)

    const now = Effect.map(Clock.currentTimeMillis, (millis) => DateTime.unsafeMake(millis))

    /** `millis` minus up to `jitter` of it, so many stores spread out rather than bunching. */
    const jittered = (millis: number) =>
      Effect.map(Random.next, (r) => Math.max(0, Math.round(millis * (1 - jitter * r))))

    const backoffMillis = (failures: number) => Math.min(backoffMax, backoffInitial * 2 ** Math.min(failures - 1, 40))

    const startRunner = (spec: StoreSpec, interval: number, lookback: number, previous: Option.Option<Runner>) =>
      Effect.gen(function* () {
        const storeId = spec.settings.id
        const secrets = [...(spec.secrets ?? [])]
        const carried = yield* Option.match(previous, {
          onNone: () => Effect.succeed(Option.none<SyncStatus.StoreStatus>()),
          onSome: (runner) => Effect.map(SubscriptionRef.get(runner.status), Option.some)
        })
        const initial: SyncStatus.StoreStatus = {
          storeId,
          adapter: spec.settings.adapter,
          state: "starting",
          intervalMillis: interval,
          lastSuccessAt: Option.none(),
          lastError: Option.none(),
          parkedReason: Option.none(),
          nextRunAt: Option.none(),
          consecutiveFailures: 0,
          backlog: Option.none(),
          runs: 0,
          progress: Option.none(),
          ...zeroCounts,
          // A restart (settings changed) keeps the history but not the parking or the failure streak.
          ...Option.match(carried, {
            onNone: () => ({}),
            onSome: (s) => ({
              lastSuccessAt: s.lastSuccessAt,
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
          stopped: yield* Deferred.make<void>()
        }
        yield* Ref.update(runners, (map) => new Map(map).set(storeId, runner))
        yield* FiberMap.run(fibers, storeId, runLoop(runner, interval, lookback, secrets))
      })

    const update = (runner: Runner, f: (s: SyncStatus.StoreStatus) => SyncStatus.StoreStatus) =>
      SubscriptionRef.update(runner.status, f)

    const runLoop = (runner: Runner, interval: number, lookback: number, secrets: ReadonlyArray<string>) =>
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

        const settle = (deferred: Deferred.Deferred<SyncStatus.RunResult>, result: SyncStatus.RunResult) =>
          Deferred.succeed(deferred, result)

        // Wait `delay` (or forever when parked) unless someone asks for a run.
        const waitFor = (delay: Option.Option<number>) =>
          Effect.gen(function* () {
            const at = yield* now
            yield* update(runner, (s) => ({
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
          const deferred = yield* Ref.modify(
            runner.coalesce,
            (c): [Deferred.Deferred<SyncStatus.RunResult>, Coalesce] => {
              const d = Option.getOrElse(c.pending, () => fresh)
              return [d, { current: Option.some(d), pending: Option.none() }]
            }
          )
          // Wake-ups offered before this point asked for the run that is starting now.
          yield* Queue.takeAll(runner.wake)
          const result = yield* pullAll(runner, lookback, getSource, secrets)
          yield* Ref.update(runner.coalesce, (c) => ({ ...c, current: Option.none() }))
          yield* settle(deferred, result)
          return result
        })

        // The first run of each store starts after a random slice of the interval, so a thousand stores
        // started together do not fire together.
        let delay = Option.some(Math.round(interval * jitter * (yield* Random.next)))
        yield* update(runner, (s) => ({ ...s, state: "idle" }))
        while (true) {
          yield* waitFor(delay)
          const result = yield* runOnce
          const s = yield* SubscriptionRef.get(runner.status)
          if (result.outcome === "succeeded") {
            delay = Option.some(yield* jittered(interval))
          } else if (result.outcome === "parked") {
            delay = Option.none()
          } else {
            // A POS that says when to come back is obeyed, even past the cap.
            const retryAfter = Option.match(result.error, {
              onNone: () => 0,
              onSome: (error) => error.retryAfterMillis ?? 0
            })
            delay = Option.some(Math.max(yield* jittered(backoffMillis(s.consecutiveFailures)), retryAfter))
          }
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

    const pullAll = (
      runner: Runner,
      lookback: number,
      getSource: Effect.Effect<PosSource.PosSourceService, PosSource.PosSourceError>,
      secrets: ReadonlyArray<string>
    ): Effect.Effect<SyncStatus.RunResult> =>
      Effect.gen(function* () {
        const settings = runner.spec.settings
        const startedAt = yield* now
        const startedMillis = DateTime.toEpochMillis(startedAt)
        const run = (yield* SubscriptionRef.get(runner.status)).runs + 1
        let pages = 0
        let documents = 0
        let total = Option.none<number>()
        let firstPos = Number.POSITIVE_INFINITY
        let lastPos = Number.NEGATIVE_INFINITY

        const work = Effect.gen(function* () {
          let backfill = false
          const progressNow = (done: boolean) =>
            Effect.map(now, (at): SyncStatus.Progress => {
              const nowMillis = DateTime.toEpochMillis(at)
              const elapsed = (nowMillis - startedMillis) / 1000
              const docsPerSecond = elapsed > 0 ? documents / elapsed : 0
              const backlog: Option.Option<number> = done
                ? Option.some(0)
                : Option.isSome(total)
                  ? Option.some(Math.max(0, total.value - documents))
                  : documents > 0 && lastPos > firstPos
                    ? // Documents come in POS-modified order: extrapolate the density seen so far up to now.
                      Option.some(Math.round((documents / (lastPos - firstPos)) * Math.max(0, nowMillis - lastPos)))
                    : Option.none()
              return {
                storeId: settings.id,
                run,
                backfill,
                startedAt,
                pages,
                seen: documents,
                total,
                docsPerSecond,
                backlog,
                etaMillis: Option.flatMap(backlog, (b) =>
                  docsPerSecond > 0 ? Option.some((b / docsPerSecond) * 1000) : Option.none()
                ),
                done
              }
            })
          // Progress exists from the first instant of the run, so a failure before the first page still ends it.
          const initialProgress = yield* progressNow(false)
          yield* update(runner, (s) => ({ ...s, state: "running", runs: run, progress: Option.some(initialProgress) }))
          const cursor = yield* store.cursor(settings.id)
          backfill = Option.isNone(cursor)
          const since = DateTime.subtract(startedAt, { days: lookback })
          if (backfill) firstPos = DateTime.toEpochMillis(since)

          const source = yield* getSource
          const ref = { id: settings.id, kind: settings.documentKind }

          const commit = (batch: PosSource.PullBatch) =>
            Effect.gen(function* () {
              // Documents and cursor commit together: a crash after this resumes after this page, never before.
              const summary = yield* store.ingest(ref, batch.documents, Option.some(batch.cursor))
              pages = batch.progress?.pages ?? pages + 1
              documents += batch.documents.length
              if (batch.progress?.total !== undefined) total = Option.some(batch.progress.total)
              for (const document of batch.documents) {
                const pos = DateTime.toEpochMillis(document.order.posModifiedAt)
                if (pos < firstPos) firstPos = pos
                if (pos > lastPos) lastPos = pos
              }
              const progress = yield* progressNow(false)
              yield* update(runner, (s) => ({
                ...s,
                progress: Option.some(progress),
                backlog: progress.backlog,
                documentsIngested: s.documentsIngested + batch.documents.length,
                inserted: s.inserted + summary.inserted,
                unchanged: s.unchanged + summary.unchanged,
                restamps: {
                  "pos-resaved": s.restamps["pos-resaved"] + summary.restamped["pos-resaved"],
                  "content-changed": s.restamps["content-changed"] + summary.restamped["content-changed"],
                  touched: s.restamps.touched + summary.restamped.touched
                },
                ignored: {
                  "wrong-kind": s.ignored["wrong-kind"] + summary.ignored["wrong-kind"],
                  excluded: s.ignored.excluded + summary.ignored.excluded,
                  "older-version": s.ignored["older-version"] + summary.ignored["older-version"],
                  "not-found": s.ignored["not-found"] + summary.ignored["not-found"]
                }
              }))
            })

          // The permit covers fetching one page and committing it, so a long backfill takes turns with the
          // other stores instead of holding a slot for its whole run.
          yield* Effect.scoped(
            Effect.gen(function* () {
              const pull = yield* Stream.toPull(source.pull(cursor, { since }))
              const step = permits.withPermits(1)(
                pull.pipe(
                  Effect.map(Option.some),
                  Effect.catchAll(
                    (end): Effect.Effect<Option.Option<Chunk.Chunk<PosSource.PullBatch>>, PosSource.PosSourceError> =>
                      Option.isNone(end) ? Effect.succeedNone : Effect.fail(end.value)
                  ),
                  Effect.flatMap((next) =>
                    Option.isNone(next)
                      ? Effect.succeed(false)
                      : Effect.as(Effect.forEach(next.value, commit, { discard: true }), true)
                  )
                )
              )
              while (yield* step) {
                // Give observers (progress bars, status readers) and other stores a turn between pages.
                yield* Effect.yieldNow()
              }
            })
          )
          return yield* progressNow(true)
        })

        return yield* work.pipe(
          Effect.matchCauseEffect({
            onFailure: (cause) =>
              Effect.gen(function* () {
                if (Cause.isInterruptedOnly(cause)) return yield* Effect.interrupt
                const failure = classify(cause)
                const at = yield* now
                const message = scrub(failure.message, secrets)
                const error: SyncStatus.LastError =
                  failure.retryAfterMillis === undefined
                    ? { at, kind: failure.kind, message }
                    : { at, kind: failure.kind, message, retryAfterMillis: failure.retryAfterMillis }
                const parked = parkingKinds.has(failure.kind)
                const progress = yield* Effect.map(SubscriptionRef.get(runner.status), (s) => s.progress)
                yield* update(runner, (s) => ({
                  ...s,
                  state: parked ? "parked" : "backing-off",
                  runs: run,
                  lastError: Option.some(error),
                  parkedReason: parked ? Option.some(error.message) : Option.none(),
                  consecutiveFailures: s.consecutiveFailures + 1,
                  progress: Option.map(progress, (p) => ({ ...p, done: true }))
                }))
                if (!parked) {
                  yield* Effect.logWarning(`sync of store ${settings.id} failed (${failure.kind}): ${error.message}`)
                } else {
                  yield* Effect.logError(`store ${settings.id} parked (${failure.kind}): ${error.message}`)
                }
                return {
                  storeId: settings.id,
                  run,
                  outcome: parked ? ("parked" as const) : ("failed" as const),
                  startedAt,
                  finishedAt: at,
                  pages,
                  documents,
                  error: Option.some(error)
                }
              }),
            onSuccess: (progress) =>
              Effect.gen(function* () {
                const at = yield* now
                yield* update(runner, (s) => ({
                  ...s,
                  state: "idle",
                  lastSuccessAt: Option.some(at),
                  parkedReason: Option.none(),
                  consecutiveFailures: 0,
                  backlog: Option.some(0),
                  progress: Option.some(progress)
                }))
                return {
                  storeId: settings.id,
                  run,
                  outcome: "succeeded" as const,
                  startedAt,
                  finishedAt: at,
                  pages,
                  documents,
                  error: Option.none()
                }
              })
          })
        )
      })

    const getRunner = (storeId: string) =>
      Effect.flatMap(Ref.get(runners), (map) => {
        const runner = map.get(storeId)
        return runner === undefined ? Effect.fail(new StoreDirectory.UnknownStore({ storeId })) : Effect.succeed(runner)
      })

    const setStores: SyncEngineService["setStores"] = Effect.fn("SyncEngine.setStores")(function* (
      specs: ReadonlyArray<StoreSpec>
    ) {
      const current = yield* Ref.get(runners)
      const wanted = new Map(specs.map((spec) => [spec.settings.id as string, spec]))
      for (const [storeId, runner] of current) {
        if (!wanted.has(storeId)) {
          yield* FiberMap.remove(fibers, storeId)
          yield* Ref.update(runners, (map) => {
            const next = new Map(map)
            next.delete(storeId)
            return next
          })
          yield* Deferred.await(runner.stopped)
          yield* Effect.logInfo(`store ${storeId} removed: sync stopped`)
        }
      }
      for (const [storeId, spec] of wanted) {
        const interval = spec.intervalMillis ?? defaultInterval
        const lookback = spec.lookbackDays ?? defaultLookback
        const existing = Option.fromNullable(current.get(storeId))
        if (Option.isSome(existing) && existing.value.fingerprint === fingerprint(spec, interval, lookback)) continue
        if (Option.isSome(existing)) {
          yield* FiberMap.remove(fibers, storeId)
          yield* Deferred.await(existing.value.stopped)
        }
        yield* startRunner(spec, interval, lookback, existing)
        yield* Effect.logInfo(
          `store ${storeId} ${Option.isSome(existing) ? "changed: sync restarted" : "added: sync started"}`
        )
      }
    }, setLock.withPermits(1))

    const syncNow: SyncEngineService["syncNow"] = Effect.fn("SyncEngine.syncNow")(function* (storeId: string) {
      const runner = yield* getRunner(storeId)
      const fresh = yield* Deferred.make<SyncStatus.RunResult>()
      const target = yield* Ref.modify(runner.coalesce, (c): [Deferred.Deferred<SyncStatus.RunResult>, Coalesce] =>
        Option.isSome(c.current)
          ? [c.current.value, c]
          : Option.isSome(c.pending)
            ? [c.pending.value, c]
            : [fresh, { ...c, pending: Option.some(fresh) }]
      )
      if (target === fresh) yield* Queue.offer(runner.wake, undefined)
      return yield* Deferred.await(target)
    })

    const status: SyncEngineService["status"] = (storeId) =>
      Effect.flatMap(getRunner(storeId), (runner) => SubscriptionRef.get(runner.status))

    const statuses: SyncEngineService["statuses"] = Effect.flatMap(Ref.get(runners), (map) =>
      Effect.forEach([...map.values()], (runner) => SubscriptionRef.get(runner.status))
    )

    const progress: SyncEngineService["progress"] = (storeId) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const runner = yield* getRunner(storeId)
          const s = yield* SubscriptionRef.get(runner.status)
          const firstRun = s.state === "running" ? s.runs : s.runs + 1
          return runner.status.changes.pipe(
            Stream.filterMap((status) => Option.filter(status.progress, (p) => p.run >= firstRun)),
            Stream.changes,
            Stream.takeUntil((p) => p.done),
            Stream.interruptWhen(Deferred.await(runner.stopped))
          )
        })
      )

    return { setStores, syncNow, status, statuses, progress }
  })

export const layer = (options: Options = {}): Layer.Layer<SyncEngine, never, OrderStore.OrderStore> =>
  Layer.scoped(SyncEngine, make(options))
