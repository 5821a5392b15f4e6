import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { waitFor } from "@posbridge/e2e/Processes"
import { type DemoServer, exportOrders, startDemo } from "./ConsoleBrowser.js"

/** The instant of the first log line holding `text` (the text format starts each line with `[ISO time]`). */
const loggedAt = (output: string, text: string): number | undefined => {
  const line = output.split("\n").find((l) => l.includes(text))
  const iso = line?.match(/^\[([^\]]+)\]/)?.[1]
  return iso === undefined ? undefined : Date.parse(iso)
}

describe("start-up, as a new user runs it (`pnpm start` in demo mode)", () => {
  let server: DemoServer
  let ordersAt: Record<string, number> = {}
  beforeAll(async () => {
    server = await startDemo()
    ordersAt = {}
    // ShipStation's first poll of each store, repeated the way a user repeats the README's curl line.
    await waitFor(
      "both demo stores to export orders",
      async () => {
        for (const id of ["lightspeed-demo", "heartland-demo"]) {
          if (ordersAt[id] === undefined && (await exportOrders(server.url, id)).ids.length > 0)
            ordersAt[id] = Date.now()
        }
        return Object.keys(ordersAt).length === 2 ? true : undefined
      },
      60_000
    )
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
  })

  it("exports the demo stores' orders within a few seconds of logging that it listens", () => {
    const listening = loggedAt(server.output(), "Listening on")
    expect(listening, server.output()).toBeDefined()
    for (const id of ["lightspeed-demo", "heartland-demo"]) {
      const seconds = ((ordersAt[id] ?? Number.POSITIVE_INFINITY) - (listening ?? 0)) / 1000
      expect(seconds, `${id}: first orders ${seconds} s after "Listening"`).toBeLessThan(6)
    }
  })

  it("says in the log and in /admin/status when each store's first sync finished and how many orders it holds", async () => {
    const status = await waitFor(
      "both first syncs in /admin/status",
      async () => {
        const r = await fetch(`${server.url}/admin/status`, {
          headers: { authorization: `Basic ${Buffer.from("admin:demo").toString("base64")}` }
        })
        const body = (await r.json()) as {
          stores: Array<{
            id: string
            documents: number
            firstSync: { at: string; seconds: number; documents: number } | null
          }>
        }
        return body.stores.every((s) => s.firstSync !== null) ? body.stores : undefined
      },
      30_000
    )
    for (const [id, kind] of [
      ["lightspeed-demo", "invoices"],
      ["heartland-demo", "orders"]
    ] as const) {
      const first = status.find((s) => s.id === id)?.firstSync
      // The demo simulators are seeded with 60 Lightspeed sales (47 of them shippable invoices) and 40 Heartland orders.
      expect(first?.documents, id).toBeGreaterThan(0)
      expect(first?.seconds, id).toBeLessThan(6)
      const logged = server
        .output()
        .split("\n")
        .find((l) => l.includes(`store ${id}: first sync finished`))
      expect(logged, server.output()).toMatch(
        new RegExp(`first sync finished \\d+\\.\\d s after start; it holds ${first?.documents} ${kind} for ShipStation`)
      )
    }
  }, 40_000)
})
