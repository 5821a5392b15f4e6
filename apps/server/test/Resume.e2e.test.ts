import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { freePort, waitFor } from "@posbridge/e2e/Processes"
import { gauge, startServer, tempConfig } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator } from "@posbridge/e2e/Simulators"
import { SqliteStore } from "@posbridge/store-sql"
import { Effect, Option } from "effect"

const orders = 800
/** The Heartland adapter's documented overlap (its README, "Sync"): a resumed pull re-reads from `at` − 5 min. */
const overlapMillis = 5 * 60_000

/** The `updated_at` a Sales Orders list request reads from (its `$gt` is one millisecond before), else undefined. */
const listedFrom = (url: string): number | undefined => {
  const u = new URL(url, "http://simulator")
  if (u.pathname !== "/api/sales/orders") return undefined
  const filter = JSON.parse(u.searchParams.get("_filter") ?? "{}") as { updated_at?: { $gt?: string } }
  const after = filter.updated_at?.$gt
  return after === undefined ? undefined : Date.parse(after) + 1
}

/** The instant of the cursor committed in the store's database (Heartland's `{"v":1,"at":ISO,"ids":[…]}`). */
const committedAt = (dir: string): Promise<number | undefined> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      const cursor = yield* store.cursor("shop")
      return Option.isNone(cursor) ? undefined : Date.parse((JSON.parse(cursor.value) as { at: string }).at)
    }).pipe(Effect.provide(SqliteStore.layer({ filename: join(dir, "posbridge.sqlite") })))
  )

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
    // Each process: the cursor committed before it started and the list requests it made.
    const lives: Array<{ readonly resumedFrom: number | undefined; readonly listedFrom: Array<number> }> = []
    const live = async (run: (requestsMade: () => number) => Promise<void>) => {
      const resumedFrom = await committedAt(dir)
      const first = sim.requests().length
      await run(() => sim.requests().length - first)
      // A request the killed process sent just before dying may still be in flight; let it reach the log.
      await new Promise((r) => setTimeout(r, 200))
      const made = sim.requests().slice(first)
      lives.push({ resumedFrom, listedFrom: made.flatMap((r) => listedFrom(r.url) ?? []) })
    }
    try {
      for (let kill = 0; kill < 20; kill++) {
        await live(async (requestsMade) => {
          const server = await startServer(config, port)
          // A random point of the sync, counted in requests to the POS so that it does not depend on the
          // machine's speed: right after start-up, mid-page, or after the run finished. A backfill is about 900
          // requests and a resumed run first re-reads the overlap (about 300), so most kills cut the backfill
          // and some let a run move the cursor. At most 8 s, for a finished run.
          const point = Math.floor(random() * 500)
          const deadline = Date.now() + 8000
          while (requestsMade() < point && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
          await server.kill("SIGKILL")
        })
      }
      await live(async () => {
        const server = await startServer(config, port)
        await waitFor(
          "every document",
          async () => ((await gauge(server.metricsUrl, "posbridge_documents", "shop")) === orders ? true : undefined),
          120_000
        )
        await server.kill("SIGTERM")
      })

      // The cursor was committed, not restarted from zero: every process that found a committed cursor began its
      // first pull within the documented overlap of it and never read from further back, and a committed cursor
      // never moved back. Most processes must have pulled from one, and the kills must have cut the backfill
      // (the cursor moved between them), or this shows nothing.
      const iso = (ms: number) => new Date(ms).toISOString()
      const resumed = lives.flatMap(({ resumedFrom, listedFrom }) =>
        resumedFrom === undefined || listedFrom.length === 0 ? [] : [{ resumedFrom, listedFrom }]
      )
      expect(resumed.length).toBeGreaterThanOrEqual(10)
      const restarted = resumed
        .filter(
          ({ resumedFrom, listedFrom }) =>
            listedFrom[0]! > resumedFrom || Math.min(...listedFrom) < resumedFrom - overlapMillis
        )
        .map(({ resumedFrom, listedFrom }) => ({
          committed: iso(resumedFrom),
          firstPullFrom: iso(listedFrom[0]!),
          earliestRead: iso(Math.min(...listedFrom))
        }))
      expect(restarted).toEqual([])
      const committed = lives.flatMap((l) => l.resumedFrom ?? [])
      expect(committed.map(iso)).toEqual([...committed].sort((a, b) => a - b).map(iso))
      expect(new Set(committed).size).toBeGreaterThanOrEqual(3)

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
