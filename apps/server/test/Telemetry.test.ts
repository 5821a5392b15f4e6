import { createServer } from "node:http"
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { describe, expect, it } from "@effect/vitest"
import { Metrics, OrderStore } from "@posbridge/core"
import { Duration, Effect, Logger, LogLevel, Option, Redacted } from "effect"
import * as Telemetry from "../src/Telemetry.js"

const stats = (documents: number): OrderStore.OrderStats => ({
  documents,
  waitingForPoll: 0,
  held: 1,
  watermark: Option.none(),
  lastPoll: Option.none(),
  outbox: OrderStore.emptyOutboxCounts()
})

describe("the metrics a runner reports", () => {
  it.effect("a store's gauges come only from the runner that owns it; counters of every store are reported", () =>
    Effect.gen(function* () {
      // Effect's metric registry is per process: store ids of this test only.
      yield* Metrics.setStoreGauges("telemetry-owned", stats(7))
      yield* Metrics.setStoreGauges("telemetry-elsewhere", stats(9))
      yield* Metrics.increment(Metrics.polls, { store: "telemetry-elsewhere", outcome: "served" })
      let owned: ReadonlySet<string> = new Set(["telemetry-owned"])
      const producer = Telemetry.ownedOnly(yield* OtelMetrics.makeProducer, () => owned)
      const points = async () => {
        const { resourceMetrics } = await producer.collect()
        return resourceMetrics.scopeMetrics.flatMap((s) =>
          s.metrics.flatMap((m) =>
            (m.dataPoints as ReadonlyArray<{ attributes: Record<string, unknown>; value: unknown }>).map(
              (p): Record<string, unknown> => ({ name: m.descriptor.name, ...p.attributes, value: p.value })
            )
          )
        )
      }
      const before = yield* Effect.promise(points)
      const documents = before.filter(
        (p) => p.name === "posbridge_documents" && String(p.store).startsWith("telemetry-")
      )
      expect(documents).toEqual([{ name: "posbridge_documents", store: "telemetry-owned", value: 7 }])
      // Counters are this runner's work, whichever store: all reported (the runner label: Metrics.e2e).
      expect(before.some((p) => p.name === "posbridge_polls" && p.store === "telemetry-elsewhere")).toBe(true)
      // The store moves to this runner, the other one leaves: the next scrape says so.
      owned = new Set(["telemetry-elsewhere"])
      const after = (yield* Effect.promise(points)).filter(
        (p) => p.name === "posbridge_held_orders" && String(p.store).startsWith("telemetry-")
      )
      expect(after.map((p) => p.store)).toEqual(["telemetry-elsewhere"])
    }).pipe(Effect.provide(Resource.layer({ serviceName: "posbridge-test" })))
  )

  it.scoped("an address already in use is said in the log, and the server goes on without metrics", () =>
    Effect.gen(function* () {
      const taken = createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          taken.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.sync(() => taken.close())
      )
      const address = taken.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const logged: Array<string> = []
      const listener = yield* Telemetry.serveMetrics(
        { listen: Option.some({ host: "127.0.0.1", port }), token: Redacted.make("t"), refresh: Duration.seconds(15) },
        "runner-a:34431",
        () => new Set()
      ).pipe(
        Effect.provide(
          Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ message }) => void logged.push(String(message)))
          )
        ),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      expect(listener.url).toEqual(Option.none())
      expect(logged.join("\n")).toMatch(new RegExp(`metrics are not served: 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`))
    })
  )
})
