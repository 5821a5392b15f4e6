/**
 * Demo mode: two stores backed by in-process POS simulators that keep changing (new sales and orders,
 * re-saves), so repeated ShipStation polls show something. No configuration and no network needed.
 *
 *   lightspeed-demo  Lightspeed Retail, invoices (Sales)      ShipStation user demo / password demo
 *   heartland-demo   Heartland Retail, orders (Sales Orders)  ShipStation user demo / password demo
 *
 * The simulators live in memory, so demo data is recreated at every start (the demo database file is reset).
 */
import { HttpClient } from "@effect/platform"
import { TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Simulator as HeartlandSimulator } from "@posbridge/source-heartland/testing"
import { Simulator as LightspeedSimulator } from "@posbridge/source-lightspeed/testing"
import { Context, Duration, Effect, Redacted } from "effect"
import type * as Config from "./Config.js"
import type * as Stores from "./Stores.js"

export const credentials = { username: "demo", password: "demo" } as const
export const lightspeedStore = "lightspeed-demo"
export const heartlandStore = "heartland-demo"

/** A TokenVault in memory: the demo's simulators forget their tokens at every start anyway. */
export const memoryVault = TokenVault.makeMemory

export interface Demo {
  readonly stores: ReadonlyArray<Config.ResolvedStore>
  readonly services: (storeId: string) => Context.Context<Stores.Services>
  /** Keeps both simulated POS accounts changing; fork it for the life of the server. */
  readonly activity: Effect.Effect<void>
}

const entry = (
  id: string,
  adapter: string,
  documentKind: "invoices" | "orders",
  settings: unknown
): Config.ResolvedStore => ({
  id,
  adapter,
  documentKind,
  pageSize: 100,
  timeZone: "utc",
  shipstation: { username: credentials.username, password: Redacted.make(credentials.password) },
  settings,
  syncInterval: Duration.seconds(10),
  lookbackDays: 30
})

export const adminPassword = Redacted.make("demo")

/** The demo stores. `refreshToken` is the one the Lightspeed simulator granted at this start. */
export const storeEntries = (refreshToken: string): ReadonlyArray<Config.ResolvedStore> => [
  entry(lightspeedStore, "lightspeed", "invoices", {
    accountId: "1000",
    clientId: "sim-client",
    clientSecret: "sim-secret",
    refreshToken,
    apiBaseUrl: "http://lightspeed.demo",
    authBaseUrl: "http://lightspeed.demo",
    currency: "USD"
  }),
  entry(heartlandStore, "heartland", "orders", { baseUrl: "http://heartland.demo", apiToken: "demo-token" })
]

export const make = Effect.gen(function* () {
  const lightspeed = yield* LightspeedSimulator.make({ accountId: "1000", apiBaseUrl: "http://lightspeed.demo" })
  yield* LightspeedSimulator.seedDemo(lightspeed.control, { sales: 60, seed: 7, days: 3 })
  const refreshToken = yield* lightspeed.control.grant()
  const heartland = yield* HeartlandSimulator.make({ token: "demo-token" })
  const seeded = yield* HeartlandSimulator.seedDemo(heartland.control, { seed: 42, orders: 40 })

  const vault = yield* memoryVault
  const clients: Record<string, HttpClient.HttpClient> = {
    [lightspeedStore]: yield* SimServer.makeClient(lightspeed.app),
    [heartlandStore]: yield* SimServer.makeClient(heartland.app)
  }
  const demo: Demo = {
    stores: storeEntries(refreshToken),
    services: (storeId) => {
      const client = clients[storeId] ?? HttpClient.make(() => Effect.dieMessage(`no demo simulator for "${storeId}"`))
      return Context.make(TokenVault.TokenVault, vault).pipe(Context.add(HttpClient.HttpClient, client))
    },
    activity: Effect.all(
      [
        LightspeedSimulator.runDemoActivity(lightspeed.control, { every: Duration.seconds(20), seed: 11 }),
        HeartlandSimulator.runDemo(heartland.control, seeded, { seed: 42, every: Duration.seconds(30) })
      ],
      { concurrency: "unbounded", discard: true }
    )
  }
  return demo
})
