/** What the engine is given: each store's spec and the engine's options, with their defaults. */
import type { PosSource, StoreSettings } from "@posbridge/core"
import { DateTime, Layer, Redacted } from "effect"

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
  /**
   * Run only the stores this process holds (`SyncEngineService.hold`: the owner of the store's cluster shard).
   * Default false: every configured store runs (one process, tests, the CLI).
   */
  readonly onlyHeld?: boolean | undefined
}

/** `Options` with every default applied. */
export interface Tuning {
  readonly maxConcurrentPulls: number
  readonly defaultInterval: number
  readonly defaultLookback: number
  readonly jitter: number
  readonly backoffInitial: number
  readonly backoffMax: number
}

export const tuning = (options: Options): Tuning => ({
  maxConcurrentPulls: Math.max(1, options.maxConcurrentPulls ?? 8),
  defaultInterval: options.defaultIntervalMillis ?? 60_000,
  defaultLookback: options.defaultLookbackDays ?? 30,
  jitter: Math.min(1, Math.max(0, options.jitter ?? 0.1)),
  backoffInitial: options.backoffInitialMillis ?? 1_000,
  backoffMax: options.backoffMaxMillis ?? 15 * 60_000
})

/** A comparable rendering of a spec; Redacted values are revealed so a changed password counts as a change. */
export const fingerprint = (spec: StoreSpec, interval: number, lookback: number): string => {
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

export const isService = (source: StoreSpec["source"]): source is PosSource.PosSourceService => !Layer.isLayer(source)
