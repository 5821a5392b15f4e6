/**
 * What the engine shows about each store: the status record behind `stores list` and the status page, the
 * progress of a run (the CLI progress bar) and the result of a run. Schemas, so the server can encode them
 * to JSON without knowing their shape.
 */
import { Schema } from "effect"

export const State = Schema.Literal("starting", "running", "idle", "backing-off", "parked")
export type State = typeof State.Type

const Count = Schema.NonNegativeInt

export const Restamps = Schema.Struct({ "pos-resaved": Count, "content-changed": Count, touched: Count })
export const Ignored = Schema.Struct({
  "wrong-kind": Count,
  excluded: Count,
  "older-version": Count,
  "not-found": Count
})

export const Progress = Schema.Struct({
  storeId: Schema.String,
  /** 1-based number of the run this progress belongs to. */
  run: Count,
  /** True when the store had no cursor: the run reads the whole look-back. */
  backfill: Schema.Boolean,
  startedAt: Schema.DateTimeUtc,
  pages: Count,
  seen: Count,
  /** When the adapter reports it. */
  total: Schema.OptionFromNullOr(Count),
  docsPerSecond: Schema.NonNegative,
  /** Documents still to read: the adapter's total when known, else extrapolated from POS modified times. */
  backlog: Schema.OptionFromNullOr(Count),
  etaMillis: Schema.OptionFromNullOr(Schema.NonNegative),
  done: Schema.Boolean
})
export type Progress = typeof Progress.Type

export const ErrorKind = Schema.Literal(
  "auth",
  "rate-limited",
  "transient",
  "malformed",
  "config",
  "permanent",
  "store",
  "defect"
)
export type ErrorKind = typeof ErrorKind.Type

export const LastError = Schema.Struct({
  at: Schema.DateTimeUtc,
  kind: ErrorKind,
  /** Scrubbed of the store's secrets. */
  message: Schema.String,
  /** When the POS said when to come back (rate limits). */
  retryAfterMillis: Schema.optionalWith(Schema.NonNegative, { exact: true })
})
export type LastError = typeof LastError.Type

/** The first run that succeeded since this process started the store, and how many documents the store then held. */
export const FirstSync = Schema.Struct({
  at: Schema.DateTimeUtc,
  /** Seconds from the store's start to the end of that run. */
  seconds: Schema.NonNegative,
  documents: Count
})
export type FirstSync = typeof FirstSync.Type

export const StoreStatus = Schema.Struct({
  storeId: Schema.String,
  adapter: Schema.String,
  state: State,
  intervalMillis: Count,
  lastSuccessAt: Schema.OptionFromNullOr(Schema.DateTimeUtc),
  firstSync: Schema.OptionFromNullOr(FirstSync),
  lastError: Schema.OptionFromNullOr(LastError),
  /** Why the store is parked (credentials rejected, settings wrong); cleared when its settings change. */
  parkedReason: Schema.OptionFromNullOr(Schema.String),
  nextRunAt: Schema.OptionFromNullOr(Schema.DateTimeUtc),
  consecutiveFailures: Count,
  backlog: Schema.OptionFromNullOr(Count),
  runs: Count,
  /** Documents received from the POS and passed through RefreshRule, over the engine's lifetime. */
  documentsIngested: Count,
  inserted: Count,
  unchanged: Count,
  restamps: Restamps,
  ignored: Ignored,
  /** The current run's progress, or the last run's. */
  progress: Schema.OptionFromNullOr(Progress)
})
export type StoreStatus = typeof StoreStatus.Type

export const RunResult = Schema.Struct({
  storeId: Schema.String,
  run: Count,
  outcome: Schema.Literal("succeeded", "failed", "parked", "stopped"),
  startedAt: Schema.DateTimeUtc,
  finishedAt: Schema.DateTimeUtc,
  pages: Count,
  documents: Count,
  error: Schema.OptionFromNullOr(LastError)
})
export type RunResult = typeof RunResult.Type

export const encodeStatus = Schema.encodeSync(StoreStatus)
export const encodeProgress = Schema.encodeSync(Progress)
export const encodeRunResult = Schema.encodeSync(RunResult)
