/**
 * `/metrics` as it was answered before it was written straight from the registry: the OpenTelemetry
 * `PrometheusExporter` over `Telemetry.ownedOnly(@effect/opentelemetry's producer)`, behind a listener. The oracle
 * of `MetricsText.test.ts` and the baseline of `bench/metrics.ts`; and what the server records for a store.
 */
import { createServer, type Server } from "node:http"
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus"
import { Metrics, type OrderStore } from "@posbridge/core"
import { DateTime, Effect, Metric, Option } from "effect"
import * as Telemetry from "../../src/Telemetry.js"

/** Listens on a free loopback port until the scope closes: `http://127.0.0.1:port`. */
export const listen = (server: Server) =>
  Effect.acquireRelease(
    Effect.async<string>((resume) => {
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed(`http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`))
      })
    }),
    () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

/**
 * The per-store gauges as Effect gauges tagged `store`, as the server recorded them before they had a table of
 * their own (`Metrics.storeGauges`): the oracle copies the table into them before each collect.
 */
const gauges = {
  documents: Metric.gauge("posbridge_documents", { description: "POS documents held for ShipStation." }),
  waitingForPoll: Metric.gauge("posbridge_waiting_for_poll", {
    description: "Document versions no ShipStation poll has covered yet."
  }),
  heldOrders: Metric.gauge("posbridge_held_orders", {
    description: "Orders held back from export by a field that cannot be repaired."
  }),
  outboxItems: Metric.gauge("posbridge_outbox_items", { description: "Ship-notice write-backs by state." }),
  lastPollTimestamp: Metric.gauge("posbridge_last_poll_timestamp_seconds", {
    description: "When ShipStation last asked this store for orders (Unix seconds)."
  })
}

/**
 * The old `Metrics.setStoreGauges`: a store's stats written into Effect's registry, here without running a fiber
 * (one would move Effect's own fiber metrics between the oracle's collect and the scrape it is compared with).
 */
const registryGauges = (storeId: string, stats: OrderStore.OrderStats) => {
  const set = (gauge: Metric.Metric.Gauge<number>, value: number) =>
    Metric.tagged(gauge, "store", storeId).unsafeUpdate(value, [])
  set(gauges.documents, stats.documents)
  set(gauges.waitingForPoll, stats.waitingForPoll)
  set(gauges.heldOrders, stats.held)
  for (const [state, n] of Object.entries(stats.outbox)) {
    Metric.tagged(Metric.tagged(gauges.outboxItems, "store", storeId), "state", state).unsafeUpdate(n, [])
  }
  if (Option.isSome(stats.lastPoll)) {
    set(gauges.lastPollTimestamp, DateTime.toEpochMillis(stats.lastPoll.value.at) / 1000)
  }
}

/**
 * The exporter over the producer, on a listener of its own (no token): its URL, `/metrics` on any path. Each
 * collect first writes the store gauges' table into Effect's registry, as the server used to keep them.
 */
export const exporterListener = (runner: string, owned: () => ReadonlySet<string>) =>
  Effect.gen(function* () {
    const exporter = new PrometheusExporter({
      preventServerStart: true,
      withoutScopeInfo: true,
      withResourceConstantLabels: Telemetry.constantLabels
    })
    const producer = yield* OtelMetrics.makeProducer
    const withGauges: typeof producer = {
      collect: (options) => {
        for (const [id, stats] of Metrics.storeGauges()) registryGauges(id, stats)
        return producer.collect(options)
      }
    }
    yield* OtelMetrics.registerProducer(Telemetry.ownedOnly(withGauges, owned), () => exporter)
    return yield* listen(createServer((request, response) => exporter.getMetricsRequestHandler(request, response)))
  }).pipe(Effect.provide(Resource.layer({ serviceName: Telemetry.serviceName, attributes: { runner } })))

/** Stats of a store, all its write-back states and its last poll set; `n` varies the values. */
export const storeStats = (n: number): OrderStore.OrderStats => ({
  documents: 100 + n,
  waitingForPoll: n % 7,
  held: n % 3,
  watermark: Option.none(),
  lastPoll: Option.some({ at: DateTime.unsafeMake(1_780_000_000_000 + n * 1000) }) as OrderStore.OrderStats["lastPoll"],
  outbox: { pending: n % 5, "in-flight": 1, done: 2 * n, dead: n % 2, attention: 3 }
})

/**
 * What the server records for a store once it has synced, been polled and written a ship notice back: the
 * per-store gauges (as after a sync), the latest save-to-poll time, and its counters.
 */
export const recordStore = (store: string, n: number, adapter = "heartland") =>
  Effect.gen(function* () {
    yield* Metrics.setStoreGauges(store, storeStats(n))
    yield* Metric.set(Metric.tagged(Metrics.saveToPollLatest, "store", store), 12.5 + n)
    yield* Metrics.increment(Metrics.polls, { store, outcome: "served" }, n + 1)
    yield* Metrics.increment(Metrics.syncRuns, { store, outcome: "succeeded" }, 2)
    yield* Metrics.increment(Metrics.documentsIngested, { store }, 10 * n)
    yield* Metrics.increment(Metrics.posRequests, { store, adapter, status: "200" }, 7)
    yield* Metrics.increment(Metrics.writeBacks, { store, outcome: "delivered" })
    yield* Metrics.increment(Metrics.shipNotices, { store, result: "accepted" })
  })
