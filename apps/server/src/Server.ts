/**
 * The composition root: the order store on SQLite or PostgreSQL, the configured stores and their adapters,
 * this process as a cluster runner (each store an entity run by the runner owning its shard: its sync loop and
 * "sync now"), the outbox worker, the ShipStation endpoint and the operator routes on one HTTP server.
 */
import { createServer } from "node:http"
import { FileSystem, HttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { type AdapterDescriptor, OrderStore, StoreDirectory, TokenVault } from "@posbridge/core"
import { ClockCheck, ShipStationRoutes } from "@posbridge/shipstation"
import { PgStore, SqliteStore, SqlTokenVault } from "@posbridge/store-sql"
import { OutboxWorker, StoreEntity, SyncEngine } from "@posbridge/sync"
import { Context, DateTime, Duration, Effect, Layer, Option, Ref, Schedule } from "effect"
import * as AdminRoutes from "./AdminRoutes.js"
import * as Cluster from "./Cluster.js"
import * as Config from "./Config.js"
import * as ConsoleRoutes from "./console/ConsoleRoutes.js"
import * as HealthRoutes from "./HealthRoutes.js"
import * as LightspeedConnect from "./LightspeedConnect.js"
import * as Refresher from "./Refresher.js"
import * as Stores from "./Stores.js"
import * as Telemetry from "./Telemetry.js"

/** What the server is started with: its configuration and how each store reaches its POS. */
export interface ServerOptions {
  readonly config: Config.ServerConfig
  readonly builtIns: Readonly<Record<string, AdapterDescriptor.AdapterDescriptor>>
  /** Each store's HttpClient and TokenVault. */
  readonly services: (storeId: string) => Context.Context<Stores.Services>
  /** Re-read the configuration file every `interval` and apply store changes without a restart. */
  readonly reload?:
    | { readonly path: string; readonly interval: Duration.Duration; readonly env: Config.Environment }
    | undefined
  readonly sync?: SyncEngine.Options | undefined
  /** How often the ShipStation clock check looks at recent polls; default one minute. */
  readonly clockCheckInterval?: Duration.Duration | undefined
  /** Where spans go instead of OTLP (tests: an in-memory exporter); see `Telemetry.tracingLayer`. */
  readonly spanProcessor?: SpanProcessor | undefined
}

/** This process's name among the runners: the `runner` label of its metrics. */
export const runnerName = (config: Config.ServerConfig) => `${config.cluster.runnerHost}:${config.cluster.runnerPort}`

/**
 * What the process's caches may hold, whatever the number of stores (issue 16: 1,000 stores within 150 MB RSS).
 * Measured with `pnpm bench:memory --heap` at 300 stores: a decoded order ~4.5 KiB of heap, a kept export page of
 * 100 orders ~115 KiB; the libraries' defaults (10,000 orders, 64 + 128 pages) held ~60 MB. ShipStation reads
 * each page of a poll once, so these caches serve re-reads (retries, a second reader) and stay small.
 *
 * No decoded-order cache: its orders (and the field-rule checks and rendered markup the export route keeps by
 * order object) lived long enough to be promoted to V8's old generation and then died there, on every poll of
 * every store. Without it the poll benchmark's server (200 stores × 1,000 orders, SQLite, four runs each way
 * alternating, 2026-12-04) spent 4.6–5.8× the same-work baseline's CPU per later page against 5.5–6.6× with 2,000
 * orders kept, at 204–205 MB RSS against 212–215. A page read afresh costs a `JSON.parse` and `Order.fromJson`
 * per order, which the cache saved only when the same version was read again while still among the last 2,000
 * orders read by all stores. Kept pages still serve a re-read of a whole page.
 */
export const cacheSizes = { decodedOrders: 0, exportPages: 16, keptPages: 16 } as const

/** The order store the configuration names. `start` prunes it every 10 minutes, history on `historyRetention`. */
export const orderStoreLayer = (config: Config.ServerConfig): Layer.Layer<OrderStore.OrderStore, unknown> => {
  const options = {
    historyRetention: config.historyRetention,
    decodedOrderCache: cacheSizes.decodedOrders,
    exportPageCache: cacheSizes.exportPages
  }
  return config.database.engine === "sqlite"
    ? SqliteStore.layer({ filename: config.database.file, ...options })
    : PgStore.layer({ url: config.database.url, ...options })
}

/**
 * What `start` runs on: the order store, the sync engine running only the stores this runner owns, and this
 * process as a runner of the cluster (one runner on SQLite).
 */
export const runtimeLayer = (config: Config.ServerConfig, sync: SyncEngine.Options = {}) =>
  Layer.mergeAll(SyncEngine.layer({ ...sync, onlyHeld: true }), Cluster.layer(config)).pipe(
    Layer.provideMerge(orderStoreLayer(config))
  )

const specs = (stores: ReadonlyMap<string, Stores.StoreRuntime>): ReadonlyArray<SyncEngine.StoreSpec> =>
  Array.from(stores.values(), (s) => ({
    settings: s.settings,
    source: s.source,
    intervalMillis: Duration.toMillis(s.entry.syncInterval),
    lookbackDays: s.entry.lookbackDays,
    secrets: s.secrets
  }))

/** Everything but the listening socket; `serve` adds the HTTP server. Scoped: closing it stops all fibers. */
export const start = (options: ServerOptions) =>
  Effect.gen(function* () {
    const registry = yield* Stores.make
    const engine = yield* SyncEngine.SyncEngine
    const store = yield* OrderStore.OrderStore
    const ready = yield* Ref.make(false)
    const clockWarnings = yield* Ref.make<ReadonlyMap<string, string>>(new Map())

    const applyConfig = (config: Config.ServerConfig) =>
      Effect.gen(function* () {
        const result = yield* Stores.apply(registry, config.stores, {
          builtIns: options.builtIns,
          services: options.services,
          configProblems: config.storeProblems
        })
        yield* engine.setStores(specs(yield* Ref.get(registry.stores)))
        return result
      })
    yield* applyConfig(options.config)

    // Each configured store runs on the runner that owns its shard, as the store's entity: its syncs and its
    // write-back deliveries, one delivery per store with items due, so a slow POS delays only its own
    // write-backs. The runner's one look for due items (every second) starts them.
    const outboxOptions: OutboxWorker.Options = {
      sourceFor: Stores.sourceFor(registry),
      maxAttempts: options.config.outbox.maxAttempts,
      initialBackoff: options.config.outbox.initialBackoff,
      maxBackoff: options.config.outbox.maxBackoff,
      // Only the store's owner delivers, one item at a time, so the lease matters only when a runner dies
      // mid-delivery: the new owner takes the item again once it ends. A minute is four times a slow Lightspeed
      // write-back (~15 s) and keeps a failover from holding a notice back for five.
      leaseFor: Duration.minutes(1)
    }
    const deliveries = yield* OutboxWorker.deliveries(outboxOptions)
    yield* Layer.build(StoreEntity.layer({ writeBacks: deliveries.hold }))
    yield* Effect.forkScoped(
      StoreEntity.activator(Effect.map(Ref.get(registry.stores), (stores) => Array.from(stores.keys())))
    )
    const entities = yield* StoreEntity.client

    // ShipStation asked to refresh a store (its REST API): each API key's calls on the runner owning the key.
    const refreshWarnings = yield* Ref.make<ReadonlyMap<string, string>>(new Map())
    // Set on the export path (a page carrying new versions): a map updated in place, not copied per page.
    const saveToPoll = new Map<string, { readonly seconds: number; readonly at: string }>()
    const refreshOptions: Refresher.Options = {
      settingsOf: Refresher.settingsFrom(registry.stores),
      warnings: refreshWarnings
    }
    yield* Layer.build(Refresher.layer(refreshOptions).pipe(Layer.provide(Layer.succeed(OrderStore.OrderStore, store))))
    const refresher = yield* Refresher.client(refreshOptions)
    const joined = yield* Cluster.joined(options.config.cluster)

    // Metrics on their own listener; the per-store gauges of the stores this runner owns, refreshed in the
    // background (a scrape reads no database).
    const ownedStores = Effect.flatMap(Ref.get(registry.stores), (stores) =>
      Effect.filter(Array.from(stores.keys()), (id) => engine.isHeld(id))
    )
    yield* Effect.forkScoped(Telemetry.refreshStoreGauges(options.config.metrics.refresh, ownedStores))
    yield* engine.afterEachRun((storeId, _run, stats) => refresher.arrived(storeId, stats))
    const metrics = yield* Telemetry.serveMetrics(
      options.config.metrics,
      runnerName(options.config),
      // Read at each scrape, in memory: a store handed to another runner stops being reported here at once.
      () => new Set(Effect.runSync(ownedStores))
    )

    if (options.reload) {
      const { path, interval, env } = options.reload
      const fs = yield* FileSystem.FileSystem
      let lastText = yield* fs.readFileString(path).pipe(Effect.orElseSucceed(() => ""))
      yield* Effect.gen(function* () {
        const text = yield* fs.readFileString(path).pipe(Effect.orElseSucceed(() => lastText))
        if (text === lastText) return
        lastText = text
        const next = yield* Config.decodeFile(text, path).pipe(
          Effect.flatMap((file) => Config.resolve(file, path, env, options.config.dataDir)),
          Effect.either
        )
        if (next._tag === "Left") {
          yield* Effect.logError(`configuration change not applied: ${next.left.message}`)
          return
        }
        const r = yield* applyConfig(next.right)
        yield* Effect.logInfo(
          `configuration reloaded: ${r.started.length} store(s) started, ${r.stopped.length} stopped, ${r.unchanged.length} unchanged`
        )
      }).pipe(Effect.repeat(Schedule.spaced(interval)), Effect.forkScoped)
    }

    // ShipStation clock check: once a minute (by default), warn once per store when its windows look like another zone.
    yield* Effect.gen(function* () {
      const stores = yield* Ref.get(registry.stores)
      const before = yield* Ref.get(clockWarnings)
      const next = new Map<string, string>()
      for (const s of stores.values()) {
        const polls = yield* store.polls(s.settings.id, 20).pipe(Effect.orElseSucceed(() => []))
        const w = ClockCheck.warning(polls, s.settings.timeZone)
        if (w) {
          next.set(s.settings.id, w.message)
          if (!before.has(s.settings.id)) yield* Effect.logWarning(`store ${s.settings.id}: ${w.message}`)
        }
      }
      yield* Ref.set(clockWarnings, next)
    }).pipe(Effect.repeat(Schedule.spaced(options.clockCheckInterval ?? Duration.minutes(1))), Effect.forkScoped)

    yield* store.pruneSnapshots.pipe(
      Effect.catchAll((e) => Effect.logWarning("pruning snapshots and old history failed", e)),
      Effect.repeat(Schedule.spaced(Duration.minutes(10))),
      Effect.forkScoped
    )

    const oauthRoutes = HttpRouter.empty.pipe(
      LightspeedConnect.callbackRoute({
        entryOf: (storeId) =>
          Effect.map(Ref.get(registry.stores), (m) => Option.map(Option.fromNullable(m.get(storeId)), (s) => s.entry)),
        clientFor: (storeId) => Context.get(options.services(storeId), HttpClient.HttpClient),
        vault: Effect.sync(() => Context.get(options.services(""), TokenVault.TokenVault)),
        connected: (storeId) => entities.syncNow(storeId).pipe(Effect.ignore)
      })
    )

    const adminOptions: AdminRoutes.Options = {
      admin: options.config.admin,
      stores: registry.stores,
      clockWarnings,
      refreshWarnings,
      saveToPoll,
      refresh: (storeId, posRef) => refresher.request(storeId, "touch", Option.some(posRef)),
      syncNow: entities.syncNow,
      ownerOf: entities.ownerOf,
      syncStatusOf: (storeId) =>
        engine.status(storeId).pipe(
          Effect.map(Option.some),
          Effect.orElseSucceed(() => Option.none())
        )
    }
    const routes = ShipStationRoutes.router({
      keptPages: cacheSizes.keptPages,
      onSaveToPoll: (storeId, seconds) =>
        Effect.map(DateTime.now, (now) => {
          saveToPoll.set(storeId, { seconds, at: DateTime.formatIso(now) })
        })
    }).pipe(
      HttpRouter.concat(HealthRoutes.router(ready, joined)),
      HttpRouter.concat(AdminRoutes.router(adminOptions)),
      HttpRouter.concat(
        ConsoleRoutes.router({
          ...adminOptions,
          connect: (storeId, publicUrl) =>
            Effect.gen(function* () {
              const running = (yield* Ref.get(registry.stores)).get(storeId)
              if (!running) return yield* Effect.fail(`There is no store "${storeId}" on this server.`)
              return yield* LightspeedConnect.begin(running.entry, publicUrl).pipe(
                Effect.provideService(
                  TokenVault.TokenVault,
                  Context.get(options.services(storeId), TokenVault.TokenVault)
                )
              )
            })
        })
      ),
      HttpRouter.concat(oauthRoutes),
      HttpRouter.provideService(StoreDirectory.StoreDirectory, registry.directory),
      HttpRouter.provideService(OrderStore.OrderStore, store)
    )
    yield* Ref.set(ready, true)
    return { registry, routes, ready, clockWarnings, applyConfig, metrics }
  })

/**
 * The listening socket's server. Idle keep-alive connections stay open 65 s (Node's default is 5 s): a client
 * that sends its next request on a connection the server is closing at that moment gets a connection reset, and
 * load balancers (60 s idle by default) and ShipStation's client reuse connections. Headers must arrive within
 * 66 s (Node wants it above the keep-alive timeout).
 */
const httpServer = () => {
  const server = createServer()
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  return server
}

/** Starts everything and listens on `config.port` until interrupted; shuts down gracefully. */
export const serve = (options: ServerOptions) =>
  Effect.gen(function* () {
    const { routes } = yield* start(options)
    yield* Layer.launch(
      // No request logger: ShipStation may put SS-Password in the query string.
      HttpServer.serve(routes).pipe(
        HttpServer.withLogAddress,
        Layer.provide(NodeHttpServer.layer(httpServer, { port: options.config.port }))
      )
    )
  }).pipe(
    Effect.scoped,
    Effect.provide(runtimeLayer(options.config, options.sync)),
    Effect.provide(Telemetry.tracingLayer(process.env, options.spanProcessor))
  )

/**
 * The TokenVault of configured stores: secrets encrypted with `encryptionKey` (AES-GCM) in the order store's
 * database. Without a key nothing can be stored; configuration already refuses Lightspeed stores then.
 */
export const vaultFor = (config: Config.ServerConfig) =>
  Effect.gen(function* () {
    const key = config.encryptionKey
    if (key === undefined) {
      const missing = "posbridge has no encryptionKey configured, so it cannot keep POS tokens"
      const vault: TokenVault.TokenVaultService = {
        get: () => Effect.succeed(Option.none()),
        set: () => Effect.dieMessage(missing),
        compareAndSet: () => Effect.dieMessage(missing)
      }
      return vault
    }
    const client =
      config.database.engine === "sqlite"
        ? SqliteStore.layerClient({ filename: config.database.file })
        : PgStore.layerClient({ url: config.database.url })
    const context = yield* Layer.build(SqlTokenVault.layer({ key }).pipe(Layer.provide(client)))
    return Context.get(context, TokenVault.TokenVault)
  })
