import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpClient, HttpServer } from "@effect/platform"
import { NodeContext, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, Order, OrderStore, StoreId, TokenVault } from "@posbridge/core"
import type { SyncStatus } from "@posbridge/sync"
import { Console, Context, DateTime, Effect, Layer, Logger, LogLevel, Option, Ref } from "effect"
import * as AdminRoutes from "../src/AdminRoutes.js"
import * as Cli from "../src/Cli.js"
import * as Config from "../src/Config.js"
import * as ConfigSource from "../src/ConfigSource.js"
import * as Stores from "../src/Stores.js"

/**
 * Acceptance 2 of issue 17: the command line's `explain`, `touch` and `sync` answer with the server's admin
 * handlers, not with code of their own. The server's order store (and its sync) are swapped for ones that answer
 * values nothing else produces; the same values must come out of the HTTP API and of the CLI's output.
 */
const sentinel = {
  orderNumber: "SENTINEL-7F3A-ORDER",
  heldReason: "sentinel reason 5c1e: only the swapped store says this",
  touchedNumber: "SENTINEL-TOUCHED-91B2",
  syncDocuments: 424_242
}

const env = {
  SENTINEL_SS_PASSWORD: "ss-sentinel-pw",
  SENTINEL_HL_TOKEN: "hl-sentinel-token",
  SENTINEL_ADMIN_PASSWORD: "admin-sentinel-pw"
}

const configText = (port: number) =>
  JSON.stringify({
    port,
    admin: { username: "admin", password: { env: "SENTINEL_ADMIN_PASSWORD" } },
    stores: [
      {
        id: "shop",
        adapter: "heartland",
        documentKind: "orders",
        shipstation: { username: "ss", password: { env: "SENTINEL_SS_PASSWORD" } },
        settings: { baseUrl: "http://heartland.invalid", apiToken: { env: "SENTINEL_HL_TOKEN" } },
        syncIntervalSeconds: 86_400
      }
    ]
  })

const order = Order.decodeSync({
  storeId: "shop",
  kind: "orders",
  posRef: "77",
  orderNumber: "1077",
  orderDate: "2026-11-01T09:00:00.000Z",
  posModifiedAt: "2026-11-01T09:30:00.000Z",
  status: "paid",
  customerCode: "C-77",
  billTo: { name: "Ada" },
  shipTo: { name: "Ada", address1: "1 Main St", city: "Springfield", state: "IL", country: "US" },
  lines: [{ lineId: "77-1", sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: "10.00" }],
  orderTotal: "10.00"
})

/** A real in-memory order store whose `explain` and `touch` answer the sentinels instead of the truth. */
const sentinelStore = Effect.gen(function* () {
  const base = yield* MemoryOrderStore.make()
  yield* base.ingest({ id: StoreId.StoreId.make("shop"), kind: "orders" }, [{ order }], Option.none())
  const swapped: OrderStore.OrderStoreService = {
    ...base,
    explain: (storeId, o) =>
      Effect.map(base.explain(storeId, o), (ex) => ({
        ...ex,
        current: {
          ...ex.current,
          order: { ...ex.current.order, orderNumber: sentinel.orderNumber },
          heldReasons: [sentinel.heldReason]
        }
      })),
    touch: (storeId, o) =>
      Effect.map(base.touch(storeId, o), (t) => ({ ...t, order: { ...t.order, orderNumber: sentinel.touchedNumber } }))
  }
  return swapped
})

const serve = (port: number, file: string) =>
  Effect.gen(function* () {
    const fileConfig = yield* Config.decodeFile(configText(port), file)
    const config = yield* Config.resolve(fileConfig, file, env, "/tmp")
    const registry = yield* Stores.make
    const vault = yield* TokenVault.makeMemory
    yield* Stores.apply(registry, config.stores, {
      builtIns: ConfigSource.builtIns,
      services: () =>
        Context.make(TokenVault.TokenVault, vault).pipe(
          Context.add(
            HttpClient.HttpClient,
            HttpClient.make(() => Effect.dieMessage("no POS in this test"))
          )
        )
    })
    const at = yield* DateTime.now
    const run: SyncStatus.RunResult = {
      storeId: "shop",
      run: 1,
      outcome: "succeeded",
      startedAt: at,
      finishedAt: at,
      pages: 1,
      documents: sentinel.syncDocuments,
      error: Option.none()
    }
    const routes = AdminRoutes.router({
      admin: config.admin,
      stores: registry.stores,
      clockWarnings: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
      syncNow: () => Effect.succeed(run)
    }).pipe(Effect.provideService(OrderStore.OrderStore, yield* sentinelStore))
    yield* Layer.build(
      HttpServer.serve(routes).pipe(Layer.provide(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" })))
    )
  })

/** Runs `posbridge …args` in this process and returns what it printed. */
const cli = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    yield* Console.consoleWith((console) =>
      Cli.run(["node", "posbridge", ...args]).pipe(
        Effect.withConsole({
          ...console,
          log: (...parts: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(parts.join(" ")))
        })
      )
    )
    return printed.join("\n")
  })

const api = (url: string, path: string, init: { method?: string; body?: unknown } = {}) =>
  Effect.promise(async () => {
    const r = await fetch(`${url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Basic ${btoa(`admin:${env.SENTINEL_ADMIN_PASSWORD}`)}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
    })
    return { status: r.status, body: await r.text() }
  })

describe("the command line and the admin API answer with the same handlers", () => {
  it.scopedLive(
    "explain, touch and sync: a value only the swapped order store gives shows in the HTTP answer and in the CLI",
    () =>
      Effect.gen(function* () {
        Object.assign(process.env, env)
        const port = yield* Effect.promise(() => import("@posbridge/e2e/Processes").then((p) => p.freePort()))
        const dir = mkdtempSync(join(tmpdir(), "posbridge-sentinel-"))
        const file = join(dir, "posbridge.config.json")
        writeFileSync(file, configText(port))
        yield* serve(port, file)
        const url = `http://127.0.0.1:${port}`
        const at = ["--config", file, "--server", url, "--store", "shop"]

        const explained = yield* api(url, "/admin/api/stores/shop/explain?order=1077")
        expect(explained.status).toBe(200)
        expect(JSON.parse(explained.body).order.orderNumber).toBe(sentinel.orderNumber)
        expect(JSON.parse(explained.body).heldReasons).toEqual([sentinel.heldReason])
        const explainOut = yield* cli(["explain", ...at, "--order", "1077"])
        expect(explainOut).toContain(`Order ${sentinel.orderNumber} (POS id 77, orders) in store shop`)
        expect(explainOut).toContain(`    - ${sentinel.heldReason}`)

        const touched = yield* api(url, "/admin/api/stores/shop/touch", { method: "POST", body: { order: "1077" } })
        expect(touched.status).toBe(200)
        expect(JSON.parse(touched.body).orderNumber).toBe(sentinel.touchedNumber)
        const touchOut = yield* cli(["touch", ...at, "--order", "1077"])
        expect(touchOut).toContain(`Order ${sentinel.touchedNumber} of shop refreshed`)

        const synced = yield* api(url, "/admin/api/stores/shop/sync", { method: "POST" })
        expect(synced.status).toBe(200)
        expect(JSON.parse(synced.body).documents).toBe(sentinel.syncDocuments)
        const syncOut = yield* cli(["sync", ...at])
        expect(syncOut).toContain(`shop: succeeded, ${sentinel.syncDocuments} documents in 1 pages`)
      }).pipe(Logger.withMinimumLogLevel(LogLevel.None), Effect.provide(NodeContext.layer))
  )
})
