/**
 * One run of one store: pull its PosSource from the committed cursor page by page, commit each page with its
 * cursor, keep the store's status and progress current, and end with the run's result. A failure is
 * classified here (retry or park); the per-store loop decides when to run again.
 */
import { Metrics, type OrderStore, type PosSource, type StoreSettings } from "@posbridge/core"
import { Cause, type Chunk, DateTime, Effect, Metric, Option, Stream, SubscriptionRef } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
import * as Failure from "./failure.js"
import type * as Permits from "./permits.js"
import * as Progress from "./progress.js"
import { now } from "./schedule.js"

export interface Run {
  readonly store: OrderStore.OrderStoreService
  readonly settings: StoreSettings.StoreSettings
  readonly status: SubscriptionRef.SubscriptionRef<SyncStatus.StoreStatus>
  readonly lookback: number
  readonly getSource: Effect.Effect<PosSource.PosSourceService, PosSource.PosSourceError>
  readonly secrets: ReadonlyArray<string>
  /** The global pull limit: one permit covers fetching one page and committing it. */
  readonly permits: Permits.Permits
}

export const pullAll = (r: Run): Effect.Effect<SyncStatus.RunResult> =>
  Effect.gen(function* () {
    const { settings, store } = r
    const startedAt = yield* now
    const run = (yield* SubscriptionRef.get(r.status)).runs + 1
    const tally = Progress.makeTally()
    const progressNow = (done: boolean) =>
      Effect.map(now, (at) => Progress.progress(tally, { storeId: settings.id, run, startedAt }, at, done))
    const update = (f: (s: SyncStatus.StoreStatus) => SyncStatus.StoreStatus) => SubscriptionRef.update(r.status, f)

    const work = Effect.gen(function* () {
      // Progress exists from the first instant of the run, so a failure before the first page still ends it.
      const initialProgress = yield* progressNow(false)
      yield* update((s) => ({ ...s, state: "running", runs: run, progress: Option.some(initialProgress) }))
      const cursor = yield* store.cursor(settings.id)
      tally.backfill = Option.isNone(cursor)
      const since = DateTime.subtract(startedAt, { days: r.lookback })
      if (tally.backfill) tally.firstPos = DateTime.toEpochMillis(since)

      const source = yield* r.getSource
      const ref = { id: settings.id, kind: settings.documentKind }

      const commit = (batch: PosSource.PullBatch) =>
        Effect.gen(function* () {
          // Documents and cursor commit together: a crash after this resumes after this page, never before.
          const summary = yield* store.ingest(ref, batch.documents, Option.some(batch.cursor))
          yield* Metrics.increment(Metrics.documentsIngested, { store: settings.id }, batch.documents.length)
          Progress.addBatch(tally, batch)
          const progress = yield* progressNow(false)
          yield* update((s) => ({
            ...Progress.addCounts(s, batch.documents.length, summary),
            progress: Option.some(progress),
            backlog: progress.backlog
          }))
        })

      // The permit covers fetching one page and committing it, so a long backfill takes turns with the
      // other stores instead of holding a slot for its whole run.
      yield* Effect.scoped(
        Effect.gen(function* () {
          const pull = yield* Stream.toPull(source.pull(cursor, { since }))
          const step = r.permits.withPermit(
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

    const result = (
      at: DateTime.Utc,
      outcome: SyncStatus.RunResult["outcome"],
      error: Option.Option<SyncStatus.LastError>
    ) => ({
      storeId: settings.id,
      run,
      outcome,
      startedAt,
      finishedAt: at,
      pages: tally.pages,
      documents: tally.documents,
      error
    })

    return yield* work.pipe(
      Effect.withSpan("SyncEngine.run", {
        attributes: { "posbridge.store": settings.id, "posbridge.adapter": settings.adapter, "posbridge.run": run }
      }),
      Effect.matchCauseEffect({
        onFailure: (cause) =>
          Effect.gen(function* () {
            if (Cause.isInterruptedOnly(cause)) return yield* Effect.interrupt
            const failure = Failure.classify(cause)
            const at = yield* now
            const message = Failure.scrub(failure.message, r.secrets)
            const error: SyncStatus.LastError =
              failure.retryAfterMillis === undefined
                ? { at, kind: failure.kind, message }
                : { at, kind: failure.kind, message, retryAfterMillis: failure.retryAfterMillis }
            const parked = Failure.parks(failure.kind)
            const progress = yield* Effect.map(SubscriptionRef.get(r.status), (s) => s.progress)
            yield* update((s) => ({
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
            return result(at, parked ? "parked" : "failed", Option.some(error))
          }),
        onSuccess: (progress) =>
          Effect.gen(function* () {
            const at = yield* now
            yield* update((s) => ({
              ...s,
              state: "idle",
              lastSuccessAt: Option.some(at),
              parkedReason: Option.none(),
              consecutiveFailures: 0,
              backlog: Option.some(0),
              progress: Option.some(progress)
            }))
            return result(at, "succeeded", Option.none())
          })
      }),
      Effect.tap((r) =>
        Effect.zipRight(
          Metrics.increment(Metrics.syncRuns, { store: settings.id, outcome: r.outcome }),
          Metric.update(
            Metric.tagged(Metrics.syncSeconds, "outcome", r.outcome),
            (DateTime.toEpochMillis(r.finishedAt) - DateTime.toEpochMillis(r.startedAt)) / 1000
          )
        )
      )
    )
  })
