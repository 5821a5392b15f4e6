/**
 * posbridge's metrics, defined once with Effect's `Metric` and updated where the work happens (the ShipStation
 * routes, the sync engine, the outbox worker, the POS clients). The server exports them in Prometheus format
 * through `@effect/opentelemetry` on its own listener (see the server's `Telemetry`).
 *
 * Labels: counters name their store (an operator asks "which store?"); histograms never do, so their series do
 * not multiply by the number of stores. The server adds a `runner` label to every series it serves (its
 * OpenTelemetry resource's attribute, written by the scrape). The per-store gauges are set from the order store by the runner that owns the store only, into a table of
 * their own (`storeGauges`), not Effect's registry.
 *
 * Pure definitions: updating a metric is an in-memory effect, no I/O.
 */
import { DateTime, Effect, Metric, MetricBoundaries, MetricLabel, Option } from "effect"
import type * as OrderStore from "./OrderStore.js"

// ---- ShipStation's side

/** Export requests for page 1 (one per poll), by store and outcome (`served`, `refused`, `invalid`, `failed`). */
export const polls = Metric.counter("posbridge_polls", {
  description: "ShipStation polls (export requests for page 1) by store and outcome.",
  incremental: true
})

export type PollOutcome = "served" | "refused" | "invalid" | "failed"

/** Seconds to answer one export page, `page` = `first` (page 1, freezes the poll's snapshot) or `later`. */
export const exportPageSeconds = Metric.histogram(
  "posbridge_export_page_seconds",
  MetricBoundaries.fromIterable([0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "Seconds to answer one ShipStation export page (page=first: page 1; page=later: the pages after it)."
)

/** Ship notices ShipStation posted, by store and what became of them. */
export const shipNotices = Metric.counter("posbridge_ship_notices", {
  description: "Ship notices received from ShipStation, by store and result.",
  incremental: true
})

/**
 * Seconds from an order's POS save (its POS modified time) to the ShipStation poll that first carries that
 * version: what a merchant waits for. No store label; the latest value per store is `saveToPollLatest`.
 */
export const saveToPollSeconds = Metric.histogram(
  "posbridge_save_to_poll_seconds",
  MetricBoundaries.fromIterable([5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600]),
  "Seconds from an order's POS save to the ShipStation poll that first carried it."
)

/** The latest save-to-poll time of a store, as seen by the replica that served the poll. */
export const saveToPollLatest = Metric.gauge("posbridge_save_to_poll_latest_seconds", {
  description: "The latest time from a POS save to the ShipStation poll that carried it, per store (seconds)."
})

// ---- the POS side

export const documentsIngested = Metric.counter("posbridge_documents_ingested", {
  description: "POS documents received by sync and passed through the refresh rule, by store.",
  incremental: true
})

/** Sync runs by store and outcome (`succeeded`, `failed`, `parked`, `stopped`). */
export const syncRuns = Metric.counter("posbridge_sync_runs", {
  description: "POS sync runs by store and outcome.",
  incremental: true
})

export const syncSeconds = Metric.histogram(
  "posbridge_sync_duration_seconds",
  MetricBoundaries.fromIterable([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]),
  "Seconds one POS sync run took, by outcome."
)

/** Requests to a POS by store, adapter and HTTP status (`429` visible on its own; `error` when none came). */
export const posRequests = Metric.counter("posbridge_pos_requests", {
  description: "HTTP requests to POS APIs by store, adapter and status (error: no answer).",
  incremental: true
})

/** Write-back attempts by store and outcome (`delivered`, `retrying`, `dead`). */
export const writeBacks = Metric.counter("posbridge_write_backs", {
  description: "Ship-notice write-back attempts to the POS by store and outcome.",
  incremental: true
})

// ---- per-store state, from the order store (set by the owning runner only)

/**
 * The per-store gauges. They are not series of Effect's registry: each store's latest stats are one entry of a
 * table (`storeGauges`), and the server's scrape writes these five families from it, for the stores its runner
 * owns. In the registry a store held 11 gauge series (hashed keys and hooks kept for the life of the process),
 * and at 1,000 stores they were most of the 16,000 series a scrape had to snapshot.
 */
export interface StoreGaugeFamily {
  readonly name: string
  readonly description: string
  /** The family's samples for one store: labels besides `store` (in order), and the value. */
  readonly samples: (
    stats: OrderStore.OrderStats
  ) => ReadonlyArray<readonly [labels: ReadonlyArray<readonly [string, string]>, value: number]>
}

const noLabels: ReadonlyArray<readonly [string, string]> = []

export const storeGaugeFamilies: ReadonlyArray<StoreGaugeFamily> = [
  {
    name: "posbridge_documents",
    description: "POS documents held for ShipStation.",
    samples: (s) => [[noLabels, s.documents]]
  },
  {
    name: "posbridge_waiting_for_poll",
    description: "Document versions no ShipStation poll has covered yet.",
    samples: (s) => [[noLabels, s.waitingForPoll]]
  },
  {
    name: "posbridge_held_orders",
    description: "Orders held back from export by a field that cannot be repaired.",
    samples: (s) => [[noLabels, s.held]]
  },
  {
    name: "posbridge_outbox_items",
    description: "Ship-notice write-backs by state.",
    samples: (s) => Object.entries(s.outbox).map(([state, n]) => [[["state", state]], n] as const)
  },
  {
    name: "posbridge_last_poll_timestamp_seconds",
    description: "When ShipStation last asked this store for orders (Unix seconds).",
    samples: (s) =>
      Option.match(s.lastPoll, {
        onNone: () => [],
        onSome: (poll) => [[noLabels, DateTime.toEpochMillis(poll.at) / 1000]]
      })
  }
]

/** The names of the per-store gauges: only the runner owning a store reports them (see the server's Telemetry). */
export const storeGaugeNames: ReadonlySet<string> = new Set(storeGaugeFamilies.map((f) => f.name))

const latest = new Map<string, OrderStore.OrderStats>()

/** Each store's stats as last set (by `setStoreGauges`), by store id: what the per-store gauges report. */
export const storeGauges = (): ReadonlyMap<string, OrderStore.OrderStats> => latest

/** Sets the per-store gauges of `storeId` from its stats. */
export const setStoreGauges = (storeId: string, stats: OrderStore.OrderStats): Effect.Effect<void> =>
  Effect.sync(() => {
    latest.set(storeId, stats)
  })

/** Adds one to `counter` with `tags`. */
export const increment = (
  counter: Metric.Metric.Counter<number>,
  tags: Readonly<Record<string, string>>,
  by = 1
): Effect.Effect<void> => Metric.incrementBy(Metric.taggedWithLabels(counter, labels(tags)), by)

const labels = (tags: Readonly<Record<string, string>>) => Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v))
