/**
 * The server under test, started in-process so the bridge clock is controllable: posbridge's ShipStation routes
 * over the order store (memory, optionally with a mutation switch), a StoreDirectory of three Heartland stores
 * (sales orders, invoices, and a second merchant) fed by the Heartland simulator through its adapter, and the
 * outbox worker's delivery step. It listens on 127.0.0.1 on a random port; ShipStation's side talks to it over
 * real HTTP. Every fiber of the server reads the bridge clock, which only moves when a scenario moves it.
 */
import { createServer } from "node:http"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import { NodeHttpServer } from "@effect/platform-node"
import {
  MemoryOrderStore,
  OrderStore,
  PosSource,
  StoreDirectory,
  StoreId,
  type StoreSettings,
  TokenVault
} from "@posbridge/core"
import { SimClock, SimServer } from "@posbridge/pos-testkit"
import { ShipStationRoutes } from "@posbridge/shipstation"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Simulator as HeartlandSimulator } from "@posbridge/source-heartland/testing"
import { OutboxWorker } from "@posbridge/sync"
import { Context, DateTime, Duration, Effect, Layer, Option, Redacted, Schema, Stream } from "effect"

export type Mutation = "stamp" | "offset"

/** The bridge clock: stands still until a scenario moves it; sleeps still take real time (timeouts, backoff). */
export interface BridgeClock {
  readonly now: () => number
  readonly set: (millis: number) => void
  readonly advance: (millis: number) => void
  readonly clock: SimClock.SimClock
}

export const makeClock = (startMillis: number): BridgeClock => {
  const clock = SimClock.make({ start: startMillis, scale: 0, sleeps: "base" })
  return { now: () => clock.now, set: (millis) => clock.set(millis), advance: (millis) => clock.jump(millis), clock }
}

export interface StoreAccess {
  readonly id: string
  readonly username: string
  readonly password: string
  readonly kind: "orders" | "invoices"
}

export const stores = {
  orders: { id: "hl-orders", username: "ss-orders", password: "pw-orders", kind: "orders" },
  invoices: { id: "hl-invoices", username: "ss-invoices", password: "pw-invoices", kind: "invoices" },
  other: { id: "hl-other", username: "ss-other", password: "pw-other", kind: "orders" }
} as const satisfies Record<string, StoreAccess>

/** A new version the bridge ingested: `posRef` changed at bridge time `at`. */
export interface Version {
  readonly storeId: string
  readonly posRef: string
  readonly at: number
  readonly why: string
}

export interface Options {
  readonly mutation?: Mutation | undefined
  readonly pageSize?: number | undefined
  readonly startMillis?: number | undefined
}

export const defaultStart = Date.parse("2024-06-03T09:00:00Z")

/** Scoped: the listening server and everything behind it live until the scope closes. */
export const make = (options: Options = {}) => {
  const clock = makeClock(options.startMillis ?? defaultStart)
  // Everything built here, the server's request fibers included, inherits the bridge clock.
  return Effect.withClock(build(options, clock), clock.clock)
}

const build = (options: Options, clock: BridgeClock) =>
  Effect.gen(function* () {
    const storeOptions: OrderStore.Options =
      options.mutation === "stamp"
        ? { stampRule: "posModified" }
        : options.mutation === "offset"
          ? { pagingMode: "offset" }
          : {}
    const context = yield* Layer.build(MemoryOrderStore.layer(storeOptions))
    const store = Context.get(context, OrderStore.OrderStore)

    const pageSize = options.pageSize ?? 2
    const settingsOf = (s: StoreAccess, sim: string): StoreSettings.StoreSettings => ({
      id: StoreId.StoreId.make(s.id),
      adapter: "heartland",
      documentKind: s.kind,
      pageSize,
      timeZone: "utc",
      shipstation: { username: s.username, password: Redacted.make(s.password) },
      settings: { baseUrl: `http://${sim}`, apiToken: "sim-token", perPage: 50 }
    })
    const pos = yield* HeartlandSimulator.make({ token: "sim-token" })
    const otherPos = yield* HeartlandSimulator.make({ token: "sim-token" })
    const client = yield* SimServer.makeClient(pos.app)
    const otherClient = yield* SimServer.makeClient(otherPos.app)
    const all = [
      { access: stores.orders, settings: settingsOf(stores.orders, "heartland.sim"), http: client },
      { access: stores.invoices, settings: settingsOf(stores.invoices, "heartland.sim"), http: client },
      { access: stores.other, settings: settingsOf(stores.other, "other.heartland.sim"), http: otherClient }
    ]
    const vault = TokenVault.TokenVault.of({ get: () => Effect.succeedNone, set: () => Effect.void })
    const sources = new Map<string, PosSource.PosSourceService>()
    for (const s of all) {
      const adapterSettings = Schema.decodeUnknownSync(heartland.settingsSchema)(s.settings.settings)
      const built = yield* Layer.build(heartland.layer(s.settings, adapterSettings)).pipe(
        Effect.provideService(HttpClient.HttpClient, s.http),
        Effect.provideService(TokenVault.TokenVault, vault),
        Effect.orDie
      )
      sources.set(s.access.id, Context.get(built, PosSource.PosSource))
    }
    const directory = StoreDirectory.StoreDirectory.of({
      list: Effect.succeed(all.map((s) => s.settings)),
      get: (storeId) => {
        const s = all.find((x) => x.access.id === storeId)
        return s ? Effect.succeed(s.settings) : Effect.fail(new StoreDirectory.UnknownStore({ storeId }))
      }
    })

    const routes = yield* ShipStationRoutes.make().pipe(
      Effect.provideService(OrderStore.OrderStore, store),
      Effect.provideService(StoreDirectory.StoreDirectory, directory)
    )
    const server = yield* Layer.build(
      HttpServer.serve(routes).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
    )
    const address = Context.get(server, HttpServer.HttpServer)
    const url =
      address.address._tag === "TcpAddress"
        ? `http://127.0.0.1:${address.address.port}`
        : yield* Effect.dieMessage("the server did not listen on TCP")

    const versions: Array<Version> = []
    const since = DateTime.unsafeMake(Date.parse("2024-01-01T00:00:00Z"))

    /** One sync run, as the sync engine does it: pull from the committed cursor, commit each batch with its cursor. */
    const sync = (storeId: string) =>
      Effect.gen(function* () {
        const source = sources.get(storeId)!
        const kind = all.find((s) => s.access.id === storeId)!.access.kind
        const cursor = yield* store.cursor(storeId)
        yield* Stream.runForEach(source.pull(cursor, { since }), (batch) =>
          Effect.gen(function* () {
            const before = new Map<string, number>()
            for (const d of batch.documents) {
              const found = yield* store.find(storeId, d.order.posRef)
              if (Option.isSome(found)) before.set(d.order.posRef, DateTime.toEpochMillis(found.value.ingestedAt))
            }
            yield* store.ingest({ id: storeId, kind }, batch.documents, Option.some(batch.cursor))
            for (const d of batch.documents) {
              const found = yield* store.find(storeId, d.order.posRef)
              if (Option.isNone(found)) continue
              const at = DateTime.toEpochMillis(found.value.ingestedAt)
              if (before.get(d.order.posRef) !== at) {
                versions.push({
                  storeId,
                  posRef: d.order.posRef,
                  at,
                  why: before.has(d.order.posRef) ? "restamped" : "inserted"
                })
              }
            }
          })
        )
      }).pipe(Effect.orDie)

    /** The operator's touch; false when the bridge has no such order yet. */
    const touch = (storeId: string, posRef: string) =>
      Effect.gen(function* () {
        const touched = yield* store.touch(storeId, posRef)
        versions.push({ storeId, posRef, at: DateTime.toEpochMillis(touched.ingestedAt), why: "touched" })
        return true
      }).pipe(
        Effect.catchTag("OrderNotFound", () => Effect.succeed(false)),
        Effect.orDie
      )

    const deliverOutbox = OutboxWorker.deliverDue({
      sourceFor: (storeId) => Effect.succeed(Option.fromNullable(sources.get(storeId))),
      maxAttempts: 3,
      initialBackoff: Duration.seconds(1),
      maxBackoff: Duration.seconds(10)
    }).pipe(Effect.provideService(OrderStore.OrderStore, store), Effect.orDie)

    return { url, clock, store, pos: pos.control, otherPos: otherPos.control, sync, touch, versions, deliverOutbox }
  })

export type Bridge = Effect.Effect.Success<ReturnType<typeof make>>
