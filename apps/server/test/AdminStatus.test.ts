import { createServer } from "node:http"
import { HttpClient, HttpServer } from "@effect/platform"
import { NodeFileSystem, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, OrderWindow, TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Simulator as Heartland } from "@posbridge/source-heartland/testing"
import { SyncEngine } from "@posbridge/sync"
import { Context, DateTime, Duration, Effect, Layer, Logger, LogLevel } from "effect"
import * as Cluster from "../src/Cluster.js"
import * as Config from "../src/Config.js"
import * as ConfigSource from "../src/ConfigSource.js"
import * as Server from "../src/Server.js"

const env = { SS_PASSWORD: "ss-secret-pw", HL_TOKEN: "hl-token-secret", ADMIN_PASSWORD: "admin-secret-pw" }

const configFile = {
  admin: { username: "admin", password: { env: "ADMIN_PASSWORD" } },
  stores: [
    {
      id: "shop",
      adapter: "heartland",
      documentKind: "orders",
      shipstation: { username: "ss", password: { env: "SS_PASSWORD" } },
      settings: { baseUrl: "http://heartland.sim", apiToken: { env: "HL_TOKEN" } }
    },
    {
      id: "invoices",
      adapter: "heartland",
      documentKind: "invoices",
      shipstation: { username: "ss-inv", password: { env: "SS_PASSWORD" } },
      settings: { baseUrl: "http://heartland.sim", apiToken: { env: "HL_TOKEN" } }
    }
  ]
}

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`

/** ShipStation's `MM/dd/yyyy HH:mm` of an instant read as a wall clock in `timeZone`. */
const wallClock = (millis: number, timeZone: string) =>
  OrderWindow.format(DateTime.unsafeMake(millis + DateTime.zonedOffset(DateTime.unsafeMakeZoned(millis, { timeZone }))))

/** What Server.start runs on, as `Server.runtimeLayer` composes it, with the order store in memory. */
const runtime = Layer.mergeAll(SyncEngine.layer({ onlyHeld: true }), Cluster.layerSingle(Config.defaultCluster)).pipe(
  Layer.provideMerge(MemoryOrderStore.layer())
)

/**
 * The server composition (Server.start) listening on a random port, with the clock check every 50 ms. Its
 * layers live in the test's scope, as they live for the whole process in `serve`.
 */
const startServer = Effect.gen(function* () {
  const context = yield* Layer.build(runtime)
  const file = yield* Config.decodeFile(JSON.stringify(configFile), "status-test.json")
  const config = yield* Config.resolve(file, "status-test.json", env, "/tmp")
  const sim = yield* Heartland.make({ token: env.HL_TOKEN })
  yield* Heartland.seedDemo(sim.control, { seed: 3, orders: 4 })
  const client = yield* SimServer.makeClient(sim.app)
  const vault = TokenVault.TokenVault.of({
    get: () => Effect.succeedNone,
    set: () => Effect.void,
    compareAndSet: () => Effect.succeed(true)
  })
  const { routes } = yield* Server.start({
    config,
    builtIns: ConfigSource.builtIns,
    services: () => Context.make(TokenVault.TokenVault, vault).pipe(Context.add(HttpClient.HttpClient, client)),
    clockCheckInterval: Duration.millis(50)
  }).pipe(Effect.provide(context))
  const server = yield* Layer.build(
    HttpServer.serve(routes).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
    )
  )
  const address = Context.get(server, HttpServer.HttpServer).address
  return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : yield* Effect.dieMessage("no TCP address")
}).pipe(Effect.provide(NodeFileSystem.layer), Logger.withMinimumLogLevel(LogLevel.None))

const get = (url: string, authorization?: string) =>
  Effect.promise(async () => {
    const r = await fetch(url, authorization ? { headers: { authorization } } : {})
    return { status: r.status, body: await r.text() }
  })

interface StatusBody {
  readonly stores: ReadonlyArray<{
    readonly id: string
    readonly adapter: string
    readonly documentKind: string
    readonly warnings: ReadonlyArray<{ readonly code: string; readonly message: string }>
    readonly lastPoll: { readonly pages: number } | null
    readonly documents: number
    readonly waitingForPoll: number
    readonly held: number
    readonly outbox: Record<string, number>
  }>
}

describe("GET /admin/status", () => {
  it.scopedLive("shows the ShipStation clock warning after polls sent in Pacific time, and never a secret", () =>
    Effect.gen(function* () {
      const url = yield* startServer
      const admin = basic("admin", env.ADMIN_PASSWORD)
      const before = JSON.parse((yield* get(`${url}/admin/status`, admin)).body) as StatusBody
      expect(before.stores.find((s) => s.id === "shop")?.warnings).toEqual([])

      // ShipStation, misconfigured, sends its Pacific wall clock as if it were UTC.
      for (const minutesAgo of [20, 10, 0]) {
        const now = Date.now() - minutesAgo * 60_000
        const params = new URLSearchParams({
          action: "export",
          start_date: wallClock(now - 10 * 60_000, "America/Los_Angeles"),
          end_date: wallClock(now, "America/Los_Angeles")
        })
        const r = yield* get(`${url}/shipstation/shop?${params}`, basic("ss", env.SS_PASSWORD))
        expect(r.status).toBe(200)
      }

      let status: StatusBody | undefined
      for (let i = 0; i < 100; i++) {
        status = JSON.parse((yield* get(`${url}/admin/status`, admin)).body) as StatusBody
        if (status.stores.find((s) => s.id === "shop")?.warnings.length) break
        yield* Effect.sleep(Duration.millis(50))
      }
      const shop = status?.stores.find((s) => s.id === "shop")
      expect(shop?.warnings.map((w) => w.code)).toEqual(["shipstation-clock"])
      expect(shop?.warnings[0]?.message).toContain("America/Los_Angeles")
      expect(shop?.adapter).toBe("heartland")
      expect(shop?.documentKind).toBe("orders")
      expect(shop?.lastPoll?.pages).toBeTypeOf("number")
      expect(shop?.outbox).toBeTypeOf("object")
      // The invoices store carries its settings warning and no clock warning (it was never polled).
      const invoices = status?.stores.find((s) => s.id === "invoices")
      expect(invoices?.warnings.map((w) => w.code)).toEqual(["heartland-invoices"])
      expect(invoices?.lastPoll).toBeNull()

      const text = JSON.stringify(status)
      for (const secret of Object.values(env)) expect(text).not.toContain(secret)
    })
  )

  it.scopedLive("refuses callers without the admin's credentials", () =>
    Effect.gen(function* () {
      const url = yield* startServer
      expect((yield* get(`${url}/admin/status`)).status).toBe(401)
      const wrong = yield* get(`${url}/admin/status`, basic("ss", env.SS_PASSWORD))
      expect(wrong.status).toBe(401)
      expect(wrong.body).not.toContain("shop")
    })
  )
})
