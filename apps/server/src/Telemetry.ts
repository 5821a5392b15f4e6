/**
 * Metrics and traces on the ecosystem's standards.
 *
 * Metrics: the Effect `Metric`s of `@posbridge/core`'s `Metrics`, served in Prometheus format, as the
 * OpenTelemetry Prometheus exporter writes them, on a listener of their own (`metrics.address`, loopback by
 * default, optional bearer token): they name every store, so they are not on the port ShipStation reaches. A
 * scrape only serializes what is in memory: the per-store families written straight from Effect's registry, the
 * few others by the exporter's serializer (`internal/prometheusText.ts`). The per-store gauges are set from the order
 * store by the runner that owns each store (after each sync, and every `metrics.refreshSeconds` for all of them in
 * one fixed set of statements); this runner reports them for the stores it owns only, and adds its `runner` label
 * to every series.
 *
 * Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, every span (a poll's page: route → store → render; a sync run:
 * adapter requests → ingest; a ship notice; a write-back) is exported over OTLP/HTTP. Otherwise the tracer is off:
 * spans are not even recorded, and the OpenTelemetry SDK is not loaded.
 */
import { timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import * as Resource from "@effect/opentelemetry/Resource"
import type { MetricProducer } from "@opentelemetry/sdk-metrics"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Metrics, OrderStore } from "@posbridge/core"
import { type Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import type * as Config from "./Config.js"
import * as prometheusText from "./internal/prometheusText.js"

export const serviceName = "posbridge"

// ---- metrics

/**
 * Effect's metrics as OpenTelemetry data, the per-store gauges of stores this runner does not own (any more) left
 * out: the owner reports them. (The `runner` label is the resource's, added to every series by the exporter.) The
 * scrape itself (`serveMetrics`) writes the same text without this round trip; this is what it is checked against.
 */
export const ownedOnly = (inner: MetricProducer, owned: () => ReadonlySet<string>): MetricProducer => ({
  collect: async (options) => {
    const result = await inner.collect(options)
    const mine = owned()
    for (const scope of result.resourceMetrics.scopeMetrics) {
      scope.metrics = prometheusText.keepOwned(scope.metrics, mine, Metrics.storeGaugeNames)
    }
    return result
  }
})

/** The resource attributes every series carries as labels: the runner's name. */
export const constantLabels = /^runner$/

/** Compares a presented bearer token with the configured one in constant time. */
const bearerMatches = (header: string | undefined, token: Redacted.Redacted<string>) => {
  const presented = Buffer.from(/^Bearer (.+)$/i.exec(header ?? "")?.[1] ?? "")
  const expected = Buffer.from(Redacted.value(token))
  return presented.length === expected.length && timingSafeEqual(presented, expected)
}

export interface MetricsListener {
  /** `http://host:port`, or None when metrics are off or the address could not be bound. */
  readonly url: Option.Option<string>
}

/**
 * Serves `GET /metrics` on `config.listen` until the scope closes. An address already in use is logged and the
 * server goes on without metrics: ShipStation's endpoint matters more than the monitoring of it.
 */
export const serveMetrics = (config: Config.MetricsConfig, runner: string, owned: () => ReadonlySet<string>) =>
  Effect.gen(function* () {
    if (Option.isNone(config.listen)) {
      yield* Effect.logInfo('metrics are off (metrics.address is "off")')
      return { url: Option.none() } satisfies MetricsListener
    }
    const { host, port } = config.listen.value
    const { PrometheusSerializer } = yield* Effect.promise(() => import("@opentelemetry/exporter-prometheus"))
    // The resource's `runner` attribute becomes a label of every series.
    const text = prometheusText.make({
      resource: yield* Resource.Resource,
      constantLabels,
      storeGauges: Metrics.storeGaugeFamilies,
      storeGaugeTable: Metrics.storeGauges,
      Serializer: PrometheusSerializer
    })
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      if ((request.url ?? "").split("?")[0] !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Metrics are at GET /metrics.\n")
        return
      }
      if (config.token !== undefined && !bearerMatches(request.headers.authorization, config.token)) {
        response
          .writeHead(401, {
            "content-type": "text/plain; charset=utf-8",
            "www-authenticate": 'Bearer realm="posbridge metrics"'
          })
          .end("The metrics need the bearer token of metrics.token.\n")
        return
      }
      // As the OpenTelemetry exporter answered: 200, and a failure said in a comment.
      let body: string
      try {
        body = text.render(owned())
      } catch (e) {
        body = `# failed to export metrics: ${e}`
      }
      response.writeHead(200, { "content-type": "text/plain" }).end(body)
    }
    const server = yield* Effect.acquireRelease(
      Effect.async<Option.Option<Server>>((resume) => {
        const s = createServer(handler)
        s.once("error", (e) =>
          resume(Effect.as(Effect.logError(`metrics are not served: ${host}:${port}: ${e.message}`), Option.none()))
        )
        s.listen(port, host, () => {
          resume(Effect.succeed(Option.some(s)))
        })
      }),
      (s) =>
        Option.isSome(s)
          ? Effect.async<void>((resume) => {
              s.value.close(() => resume(Effect.void))
            })
          : Effect.void
    )
    if (Option.isNone(server)) return { url: Option.none() } satisfies MetricsListener
    const address = server.value.address()
    const bound = typeof address === "object" && address !== null ? address.port : port
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${bound}`
    yield* Effect.logInfo(`metrics at ${url}/metrics${config.token === undefined ? "" : " (bearer token required)"}`)
    return { url: Option.some(url) } satisfies MetricsListener
  }).pipe(Effect.provide(Resource.layer({ serviceName, attributes: { runner } })))

/**
 * Sets the per-store gauges of the stores this runner owns, every `interval`, with one fixed set of statements
 * (`statsAll`): what ShipStation's polls change (waiting versions, last poll) between two syncs of a store.
 */
export const refreshStoreGauges = (interval: Duration.Duration, ownedStores: Effect.Effect<ReadonlyArray<string>>) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const ids = yield* ownedStores
    const stats = yield* store.statsAll(ids)
    for (const [id, st] of stats) yield* Metrics.setStoreGauges(id, st)
  }).pipe(
    Effect.catchAll((e) => Effect.logWarning("refreshing the store gauges failed", e)),
    Effect.repeat(Schedule.spaced(interval))
  )

// ---- traces

export interface TracingEnvironment {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined
  readonly OTEL_SERVICE_NAME?: string | undefined
  readonly [key: string]: string | undefined
}

/** Whether the environment asks for traces (the standard OpenTelemetry variables). */
export const tracingRequested = (env: TracingEnvironment) =>
  Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)

/**
 * The tracer the server runs with: spans sent to `processor` (tests: an in-memory exporter), else over OTLP/HTTP to
 * the collector the standard variables name (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`…, read by
 * the exporter itself), else no tracing at all.
 */
export const tracingLayer = (env: TracingEnvironment, processor?: SpanProcessor): Layer.Layer<never> => {
  if (processor === undefined && !tracingRequested(env)) return Layer.setTracerEnabled(false)
  return Layer.unwrapEffect(
    Effect.gen(function* () {
      const NodeSdk = yield* Effect.promise(() => import("@effect/opentelemetry/NodeSdk"))
      const spanProcessor =
        processor ??
        (yield* Effect.promise(async () => {
          const { BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base")
          const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http")
          return new BatchSpanProcessor(new OTLPTraceExporter())
        }))
      if (processor === undefined) {
        yield* Effect.logInfo(
          `traces are exported over OTLP to ${env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT}`
        )
      }
      return NodeSdk.layer(() => ({
        resource: { serviceName: env.OTEL_SERVICE_NAME || serviceName },
        spanProcessor
      }))
    })
  )
}
