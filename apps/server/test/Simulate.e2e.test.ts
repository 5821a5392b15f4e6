import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { gauge, type RunningServer, startServer } from "@posbridge/e2e/ServerProcess"
import { type RunningSimulatorProcess, startSimulator } from "@posbridge/e2e/SimulatorProcess"

interface Change {
  readonly account: string
  readonly kind: string
  readonly ref: string
}

const json = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const r = await fetch(url, init)
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

/** The adapter settings the simulator hands out for a store sending `kind` from `account`. */
const settingsOf = async (sim: RunningSimulatorProcess, account: string, kind: string) =>
  (await json<{ settings: Record<string, unknown> }>(`${sim.url}/control/accounts/${account}/settings?kind=${kind}`))
    .settings

/** The documents of a simulator account of one kind, as its change log lists them. */
const loggedDocuments = async (sim: RunningSimulatorProcess, account: string, kind: string) => {
  const { changes } = await json<{ changes: ReadonlyArray<Change> }>(
    `${sim.url}/control/changes?account=${account}&kind=${kind}`
  )
  return new Set(changes.map((c) => c.ref)).size
}

describe("posbridge simulate, with a server configured against it as users configure one", () => {
  let lightspeed: RunningSimulatorProcess
  let heartland: RunningSimulatorProcess
  let server: RunningServer
  const stores: Array<{ id: string; sim: () => RunningSimulatorProcess; account: string; kind: string }> = []

  beforeAll(async () => {
    ;[lightspeed, heartland] = await Promise.all([
      startSimulator({ adapter: "lightspeed", accounts: 3 }),
      startSimulator({ adapter: "heartland", accounts: 3 })
    ])
    const dir = tempDir("simulate")
    const config = join(dir, "config.json")
    /** A store per account, its settings as the simulator hands them out, their secrets in the environment. */
    const storesOf = async (
      sim: RunningSimulatorProcess,
      adapter: "lightspeed" | "heartland",
      kind: string,
      secrets: ReadonlyArray<string>
    ) =>
      Promise.all(
        sim.accounts.map(async (account) => {
          const settings = await settingsOf(sim, account, kind)
          for (const key of secrets) {
            const name = `SIM_${adapter}_${key}_${account}`.toUpperCase()
            process.env[name] = String(settings[key])
            settings[key] = { env: name }
          }
          const id = `${adapter === "lightspeed" ? "ls" : "hl"}-${account}`
          stores.push({ id, sim: () => sim, account, kind })
          return { id, adapter, documentKind: kind, settings }
        })
      )
    const entries = [
      ...(await storesOf(lightspeed, "lightspeed", "invoices", ["clientSecret", "refreshToken"])),
      ...(await storesOf(heartland, "heartland", "orders", ["apiToken"]))
    ]
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
        encryptionKey: { env: "TEST_ENCRYPTION_KEY" },
        stores: entries.map((e) => ({
          ...e,
          shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
          syncIntervalSeconds: 5,
          lookbackDays: 30
        }))
      })
    )
    server = await startServer(config, await freePort())
  }, 120_000)

  afterAll(async () => {
    await server?.kill("SIGTERM")
    await Promise.all([lightspeed?.kill(), heartland?.kill()])
  })

  it("every store syncs exactly its account's documents, as the simulators' change logs list them", async () => {
    for (const s of stores) {
      const expected = await loggedDocuments(s.sim(), s.account, s.kind)
      expect(expected).toBeGreaterThan(0)
      await waitFor(`store ${s.id} to hold ${expected} documents`, async () =>
        (await gauge(server.metricsUrl, "posbridge_documents", s.id)) === expected ? true : undefined
      )
    }
    // A document added through the control API reaches the store of its account, and no other.
    await json(`${heartland.url}/control/accounts/1001/documents/orders`, { method: "POST" })
    const expected = await loggedDocuments(heartland, "1001", "orders")
    await waitFor("the new order in hl-1001", async () =>
      (await gauge(server.metricsUrl, "posbridge_documents", "hl-1001")) === expected ? true : undefined
    )
    expect(await gauge(server.metricsUrl, "posbridge_documents", "hl-1000")).toBe(
      await loggedDocuments(heartland, "1000", "orders")
    )
    // One runner syncs each store: never two pulls of one account's list at once.
    for (const sim of [lightspeed, heartland]) {
      const pulls = await json<{ maxInFlight: number; feeds: ReadonlyArray<{ pulls: number }> }>(
        `${sim.url}/control/pulls`
      )
      expect(pulls.maxInFlight).toBe(1)
      expect(pulls.feeds.length).toBe(3)
    }
  }, 120_000)
})
