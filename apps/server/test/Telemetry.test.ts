import { createServer } from "node:http"
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
  it.scopedLive("a store's gauges come only from the runner that owns it; counters of every store are reported", () =>
    Effect.gen(function* () {
      // Effect's metric registry and the gauges' table are per process: store ids of this test only.
      yield* Metrics.setStoreGauges("telemetry-owned", stats(7))
      yield* Metrics.setStoreGauges("telemetry-elsewhere", stats(9))
      yield* Metrics.increment(Metrics.polls, { store: "telemetry-elsewhere", outcome: "served" })
      let owned: ReadonlySet<string> = new Set(["telemetry-owned"])
      const listener = yield* Telemetry.serveMetrics(
        { listen: Option.some({ host: "127.0.0.1", port: 0 }), token: undefined, refresh: Duration.seconds(15) },
        "runner-t:34431",
        () => owned
      )
      const url = `${Option.getOrThrow(listener.url)}/metrics`
      const samples = (family: string) =>
        Effect.promise(async () => {
          const text = await (await fetch(url)).text()
          return text.split("\n").filter((l) => l.startsWith(`${family}{`) && l.includes('store="telemetry-'))
        })
      expect(yield* samples("posbridge_documents")).toEqual([
        'posbridge_documents{store="telemetry-owned",runner="runner-t:34431"} 7'
      ])
      // Counters are this runner's work, whichever store: all reported.
      expect(yield* samples("posbridge_polls_total")).toEqual([
        'posbridge_polls_total{store="telemetry-elsewhere",outcome="served",runner="runner-t:34431"} 1'
      ])
      // The store moves to this runner, the other one leaves: the next scrape says so, with the latest stats.
      owned = new Set(["telemetry-elsewhere"])
      yield* Metrics.setStoreGauges("telemetry-elsewhere", stats(11))
      expect(yield* samples("posbridge_documents")).toEqual([
        'posbridge_documents{store="telemetry-elsewhere",runner="runner-t:34431"} 11'
      ])
      expect(yield* samples("posbridge_held_orders")).toEqual([
        'posbridge_held_orders{store="telemetry-elsewhere",runner="runner-t:34431"} 1'
      ])
    })
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
