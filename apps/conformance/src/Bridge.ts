/**
 * The server under test, started in-process so the bridge clock is controllable: posbridge's ShipStation routes
 * over the order store (memory, optionally with a mutation switch), a StoreDirectory of three Heartland stores
 * (sales orders and invoices of one merchant, and a second merchant) fed by one Heartland simulator with two
 * accounts through the adapter, and the outbox worker's delivery step. It listens on 127.0.0.1 on a random port;
 * ShipStation's side talks to it over real HTTP. Every fiber of the server reads the bridge clock, which only
 * moves when a scenario moves it.
 *
 * What the oracle needs comes from outside the store: the simulator's change log and the `timeline` of the
 * harness's own syncs, touches and polls (PosOracle).
 */
import { createServer } from "node:http"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import { NodeHttpServer } from "@effect/platform-node"
import {
  ContentHash,
  MemoryOrderStore,
  OrderStore,
  PosSource,
  type SourceDocument,
  StoreDirectory,
  StoreId,
  type StoreSettings,
  TokenVault
} from "@posbridge/core"
import { type ChangeLog, PosOracle, SimClock, SimServer } from "@posbridge/pos-testkit"
import { ShipStationRoutes } from "@posbridge/shipstation"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Simulator as HeartlandSimulator } from "@posbridge/source-heartland/testing"
import { OutboxWorker } from "@posbridge/sync"
import { Context, DateTime, Duration, Effect, Layer, Option, Redacted, Schema, Stream } from "effect"

/**
 * A deliberate bug, to show the checks catch it: `stamp` stamps with the POS modified time, `offset` pages by
 * plain offsets (both store switches), `resave` treats a POS re-save as unchanged (what a refresh rule that
 * ignores the POS modified time does; emulated at ingest, so core stays as it is).
 */
export type Mutation = "stamp" | "offset" | "resave"

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
  /** The simulator account the store sends from. */
  readonly account: string
}

export const stores = {
  orders: { id: "hl-orders", username: "ss-orders", password: "pw-orders", kind: "orders", account: "main" },
  invoices: { id: "hl-invoices", username: "ss-invoices", password: "pw-invoices", kind: "invoices", account: "main" },
  other: { id: "hl-other", username: "ss-other", password: "pw-other", kind: "orders", account: "other" }
} as const satisfies Record<string, StoreAccess>

/** The store that exports a POS document. */
export const storeOf: PosOracle.StoreOf = (change) =>
  Object.values(stores).find((s) => s.account === change.account && s.kind === change.kind)?.id

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
    const settingsOf = (s: StoreAccess): StoreSettings.StoreSettings => ({
      id: StoreId.StoreId.make(s.id),
      adapter: "heartland",
      documentKind: s.kind,
      pageSize,
      timeZone: "utc",
      shipstation: { username: s.username, password: Redacted.make(s.password) },
      settings: { baseUrl: `http://heartland.sim/${s.account}`, apiToken: "sim-token", perPage: 50 }
    })
    const sim = yield* HeartlandSimulator.make({ token: "sim-token", accounts: ["main", "other"] })
    const client = yield* SimServer.makeClient(sim.app)
    const all = Object.values(stores).map((access) => ({ access, settings: settingsOf(access), http: client }))
    const vault = TokenVault.TokenVault.of({
      get: () => Effect.succeedNone,
      set: () => Effect.void,
      compareAndSet: () => Effect.succeed(true)
    })
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

    const since = DateTime.unsafeMake(Date.parse("2024-01-01T00:00:00Z"))
    /** The `resave` mutation: a document whose content is unchanged keeps the stored POS modified time. */
    const hideResave = (storeId: string) => (d: SourceDocument.SourceDocument) =>
      Effect.map(store.find(storeId, d.order.posRef), (found) =>
        Option.isSome(found) && found.value.contentHash === ContentHash.ofOrder(d.order)
          ? { ...d, order: { ...d.order, posModifiedAt: found.value.order.posModifiedAt } }
          : d
      )
    const timeline = PosOracle.makeTimeline(sim.changes, storeOf)

    /** One sync run, as the sync engine does it: pull from the committed cursor, commit each batch with its cursor. */
    const sync = (storeId: string) =>
      Effect.gen(function* () {
        timeline.mark({ type: "sync", storeId, at: clock.now() })
        const source = sources.get(storeId)!
        const kind = all.find((s) => s.access.id === storeId)!.access.kind
        const cursor = yield* store.cursor(storeId)
        yield* Stream.runForEach(source.pull(cursor, { since }), (batch) =>
          Effect.flatMap(
            options.mutation === "resave"
              ? Effect.forEach(batch.documents, hideResave(storeId))
              : Effect.succeed(batch.documents),
            (documents) => store.ingest({ id: storeId, kind }, documents, Option.some(batch.cursor))
          )
        )
      }).pipe(Effect.orDie)

    /**
     * The operator's touch; false when the bridge has no such order yet. The timeline has it either way: an order
     * the POS has must reach ShipStation after the touch, whatever the store answers.
     */
    const touch = (storeId: string, posRef: string) =>
      Effect.gen(function* () {
        timeline.mark({ type: "touch", storeId, posRef, at: clock.now() })
        yield* store.touch(storeId, posRef)
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

    const changes: ChangeLog.ChangeLog = sim.changes
    return {
      url,
      clock,
      store,
      pos: sim.control,
      otherPos: sim.account("other")!,
      changes,
      timeline,
      sync,
      touch,
      deliverOutbox
    }
  })

export type Bridge = Effect.Effect.Success<ReturnType<typeof make>>
