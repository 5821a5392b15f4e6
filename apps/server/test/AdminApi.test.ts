import { createServer } from "node:http"
import { HttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeFileSystem, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, OrderStore, TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Simulator as Heartland } from "@posbridge/source-heartland/testing"
import { SyncEngine } from "@posbridge/sync"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Context, DateTime, Duration, Effect, Layer, Logger, LogLevel, Option, Ref } from "effect"
import * as AdminClient from "../src/AdminClient.js"
import * as AdminRoutes from "../src/AdminRoutes.js"
import * as Config from "../src/Config.js"
import * as ConfigSource from "../src/ConfigSource.js"
import * as Stores from "../src/Stores.js"

const env = { SS_PASSWORD: "ss-secret-pw", HL_TOKEN: "hl-token-secret", ADMIN_PASSWORD: "admin-secret-pw" }
const owner = "runner-b.internal:34431"

const configFile = (withAdmin: boolean) => ({
  ...(withAdmin ? { admin: { username: "admin", password: { env: "ADMIN_PASSWORD" } } } : {}),
  stores: [
    {
      id: "shop",
      adapter: "heartland",
      documentKind: "orders",
      shipstation: { username: "ss", password: { env: "SS_PASSWORD" } },
      settings: { baseUrl: "http://heartland.sim", apiToken: { env: "HL_TOKEN" } },
      syncIntervalSeconds: 86_400
    }
  ]
})

/**
 * The admin router (the API and the older routes) over a real order store, fed by a real sync engine pulling a
 * Heartland simulator, on a random port. `syncNow` is the engine's, counted; `ownerDown` makes it fail as the
 * cluster does when the owner runner does not answer.
 */
const startAdmin = (options: { readonly withAdmin?: boolean } = {}) =>
  Effect.flatMap(
    // Built in the test's scope: the engine keeps running until the test ends.
    Layer.build(
      SyncEngine.layer({}).pipe(Layer.provideMerge(MemoryOrderStore.layer()), Layer.provideMerge(NodeFileSystem.layer))
    ),
    (context) => Effect.provide(serveAdmin(options), context)
  ).pipe(Logger.withMinimumLogLevel(process.env.TEST_LOGS ? LogLevel.Debug : LogLevel.None))

const serveAdmin = (options: { readonly withAdmin?: boolean }) =>
  Effect.gen(function* () {
    const file = yield* Config.decodeFile(JSON.stringify(configFile(options.withAdmin ?? true)), "admin-api.json")
    const config = yield* Config.resolve(file, "admin-api.json", env, "/tmp")
    const sim = yield* Heartland.make({ token: env.HL_TOKEN })
    const seeded = yield* Heartland.seedDemo(sim.control, { seed: 3, orders: 4 })
    const client = yield* SimServer.makeClient(sim.app)
    const vault = yield* TokenVault.makeMemory
    const registry = yield* Stores.make
    yield* Stores.apply(registry, config.stores, {
      builtIns: ConfigSource.builtIns,
      services: () => Context.make(TokenVault.TokenVault, vault).pipe(Context.add(HttpClient.HttpClient, client))
    })
    const engine = yield* SyncEngine.SyncEngine
    yield* engine.setStores(
      Array.from((yield* Ref.get(registry.stores)).values(), (s) => ({
        settings: s.settings,
        source: s.source,
        intervalMillis: Duration.toMillis(s.entry.syncInterval),
        lookbackDays: s.entry.lookbackDays
      }))
    )
    const syncCalls: Array<string> = []
    const ownerDown = yield* Ref.make(false)
    const store = yield* OrderStore.OrderStore
    const routes = AdminRoutes.router({
      admin: config.admin,
      stores: registry.stores,
      clockWarnings: yield* Ref.make<ReadonlyMap<string, string>>(new Map()),
      syncNow: (storeId) =>
        Effect.gen(function* () {
          syncCalls.push(storeId)
          if (yield* Ref.get(ownerDown)) {
            return yield* Effect.fail({
              _tag: "OwnerUnavailable" as const,
              message: `The runner that owns store "${storeId}" did not answer; try again in a few seconds.`
            })
          }
          return yield* engine.syncNow(storeId)
        }),
      ownerOf: (storeId) => Effect.succeed(storeId === "shop" ? Option.some(owner) : Option.none())
    }).pipe(HttpRouter.provideService(OrderStore.OrderStore, store))
    const server = yield* Layer.build(
      HttpServer.serve(routes).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
    )
    const address = Context.get(server, HttpServer.HttpServer).address
    const url =
      address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : yield* Effect.dieMessage("no TCP address")
    const target: AdminClient.Target = { url, admin: config.admin, source: "admin-api.json" }
    // The POS id of a seeded order (explain and touch find an order by POS id, then by order number).
    const posId = String(seeded.orders[0]?.id)
    return { url, target, store, syncCalls, ownerDown, posId }
  })

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`
const admin = basic("admin", env.ADMIN_PASSWORD)

const request = (url: string, init: { method?: string; authorization?: string } = {}) =>
  Effect.promise(async () => {
    const r = await fetch(url, {
      method: init.method ?? "GET",
      headers: init.authorization ? { authorization: init.authorization } : {}
    })
    return { status: r.status, headers: r.headers, body: await r.text() }
  })

describe("the admin API", () => {
  it.scopedLive("lists the stores with their owner, the same JSON GET /admin/status answers", () =>
    Effect.gen(function* () {
      const { url, target } = yield* startAdmin()
      const listed = yield* AdminClient.call(target, "list the stores", (c) => c.stores.list())
      expect(listed.stores.map((s) => [s.id, s.owner, s.adapter, s.documentKind])).toEqual([
        ["shop", owner, "heartland", "orders"]
      ])
      const api = yield* request(`${url}/admin/api/stores`, { authorization: admin })
      const old = yield* request(`${url}/admin/status`, { authorization: admin })
      expect(api.status).toBe(200)
      expect(old.status).toBe(200)
      expect(JSON.parse(api.body)).toEqual(JSON.parse(old.body))
      for (const secret of Object.values(env)) expect(api.body).not.toContain(secret)
    })
  )

  it.scopedLive("sync now calls the store's syncNow, through the API and the older route alike", () =>
    Effect.gen(function* () {
      const { url, target, syncCalls } = yield* startAdmin()
      const run = yield* AdminClient.call(target, "sync store shop", (c) =>
        c.stores.sync({ path: { storeId: "shop" } })
      )
      expect(run.outcome).toBe("succeeded")
      expect(run.storeId).toBe("shop")
      expect(syncCalls).toEqual(["shop"])
      const old = yield* request(`${url}/admin/stores/shop/sync`, { method: "POST", authorization: admin })
      expect(old.status).toBe(200)
      expect(JSON.parse(old.body).outcome).toBe("succeeded")
      expect(syncCalls).toEqual(["shop", "shop"])
    })
  )

  it.scopedLive("explain answers the order's timeline and touch restamps the order", () =>
    Effect.gen(function* () {
      const { target, posId } = yield* startAdmin()
      yield* AdminClient.call(target, "sync", (c) => c.stores.sync({ path: { storeId: "shop" } }))
      const before = yield* AdminClient.call(target, "explain", (c) =>
        c.stores.explain({ path: { storeId: "shop" }, urlParams: { order: posId } })
      )
      expect(before.order.posRef).toBe(posId)
      expect(before.timeline.map((e) => e.kind)).toContain("ingested")
      expect(before.timeline.map((e) => e.kind)).not.toContain("restamped")

      yield* Effect.sleep(Duration.millis(5))
      const touched = yield* AdminClient.call(target, "touch", (c) =>
        c.stores.touch({ path: { storeId: "shop" }, payload: { order: before.order.orderNumber } })
      )
      expect([touched.posRef, touched.orderNumber]).toEqual([posId, before.order.orderNumber])
      expect(Date.parse(touched.stamp)).toBeGreaterThan(Date.parse(before.stamp))
      const after = yield* AdminClient.call(target, "explain", (c) =>
        c.stores.explain({ path: { storeId: "shop" }, urlParams: { order: posId } })
      )
      expect(after.stamp).toBe(touched.stamp)
      expect(after.timeline.filter((e) => e.kind === "restamped").map((e) => e.text)).toEqual([
        expect.stringContaining("an operator refreshed it (touch)")
      ])
    })
  )

  it.scopedLive("retry makes a dead or retrying write-back due now and refuses a delivered one", () =>
    Effect.gen(function* () {
      const { target, store } = yield* startAdmin()
      const notice = (trackingNumber: string) => ({
        storeId: "shop" as never,
        orderNumber: "N-1",
        carrier: "UPS",
        trackingNumber,
        items: []
      })
      const dead = yield* store.recordShipNotice(notice("1Z-DEAD"), { key: "shop|dead", posRef: Option.some("1") })
      const fine = yield* store.recordShipNotice(notice("1Z-FINE"), { key: "shop|fine", posRef: Option.some("2") })
      const later = yield* store.recordShipNotice(notice("1Z-LATER"), { key: "shop|later", posRef: Option.some("3") })
      yield* store.claimWriteBacks({ limit: 10, leaseFor: Duration.minutes(1) })
      yield* store.failWriteBack(dead.outboxId, "the POS said 500 ten times", Option.none())
      yield* store.completeWriteBack(fine.outboxId, "fulfilled")
      const inAnHour = DateTime.add(yield* DateTime.now, { hours: 1 })
      yield* store.failWriteBack(later.outboxId, "the POS said 503", Option.some(inAnHour))
      const due = Effect.map(store.claimWriteBacks({ limit: 10, leaseFor: Duration.minutes(1) }), (items) =>
        items.map((w) => w.id)
      )
      expect(yield* due).toEqual([])

      const detail = yield* AdminClient.call(target, "detail", (c) => c.stores.detail({ path: { storeId: "shop" } }))
      expect(detail.writeBacks.map((w) => [w.id, w.state, w.lastError])).toEqual([
        [dead.outboxId, "dead", "the POS said 500 ten times"],
        [later.outboxId, "pending", "the POS said 503"]
      ])
      const retried = yield* AdminClient.call(target, "retry", (c) =>
        c.stores.retry({ path: { storeId: "shop", writeBackId: dead.outboxId } })
      )
      expect([retried.state, retried.attempts]).toEqual(["pending", 0])
      const now = yield* AdminClient.call(target, "retry", (c) =>
        c.stores.retry({ path: { storeId: "shop", writeBackId: later.outboxId } })
      )
      expect([now.state, now.attempts, Date.parse(now.nextAttemptAt) < DateTime.toEpochMillis(inAnHour)]).toEqual([
        "pending",
        0,
        true
      ])
      expect((yield* due).sort()).toEqual([dead.outboxId, later.outboxId].sort())
      const busy = yield* Effect.flip(
        AdminClient.call(target, "retry", (c) =>
          c.stores.retry({ path: { storeId: "shop", writeBackId: dead.outboxId } })
        )
      )
      expect(busy).toBe(
        `Write-back "${dead.outboxId}" of store "shop" cannot be retried: it is being delivered right now.`
      )

      const delivered = yield* Effect.flip(
        AdminClient.call(target, "retry", (c) =>
          c.stores.retry({ path: { storeId: "shop", writeBackId: fine.outboxId } })
        )
      )
      expect(delivered).toBe(`Write-back "${fine.outboxId}" of store "shop" cannot be retried: it was delivered.`)
      const unknown = yield* Effect.flip(
        AdminClient.call(target, "retry", (c) => c.stores.retry({ path: { storeId: "shop", writeBackId: "outbox-x" } }))
      )
      expect(unknown).toBe('Store "shop" has no write-back "outbox-x".')
    })
  )

  it.scopedLive(
    "dismiss closes a notice that needs attention without writing back, and refuses one still pending",
    () =>
      Effect.gen(function* () {
        const { target, store } = yield* startAdmin()
        const doubtful = yield* store.recordShipNotice(
          {
            storeId: "shop" as never,
            orderNumber: "N-2",
            carrier: "UPS",
            trackingNumber: "1Z-A",
            items: [],
            problems: [{ severity: "attention", message: "Two tracking numbers: 1Z-A and 1Z-B." }]
          },
          { key: "shop|doubtful", posRef: Option.some("2") }
        )
        const pending = yield* store.recordShipNotice(
          { storeId: "shop" as never, orderNumber: "N-3", carrier: "UPS", trackingNumber: "1Z-C", items: [] },
          { key: "shop|pending", posRef: Option.some("3") }
        )
        const detail = yield* AdminClient.call(target, "detail", (c) => c.stores.detail({ path: { storeId: "shop" } }))
        expect(detail.writeBacks.map((w) => [w.state, w.notice.orderNumber, w.notice.problems])).toEqual([
          ["attention", "N-2", [{ severity: "attention", message: "Two tracking numbers: 1Z-A and 1Z-B." }]]
        ])
        const dismissed = yield* AdminClient.call(target, "dismiss", (c) =>
          c.stores.dismiss({ path: { storeId: "shop", writeBackId: doubtful.outboxId } })
        )
        expect([dismissed.state, dismissed.result]).toEqual(["done", "dismissed by the operator: nothing written back"])
        const due = yield* store.claimWriteBacks({ limit: 10, leaseFor: Duration.minutes(1) })
        expect(due.map((w) => w.id)).toEqual([pending.outboxId])
        const refused = yield* Effect.flip(
          AdminClient.call(target, "dismiss", (c) =>
            c.stores.dismiss({ path: { storeId: "shop", writeBackId: doubtful.outboxId } })
          )
        )
        expect(refused).toBe(
          `Write-back "${doubtful.outboxId}" of store "shop" cannot be dismissed: it is already closed.`
        )
      })
  )

  it.scopedLive(
    "refuses without credentials (401 with WWW-Authenticate) and names an unknown store or order (404)",
    () =>
      Effect.gen(function* () {
        const { url, target } = yield* startAdmin()
        for (const path of ["/admin/api/stores", "/admin/api/stores/shop"]) {
          const none = yield* request(`${url}${path}`)
          expect(none.status).toBe(401)
          expect(none.headers.get("www-authenticate")).toBe('Basic realm="posbridge admin"')
          const wrong = yield* request(`${url}${path}`, { authorization: basic("admin", "guess") })
          expect(wrong.status).toBe(401)
          expect(wrong.body).not.toContain("heartland")
        }
        const old = yield* request(`${url}/admin/status`)
        expect([old.status, old.headers.get("www-authenticate")]).toEqual([401, 'Basic realm="posbridge admin"'])

        const unknownStore = yield* request(`${url}/admin/api/stores/nope`, { authorization: admin })
        expect(unknownStore.status).toBe(404)
        expect(JSON.parse(unknownStore.body).message).toBe('There is no store "nope" on this server.')
        const unknownOrder = yield* Effect.flip(
          AdminClient.call(target, "explain", (c) =>
            c.stores.explain({ path: { storeId: "shop" }, urlParams: { order: "<script>1003" } })
          )
        )
        expect(unknownOrder).toBe(
          'Store "shop" has no order "<script>1003" (looked up by POS id, then by order number).'
        )
        const raw = yield* request(`${url}/admin/api/stores/shop/explain?order=%3Cscript%3E`, { authorization: admin })
        expect([raw.status, raw.headers.get("content-type")]).toEqual([404, "application/json"])
      })
  )

  it.scopedLive("answers 403 when the configuration has no admin, and 503 when the owner does not answer", () =>
    Effect.gen(function* () {
      const disabled = yield* startAdmin({ withAdmin: false })
      const refused = yield* request(`${disabled.url}/admin/api/stores`, { authorization: admin })
      expect(refused.status).toBe(403)
      expect(JSON.parse(refused.body).message).toBe(
        "Admin actions are disabled: set admin credentials in the configuration."
      )

      const { url, target, ownerDown } = yield* startAdmin()
      yield* Ref.set(ownerDown, true)
      const api = yield* Effect.flip(
        AdminClient.call(target, "sync", (c) => c.stores.sync({ path: { storeId: "shop" } }))
      )
      expect(api).toBe('The runner that owns store "shop" did not answer; try again in a few seconds.')
      const old = yield* request(`${url}/admin/stores/shop/sync`, { method: "POST", authorization: admin })
      expect(old.status).toBe(503)
      const raw = yield* request(`${url}/admin/api/stores/shop/sync`, { method: "POST", authorization: admin })
      expect(raw.status).toBe(503)
    })
  )

  it.scopedLive("serves its OpenAPI document, listing every endpoint behind HTTP Basic", () =>
    Effect.gen(function* () {
      const { url } = yield* startAdmin()
      const doc = yield* request(`${url}/admin/api/openapi.json`)
      expect(doc.status).toBe(200)
      const spec = JSON.parse(doc.body) as {
        openapi: string
        paths: Record<string, Record<string, unknown>>
        components: { securitySchemes: Record<string, { type: string; scheme: string }> }
      }
      expect(spec.openapi).toMatch(/^3\./)
      // Checked against the OpenAPI 3 JSON Schema by a validator of its own, not by the code that wrote it.
      const validated = yield* Effect.promise(() => new Validator().validate(JSON.parse(doc.body)))
      expect(validated.errors ?? [], JSON.stringify(validated.errors)).toEqual([])
      expect(validated.valid).toBe(true)
      expect(
        Object.entries(spec.paths)
          .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
          .sort()
      ).toEqual([
        "GET /admin/api/stores",
        "GET /admin/api/stores/{storeId}",
        "GET /admin/api/stores/{storeId}/explain",
        "POST /admin/api/stores/{storeId}/sync",
        "POST /admin/api/stores/{storeId}/touch",
        "POST /admin/api/stores/{storeId}/write-backs/{writeBackId}/dismiss",
        "POST /admin/api/stores/{storeId}/write-backs/{writeBackId}/retry"
      ])
      expect(Object.values(spec.components.securitySchemes)).toEqual([{ type: "http", scheme: "basic" }])
    })
  )
})
