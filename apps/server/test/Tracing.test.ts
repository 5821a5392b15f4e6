/**
 * Issue 17, acceptance 4: with an in-memory span exporter in place of OTLP, the server (as `Server.start` builds
 * it, on the demo's in-process simulators) gives one trace per export page request with the route, store and
 * render spans, and the pages of one poll share a snapshot attribute; a sync run traces its adapter requests and
 * its ingest; a ship notice and its write-back are traced. Without an endpoint the tracer is off.
 */
import * as fs from "node:fs"
import { createServer } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeContext, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { ShipStationClient } from "@posbridge/pos-testkit"
import { Context, Effect, Layer, Logger, LogLevel, Option, Tracer } from "effect"
import * as ConfigSource from "../src/ConfigSource.js"
import * as Demo from "../src/Demo.js"
import * as Server from "../src/Server.js"
import * as Telemetry from "../src/Telemetry.js"
import { exportOrders, shipNotify } from "./ConsoleBrowser.js"

/**
 * The SDK's in-memory exporter, kept readable after the server stops: the tracer provider flushes and shuts its
 * exporter down when the server's scope closes, and the SDK's own `shutdown` forgets every span.
 */
class KeptSpans extends InMemorySpanExporter {
  override shutdown() {
    return Promise.resolve()
  }
}

const credentials = { username: Demo.credentials.username, password: Demo.credentials.password }
const everything = { start: Date.UTC(2020, 0, 1), end: Date.UTC(2099, 0, 1) }

/** The demo server with small pages (several per poll), on a free port, its spans going to `exporter`. */
const traced = <A, E>(exporter: KeptSpans, body: (url: string) => Effect.Effect<A, E>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-traces-"))
  return Effect.gen(function* () {
    const demo = yield* Demo.make
    const base = ConfigSource.demoConfig(demo.stores.map((s) => ({ ...s, pageSize: 10 })))
    const config = {
      ...base,
      database: { engine: "sqlite" as const, file: path.join(dir, "demo.sqlite") },
      metrics: { ...base.metrics, listen: Option.none() }
    }
    return yield* Effect.gen(function* () {
      const { routes } = yield* Server.start({ config, builtIns: ConfigSource.builtIns, services: demo.services })
      const server = yield* Layer.build(
        HttpServer.serve(routes).pipe(
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
        )
      )
      const address = Context.get(server, HttpServer.HttpServer).address
      const url = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
      return yield* body(url)
    }).pipe(Effect.provide(Server.runtimeLayer(config)))
  }).pipe(
    Effect.scoped,
    Effect.provide(Telemetry.tracingLayer({}, new SimpleSpanProcessor(exporter))),
    Effect.provide(NodeContext.layer),
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  )
}

const byTrace = (spans: ReadonlyArray<ReadableSpan>) => {
  const traces = new Map<string, Array<ReadableSpan>>()
  for (const s of spans) {
    const id = s.spanContext().traceId
    traces.set(id, [...(traces.get(id) ?? []), s])
  }
  return [...traces.values()]
}
const names = (trace: ReadonlyArray<ReadableSpan>) => trace.map((s) => s.name)
const parentOf = (trace: ReadonlyArray<ReadableSpan>, span: ReadableSpan) =>
  trace.find((s) => s.spanContext().spanId === span.parentSpanContext?.spanId)

describe("traces, with an in-memory span exporter in place of OTLP", () => {
  it.live(
    "one trace per export page (route → store → render), the pages of a poll sharing their snapshot; sync runs, ship notices and write-backs traced",
    () =>
      Effect.gen(function* () {
        const exporter = new KeptSpans()
        let pollsFrom = 0
        const polls = yield* traced(exporter, (url) =>
          Effect.gen(function* () {
            // The demo's first syncs, then two polls of the Lightspeed store (60 sales: several pages of 10).
            yield* Effect.promise(async () => {
              for (let i = 0; i < 200; i++) {
                const [ls, hl] = await Promise.all([
                  exportOrders(url, "lightspeed-demo"),
                  exportOrders(url, "heartland-demo")
                ])
                if (ls.ids.length >= 10 && hl.ids.length > 0) return
                await new Promise((r) => setTimeout(r, 100))
              }
            })
            // Only the spans ended from here on are the two polls' (and whatever runs beside them).
            pollsFrom = exporter.getFinishedSpans().length
            const first = yield* ShipStationClient.poll(url, "lightspeed-demo", credentials, everything)
            const second = yield* ShipStationClient.poll(url, "lightspeed-demo", credentials, everything)
            // A ship notice for a Heartland order, written back to the simulated POS by the outbox.
            const number = (yield* Effect.promise(() => exportOrders(url, "heartland-demo"))).numbers[0] ?? ""
            yield* Effect.promise(() =>
              shipNotify(
                url,
                "heartland-demo",
                `<OrderNumber>${number}</OrderNumber><Carrier>UPS</Carrier><Service>Ground</Service><TrackingNumber>1ZTRACE</TrackingNumber><ShipDate>11/27/2026</ShipDate>`
              )
            )
            yield* Effect.promise(async () => {
              for (let i = 0; i < 100; i++) {
                if (exporter.getFinishedSpans().some((s) => s.name === "OutboxWorker.writeBack")) return
                await new Promise((r) => setTimeout(r, 100))
              }
            })
            return [first, second]
          })
        )
        const spans = exporter.getFinishedSpans()
        if (process.env.TRACE_DEBUG) {
          const counts = new Map<string, number>()
          for (const s of spans) counts.set(s.name, (counts.get(s.name) ?? 0) + 1)
          console.log(
            [...counts].join("\n"),
            JSON.stringify(spans.find((s) => s.name === "ShipStation.export")?.attributes)
          )
        }
        const traces = byTrace(spans)

        // Export pages: one trace each, with the route, store and render spans nested in that order.
        const pageTraces = byTrace(spans.slice(pollsFrom)).filter((t) => names(t).includes("ShipStation.export"))
        const pagesRequested = polls.reduce((n, p) => n + p.pages, 0)
        expect(polls.every((p) => p.pages > 1)).toBe(true)
        const lightspeed = pageTraces.filter((t) =>
          t.some((s) => s.name === "ShipStation.export" && s.attributes["posbridge.store"] === "lightspeed-demo")
        )
        expect(lightspeed).toHaveLength(pagesRequested)
        for (const t of lightspeed) {
          expect(names(t).filter((n) => n === "ShipStation.export")).toHaveLength(1)
          const render = t.find((s) => s.name === "ExportXml.render")
          const store = t.find((s) => s.name === "SqlOrderStore.exportPage")
          const route = t.find((s) => s.name === "ShipStationRoutes.handle")
          expect(
            [route, store, render].every((s) => s !== undefined),
            names(t).join(", ")
          ).toBe(true)
          const exported = t.find((s) => s.name === "ShipStation.export") as ReadableSpan
          expect(parentOf(t, exported)?.name).toBe("ShipStationRoutes.handle")
          // The trace starts at the HTTP request: one request, one trace.
          expect(t.filter((s) => parentOf(t, s) === undefined).map((s) => s.name)).toEqual(["http.server GET"])
          expect(parentOf(t, store as ReadableSpan)?.name).toBe("ShipStation.export")
          expect(parentOf(t, render as ReadableSpan)?.name).toBe("ShipStation.export")
        }
        // The pages of one poll share their snapshot; the two polls froze two snapshots.
        const snapshotOf = (t: ReadonlyArray<ReadableSpan>) =>
          String(t.find((s) => s.name === "ShipStation.export")?.attributes["posbridge.snapshot"])
        const ordered = [...lightspeed].sort(
          (a, b) =>
            (a.find((s) => s.name === "ShipStation.export")?.startTime[0] ?? 0) * 1e9 +
            (a.find((s) => s.name === "ShipStation.export")?.startTime[1] ?? 0) -
            ((b.find((s) => s.name === "ShipStation.export")?.startTime[0] ?? 0) * 1e9 +
              (b.find((s) => s.name === "ShipStation.export")?.startTime[1] ?? 0))
        )
        const firstPoll = ordered.slice(0, polls[0]?.pages ?? 0).map(snapshotOf)
        const secondPoll = ordered.slice(polls[0]?.pages ?? 0).map(snapshotOf)
        expect(new Set(firstPoll).size).toBe(1)
        expect(new Set(secondPoll).size).toBe(1)
        expect(firstPoll[0]).not.toBe(secondPoll[0])
        expect(firstPoll[0]).not.toBe("undefined")

        // A sync run: the adapter's requests to the POS and the ingest, inside the run's span.
        const runs = traces.filter((t) => names(t).includes("SyncEngine.run"))
        expect(runs.length).toBeGreaterThan(0)
        const run = runs.find((t) => names(t).includes("SqlOrderStore.ingest"))
        expect(run, "a sync run with an ingest").toBeDefined()
        expect(names(run ?? []).some((n) => n.startsWith("http.client"))).toBe(true)

        // The ship notice, and its write-back to the POS with the adapter's request.
        expect(traces.some((t) => names(t).includes("ShipStation.shipNotify"))).toBe(true)
        const writeBack = traces.find((t) => names(t).includes("OutboxWorker.writeBack"))
        expect(writeBack?.find((s) => s.name === "OutboxWorker.writeBack")?.attributes["posbridge.store"]).toBe(
          "heartland-demo"
        )
        expect(names(writeBack ?? []).some((n) => n.startsWith("http.client"))).toBe(true)
      }),
    120_000
  )

  it.effect("without an OTLP endpoint the tracer is off: a span is a no-op, recorded nowhere", () =>
    Effect.gen(function* () {
      const probe = Effect.currentSpan.pipe(Effect.withSpan("probe"))
      const on = yield* probe
      expect(Context.get(on.context, Tracer.DisablePropagation)).toBe(false)
      const off = yield* probe.pipe(Effect.provide(Telemetry.tracingLayer({})))
      expect(Context.get(off.context, Tracer.DisablePropagation)).toBe(true)
      const requested = yield* probe.pipe(
        Effect.provide(Telemetry.tracingLayer({}, new SimpleSpanProcessor(new InMemorySpanExporter())))
      )
      expect(Context.get(requested.context, Tracer.DisablePropagation)).toBe(false)
    })
  )
})
