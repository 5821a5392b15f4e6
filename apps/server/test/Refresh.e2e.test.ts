/**
 * Issue 18, acceptance 1 and 3, over real HTTP: the server as users run it, POS simulators as their own processes,
 * and the ShipStation API simulator, which polls posbridge's export (page 1, then each later page) when it is asked
 * to refresh a store, as ShipStation does.
 *
 * - A touch makes posbridge call `refreshstore` for that store, and the simulated ShipStation's poll carries the
 *   order; `explain` says so.
 * - A POS re-save in the Lightspeed and the Heartland simulator leads to a refresh call within the debounce
 *   interval plus one sync interval.
 * - Discovery finds a store id by its integration URL (the Lightspeed store has none configured), and says clearly
 *   when it cannot.
 * - With ShipStation's API answering 503 or 401, exports go on and the store shows a warning.
 */
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"
import { NodeHttpServer } from "@effect/platform-node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { basic, env, type RunningServer, runCli, startServer } from "@posbridge/e2e/ServerProcess"
import { type RunningSimulatorProcess, startSimulator } from "@posbridge/e2e/SimulatorProcess"
import { ShipStationClient } from "@posbridge/pos-testkit"
import { ApiSimulator } from "@posbridge/shipstation/testing"
import { Context, Effect, Exit, Layer, Scope } from "effect"

const key = { apiKey: "ss-api-key-6b1f0c", apiSecret: "ss-api-secret-2d94e7" }
const minIntervalSeconds = 3
const syncIntervalSeconds = 5

const json = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const r = await fetch(url, init)
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

describe("posbridge asks ShipStation to refresh a store, over real HTTP", () => {
  let lightspeed: RunningSimulatorProcess
  let heartland: RunningSimulatorProcess
  let server: RunningServer
  let config: string
  let api: ApiSimulator.Service
  let scope: Scope.CloseableScope
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  beforeAll(async () => {
    ;[lightspeed, heartland] = await Promise.all([
      startSimulator({ adapter: "lightspeed", accounts: 1, documents: 6 }),
      startSimulator({ adapter: "heartland", accounts: 2, documents: 6 })
    ])
    const port = await freePort()
    const serverUrl = `http://127.0.0.1:${port}`
    const custom = (storeId: number, id: string) => ({
      storeId,
      storeName: id,
      marketplaceName: "Custom Store",
      integrationUrl: `${serverUrl}/shipstation/${id}`,
      username: "ss",
      password: env.TEST_SS_PASSWORD
    })
    scope = await run(Scope.make())
    const context = await run(
      Layer.buildWithScope(
        ApiSimulator.ApiSimulator.layerServer({
          accounts: [
            {
              ...key,
              stores: [
                custom(501, "hl-touch"),
                custom(502, "ls-arrival"),
                custom(503, "hl-arrival"),
                custom(504, "hl-lost")
              ]
            }
          ]
        }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))),
        scope
      )
    )
    api = Context.get(context, ApiSimulator.ApiSimulator)
    const apiUrl = await run(ApiSimulator.baseUrl.pipe(Effect.provide(context)))
    const settingsOf = async (sim: RunningSimulatorProcess, account: string, kind: string) =>
      (
        await json<{ settings: Record<string, unknown> }>(
          `${sim.url}/control/accounts/${account}/settings?kind=${kind}`
        )
      ).settings
    const ls = await settingsOf(lightspeed, lightspeed.accounts[0] ?? "", "invoices")
    process.env.REFRESH_LS_CLIENT_SECRET = String(ls.clientSecret)
    process.env.REFRESH_LS_REFRESH_TOKEN = String(ls.refreshToken)
    process.env.REFRESH_SS_API_KEY = key.apiKey
    process.env.REFRESH_SS_API_SECRET = key.apiSecret
    const hl = async (account: string) => {
      const settings = await settingsOf(heartland, account, "orders")
      tokens[`REFRESH_HL_TOKEN_${account}`] = String(settings.apiToken)
      return { ...settings, apiToken: { env: `REFRESH_HL_TOKEN_${account}` } }
    }
    const tokens: Record<string, string> = {}
    const shipstationApi = (extra: Record<string, unknown>) => ({
      apiKey: { env: "REFRESH_SS_API_KEY" },
      apiSecret: { env: "REFRESH_SS_API_SECRET" },
      baseUrl: apiUrl,
      minIntervalSeconds,
      ...extra
    })
    const store = (
      id: string,
      adapter: string,
      documentKind: string,
      settings: unknown,
      extra: Record<string, unknown>
    ) => ({
      id,
      adapter,
      documentKind,
      shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
      settings,
      syncIntervalSeconds,
      shipstationApi: shipstationApi(extra)
    })
    const dir = tempDir("refresh")
    config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        publicUrl: serverUrl,
        admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
        encryptionKey: { env: "TEST_ENCRYPTION_KEY" },
        stores: [
          store("hl-touch", "heartland", "orders", await hl(heartland.accounts[0] ?? ""), {
            storeId: 501,
            autoRefresh: false
          }),
          // No store id: found by its integration URL, publicUrl + /shipstation/ls-arrival.
          store(
            "ls-arrival",
            "lightspeed",
            "invoices",
            {
              ...ls,
              clientSecret: { env: "REFRESH_LS_CLIENT_SECRET" },
              refreshToken: { env: "REFRESH_LS_REFRESH_TOKEN" }
            },
            {}
          ),
          store("hl-arrival", "heartland", "orders", await hl(heartland.accounts[1] ?? ""), { storeId: 503 }),
          // An integration URL no ShipStation store of the key has: discovery must say so.
          store("hl-lost", "heartland", "orders", await hl(heartland.accounts[1] ?? ""), {
            integrationUrl: "https://elsewhere.example/shipstation/hl-lost"
          })
        ]
      })
    )
    // The command line reads the same configuration: it needs the same secrets.
    Object.assign(process.env, tokens)
    server = await startServer(config, port, 60_000, {
      ...tokens,
      REFRESH_LS_CLIENT_SECRET: process.env.REFRESH_LS_CLIENT_SECRET ?? "",
      REFRESH_LS_REFRESH_TOKEN: process.env.REFRESH_LS_REFRESH_TOKEN ?? "",
      REFRESH_SS_API_KEY: key.apiKey,
      REFRESH_SS_API_SECRET: key.apiSecret
    })
  }, 120_000)

  afterAll(async () => {
    await server?.kill("SIGTERM")
    await Promise.all([lightspeed?.kill(), heartland?.kill()])
    if (scope) await run(Scope.close(scope, Exit.void))
  })

  /** `posbridge touch|explain` for an order, through the running server. */
  const cli = (command: "touch" | "explain", store: string, order: string) =>
    runCli([command, "--config", config, "--server", server.url, "--store", store, "--order", order])
  /** ShipStation's poll of the store's whole history (page 1, then each later page). */
  const exportAll = (id: string) =>
    run(
      ShipStationClient.poll(
        server.url,
        id,
        { username: "ss", password: env.TEST_SS_PASSWORD },
        {
          start: Date.UTC(2020, 0, 1),
          end: Date.UTC(2099, 0, 1)
        }
      )
    )
  const calls = (storeId: number) =>
    run(api.calls).then((all) => all.filter((c) => c.endpoint === "refreshStore" && c.storeId === storeId))
  const polls = (storeId: number) => run(api.polls).then((all) => all.filter((p) => p.storeId === storeId))
  const status = async (id: string) => {
    const body = await json<{
      stores: ReadonlyArray<{
        id: string
        documents: number
        warnings: ReadonlyArray<{ code: string; message: string }>
      }>
    }>(`${server.url}/admin/api/stores`, { headers: { authorization: basic("admin", env.TEST_ADMIN_PASSWORD) } })
    return body.stores.find((s) => s.id === id)
  }

  it("a touch makes posbridge ask ShipStation to refresh that store, and the poll that follows carries the order", async () => {
    await waitFor("hl-touch synced", async () => (((await status("hl-touch"))?.documents ?? 0) > 0 ? true : undefined))
    const exported = await exportAll("hl-touch")
    const order = exported.orders[0]?.posRef ?? "missing"
    expect(await calls(501)).toEqual([])
    const before = (await polls(501)).length
    const touched = await cli("touch", "hl-touch", order)
    expect(touched.status, touched.stderr).toBe(0)
    expect(touched.stdout).toContain("ShipStation is being asked to refresh the store now")
    await waitFor("the refresh call", async () => ((await calls(501)).length === 1 ? true : undefined), 20_000)
    const poll = await waitFor(
      "the simulated ShipStation's poll",
      async () => (await polls(501)).slice(before).find((p) => p.status === 200),
      20_000
    )
    expect(poll.orders).toContain(order)
    // Never a refresh of every store of the account.
    expect(await run(api.allStoreRefreshes)).toBe(0)
    const explained = await cli("explain", "hl-touch", order)
    expect(explained.stdout).toMatch(
      /asked ShipStation to refresh the store: this order was refreshed \(touch\); ShipStation polled \d+ s later/
    )
  }, 90_000)

  it("a POS re-save in Lightspeed and in Heartland leads to a refresh call within the debounce interval plus one sync interval", async () => {
    // The first syncs bring new orders: each store is refreshed once (the Lightspeed one after finding its id).
    for (const id of [502, 503]) {
      await waitFor(
        `store ${id}'s first refresh`,
        async () => ((await calls(id)).length > 0 ? true : undefined),
        60_000
      )
    }
    // Let the debounce interval pass, then the merchant re-saves one document in each POS.
    await new Promise((r) => setTimeout(r, minIntervalSeconds * 1000))
    const resave = async (sim: RunningSimulatorProcess, account: string, kind: string) => {
      const { changes } = await json<{ changes: ReadonlyArray<{ ref: string }> }>(
        `${sim.url}/control/changes?account=${account}&kind=${kind}`
      )
      const ref = changes[0]?.ref ?? ""
      await json(`${sim.url}/control/accounts/${account}/documents/${kind}/${ref}/resave`, { method: "POST" })
      return ref
    }
    const cases = [
      {
        storeId: 502,
        count: (await calls(502)).length,
        savedAt: Date.now(),
        ref: await resave(lightspeed, lightspeed.accounts[0] ?? "", "invoices")
      },
      {
        storeId: 503,
        count: (await calls(503)).length,
        savedAt: Date.now(),
        ref: await resave(heartland, heartland.accounts[1] ?? "", "orders")
      }
    ]
    const bound = (minIntervalSeconds + syncIntervalSeconds) * 1000
    for (const c of cases) {
      const call = await waitFor(
        `store ${c.storeId}'s refresh after the re-save`,
        async () => (await calls(c.storeId))[c.count],
        bound + 10_000
      )
      expect(
        call.at - c.savedAt,
        `store ${c.storeId}: ${call.at - c.savedAt} ms from re-save to refresh call`
      ).toBeLessThanOrEqual(bound + 1_500)
    }
    // The Lightspeed store had no ShipStation store id: it was found by its integration URL.
    expect(server.output()).toMatch(/store ls-arrival: ShipStation store id 502 found by its integration URL/)
  }, 120_000)

  it("says clearly when discovery finds no store, and exports go on when ShipStation's API answers 503, 401 or 429", async () => {
    const lost = await waitFor(
      "hl-lost's warning",
      async () => (await status("hl-lost"))?.warnings.find((w) => w.code === "shipstation-refresh"),
      30_000
    )
    expect(lost.message).toContain(
      "No ShipStation store of this API key has the integration URL https://elsewhere.example/shipstation/hl-lost"
    )
    const says = { 503: "HTTP 503", 401: "refused the API key", 429: "HTTP 429" } as const
    for (const mode of [503, 401, 429] as const) {
      await run(api.setMode(mode))
      const order = (await exportAll("hl-touch")).orders[0]?.posRef ?? "missing"
      const touched = await cli("touch", "hl-touch", order)
      expect(touched.status).toBe(0)
      const warning = await waitFor(
        `the warning after ${mode}`,
        async () =>
          (await status("hl-touch"))?.warnings.find(
            (w) => w.code === "shipstation-refresh" && w.message.includes(says[mode])
          ),
        20_000
      )
      expect(warning.message).toContain("ShipStation's own schedule still polls")
      // ShipStation's own poll still gets the touched order.
      const exported = await exportAll("hl-touch")
      expect(exported.status).toBe(200)
      expect(exported.orders.map((o) => o.posRef)).toContain(order)
      expect(server.output()).not.toContain(key.apiSecret)
      expect(server.output()).not.toContain(key.apiKey)
    }
    await run(api.setMode("normal"))
  }, 90_000)
})
