import { describe, expect, it } from "@effect/vitest"
import { freePort, waitFor } from "@posbridge/e2e/Processes"
import { startServer, tempConfig } from "@posbridge/e2e/ServerProcess"

/** A store id and a query that would start a log line of their own if written raw. */
const forgedPath =
  "/shipstation/shop%0A%20level=ERROR%20forged%0D%1B[2J?action=export&start_date=%0Alevel=ERROR%20forged"

/** Starts the real server with `LOG_FORMAT`, asks for an unknown store as above, and returns its output lines. */
const serverLines = async (logFormat: string | undefined) => {
  const { config } = tempConfig("logs", [
    { id: "shop", simulatorUrl: "http://127.0.0.1:1", token: "hl-token", syncIntervalSeconds: 3600 }
  ])
  const server = await startServer(config, await freePort(), 60_000, logFormat ? { LOG_FORMAT: logFormat } : {})
  try {
    const answer = await fetch(`${server.url}${forgedPath}`)
    expect(answer.status).toBe(401) // an unknown store is refused like wrong credentials, and logged
    await waitFor("the unknown store's log entry", async () =>
      server.output().includes("request for an unknown store") ? true : undefined
    )
  } finally {
    await server.kill("SIGTERM")
  }
  return server.output().trimEnd().split("\n")
}

describe("the server's log", () => {
  it("is readable text by default, one line per entry, and a request cannot forge a line", async () => {
    const lines = await serverLines(undefined)
    for (const line of lines) expect(line).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] (DEBUG|INFO|WARN|ERROR) \(#\d+\): /)
    expect(lines.filter((l) => l.includes("Listening on"))).toHaveLength(1)
    const unknown = lines.filter((l) => l.includes("request for an unknown store"))
    expect(unknown).toHaveLength(1)
    expect(unknown[0]).toContain("level=ERROR forged")
    expect(lines.filter((l) => l.includes("forged"))).toEqual(unknown)
  }, 90_000)

  it("is one JSON object per line with LOG_FORMAT=json, the store in its own field", async () => {
    const lines = await serverLines("json")
    const entries = lines.map((l) => JSON.parse(l))
    for (const e of entries) {
      expect(e).toMatchObject({ level: expect.any(String), message: expect.anything() })
      expect(new Date(e.time).toISOString()).toBe(e.time)
    }
    const unknown = entries.filter((e) => e.message === "request for an unknown store")
    expect(unknown).toHaveLength(1)
    expect(unknown[0]).toMatchObject({ level: "INFO", component: "shipstation" })
    expect(unknown[0].store).toMatch(/^shop\\n level=ERROR forged/)
    expect(lines.filter((l) => l.includes("forged"))).toHaveLength(1)
  }, 90_000)
})
