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

/** The exporter over the producer, on a listener of its own (no token): its URL, `/metrics` on any path. */
export const exporterListener = (runner: string, owned: () => ReadonlySet<string>) =>
  Effect.gen(function* () {
    const exporter = new PrometheusExporter({
      preventServerStart: true,
      withoutScopeInfo: true,
      withResourceConstantLabels: Telemetry.constantLabels
    })
    const producer = yield* OtelMetrics.makeProducer
    yield* OtelMetrics.registerProducer(Telemetry.ownedOnly(producer, owned), () => exporter)
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
