import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { freePort, waitFor } from "@posbridge/e2e/Processes"
import { gauge, startServer, tempConfig } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator } from "@posbridge/e2e/Simulators"
import { SqliteStore } from "@posbridge/store-sql"
import { Effect } from "effect"

const orders = 800

describe("a server killed mid-sync", () => {
  it("resumes from its committed cursor after 20 SIGKILLs, with no document lost or duplicated", async () => {
    const sim = await heartlandSimulator({ orders, token: "hl-token", seed: 5 })
    const { dir, config } = tempConfig("resume", [
      { id: "shop", simulatorUrl: sim.url, token: "hl-token", syncIntervalSeconds: 5 }
    ])
    const port = await freePort()
    let seed = 12345
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    try {
      const seen: Array<number> = []
      for (let kill = 0; kill < 20; kill++) {
        const server = await startServer(config, port)
        // A random point: right after start-up, mid-page, or after the run finished.
        await new Promise((r) => setTimeout(r, Math.floor(random() * 6000)))
        seen.push((await gauge(server.url, "posbridge_documents", "shop").catch(() => undefined)) ?? -1)
        await server.kill("SIGKILL")
      }
      const server = await startServer(config, port)
      await waitFor(
        "every document",
        async () => ((await gauge(server.url, "posbridge_documents", "shop")) === orders ? true : undefined),
        120_000
      )
      await server.kill("SIGTERM")
      // Progress was made between kills (the cursor was committed, not restarted from zero every time).
      expect(seen.filter((n) => n > 0).length).toBeGreaterThan(0)

      const histories = await Effect.runPromise(
        Effect.gen(function* () {
          const store = yield* OrderStore.OrderStore
          const stats = yield* store.stats("shop")
          const inserted: Array<number> = []
          for (const o of yield* sim.control.orders) {
            const ex = yield* store.explain("shop", String(o.id))
            inserted.push(ex.history.filter((e) => e._tag === "Inserted").length)
          }
          return { documents: stats.documents, inserted }
        }).pipe(Effect.provide(SqliteStore.layer({ filename: join(dir, "posbridge.sqlite") })))
      )
      expect(histories.documents).toBe(orders)
      expect(histories.inserted.length).toBe(orders)
      expect(histories.inserted.every((n) => n === 1)).toBe(true)
    } finally {
      await sim.close()
    }
  }, 600_000)
})
