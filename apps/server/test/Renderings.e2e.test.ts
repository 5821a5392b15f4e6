/**
 * The server keeps each version's ShipStation rendering when sync stores it (`Server.orderStoreLayer`, migration
 * 0009), and its export pages send those renderings: byte for byte what the same server sends when it has to
 * render every order on demand (the database as the code before 0009 left it: no rendering stored).
 */
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { freePort, waitFor } from "@posbridge/e2e/Processes"
import { basic, gauge, startServer, tempConfig } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator, type RunningSimulator } from "@posbridge/e2e/Simulators"
import { ExportXml } from "@posbridge/shipstation"
import { Effect } from "effect"

/** `MM/dd/yyyy HH:mm` in UTC (the store's default time zone). */
const shipStationDate = (ms: number) => {
  const d = new Date(ms)
  const two = (n: number) => String(n).padStart(2, "0")
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`
}

/** Every page of one window, concatenated, as ShipStation reads them. */
const poll = async (url: string, start: string, end: string) => {
  const pages: Array<string> = []
  for (let page = 1; ; page++) {
    const query = new URLSearchParams({ action: "export", start_date: start, end_date: end, page: String(page) })
    const r = await fetch(`${url}/shipstation/shop?${query}`, { headers: { authorization: basic("ss", "ss-secret") } })
    const body = await r.text()
    expect(r.status, body).toBe(200)
    pages.push(body)
    const count = Number(/<Orders pages="(\d+)"/.exec(body)?.[1])
    if (page >= count) return pages.join("")
  }
}

const inDatabase = <A>(file: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(SqliteClient.layer({ filename: file })), Effect.scoped)
  )

describe("stored renderings in the server", () => {
  let sim: RunningSimulator
  beforeAll(async () => {
    sim = await heartlandSimulator({ orders: 30, token: "hl-token" })
  })
  afterAll(async () => {
    await sim.close()
  })

  it("sends the renderings sync stored, byte for byte what it renders on demand without them", async () => {
    const { dir, config } = tempConfig("renderings", [{ id: "shop", simulatorUrl: sim.url, token: "hl-token" }])
    const file = join(dir, "posbridge.sqlite")
    const start = shipStationDate(Date.UTC(2000, 0, 1))
    const end = shipStationDate(Date.now() + 10 * 60_000)

    let server = await startServer(config, await freePort())
    let stored: string
    try {
      await waitFor("the store's documents", async () =>
        (await gauge(server.metricsUrl, "posbridge_documents", "shop")) === 30 ? true : undefined
      ).catch((e) => {
        throw new Error(`${e}\n${server.output()}`)
      })
      stored = await poll(server.url, start, end)
    } finally {
      await server.kill("SIGTERM")
    }
    const counts = await inDatabase(
      file,
      (sql) =>
        sql<{ readonly kept: number; readonly all: number }>`SELECT COUNT(rendered) AS kept, COUNT(*) AS "all"
        FROM pb_documents WHERE store_id = 'shop'`
    )
    // Every order the simulator sends passes ShipStation's field rules, so every version has its rendering.
    expect(counts).toEqual([{ kept: 30, all: 30 }])
    expect(stored.split("<Order>").length - 1).toBe(30)

    // What is sent is what is stored: a rendering changed in the database is sent as it is now.
    const marker = "<Order><OrderID><![CDATA[as stored]]></OrderID></Order>"
    const [first] = await inDatabase(
      file,
      (sql) =>
        sql<{ readonly pos_ref: string; readonly rendered: string }>`SELECT pos_ref, rendered FROM pb_documents
        ORDER BY pos_ref LIMIT 1`
    )
    const id = first?.rendered.split("\n")[0] ?? ""
    expect(id).toBe(ExportXml.rendering.id)
    await inDatabase(
      file,
      (sql) => sql`UPDATE pb_documents SET rendered = ${`${id}\n${marker}`}
      WHERE pos_ref = ${first?.pos_ref ?? ""}`
    )
    server = await startServer(config, await freePort())
    try {
      const sent = await poll(server.url, start, end)
      expect(sent).toContain(marker)
      expect(sent.split("<Order>").length - 1).toBe(30)
    } finally {
      await server.kill("SIGTERM")
    }

    // As a database written before the renderings were kept: every order rendered on demand.
    await inDatabase(file, (sql) => sql`UPDATE pb_documents SET rendered = NULL`)
    server = await startServer(config, await freePort())
    try {
      expect(await poll(server.url, start, end)).toBe(stored)
    } finally {
      await server.kill("SIGTERM")
    }
  }, 120_000)
})
