/** Shared test wiring: an in-memory TokenVault that logs its writes, and the simulator as an in-process client. */
import * as HttpClient from "@effect/platform/HttpClient"
import {
  type Order,
  type PosSource,
  type SourceDocument,
  StoreId,
  type StoreSettings,
  TokenVault
} from "@posbridge/core"
import { SimClock, SimServer } from "@posbridge/pos-testkit"
import { Chunk, DateTime, Effect, Layer, Option, Redacted, Stream } from "effect"
import * as LightspeedSource from "../src/LightspeedSource.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"

export interface VaultEvent {
  readonly _tag: "set"
  readonly name: string
  readonly value: string
}

export const makeVault = Effect.sync(() => {
  const values = new Map<string, Redacted.Redacted<string>>()
  const events: Array<VaultEvent> = []
  const write = (storeId: string, name: string, value: Redacted.Redacted<string>) => {
    values.set(`${storeId}/${name}`, value)
    events.push({ _tag: "set", name, value: Redacted.value(value) })
  }
  const service: TokenVault.TokenVaultService = {
    get: (storeId, name) => Effect.sync(() => Option.fromNullable(values.get(`${storeId}/${name}`))),
    set: (storeId, name, value) => Effect.sync(() => write(storeId, name, value)),
    compareAndSet: (storeId, name, expected, next) =>
      Effect.sync(() => {
        if (!TokenVault.sameValue(Option.fromNullable(values.get(`${storeId}/${name}`)), expected)) return false
        write(storeId, name, next)
        return true
      })
  }
  return { service, values, events, layer: Layer.succeed(TokenVault.TokenVault, service) }
})

export const storeSettings = (documentKind: "invoices" | "orders", id = "shop-1"): StoreSettings.StoreSettings => ({
  id: StoreId.StoreId.make(id),
  adapter: "lightspeed",
  documentKind,
  pageSize: 100,
  timeZone: "utc",
  shipstation: { username: "ss", password: Redacted.make("pw") },
  settings: {}
})

export const settings = (overrides: Partial<Settings.LightspeedSettings> = {}): Settings.LightspeedSettings =>
  Settings.LightspeedSettings.make({
    accountId: "12345",
    clientId: Simulator.defaultClient.clientId,
    clientSecret: Redacted.make(Simulator.defaultClient.clientSecret),
    apiBaseUrl: Settings.defaults.apiBaseUrl,
    authBaseUrl: Settings.defaults.authBaseUrl,
    changeField: "updatetime",
    markShipTo: false,
    pageLimit: 100,
    overlapSeconds: 120,
    ...overrides
  })

/** A simulator, a source connected to it (refresh token granted) and the vault. */
export const connected = (options: {
  readonly kind?: "invoices" | "orders"
  readonly simulator?: Partial<Simulator.Options>
  readonly settings?: Partial<Settings.LightspeedSettings>
  readonly source?: LightspeedSource.Options
  /** Wraps the in-process client (to inject events between requests). */
  readonly wrapHttp?: (http: HttpClient.HttpClient, control: Simulator.Control) => HttpClient.HttpClient
}) =>
  Effect.gen(function* () {
    const sim = yield* Simulator.make({ accountId: "12345", ...options.simulator })
    const inner = yield* SimServer.makeClient(sim.app)
    const http = options.wrapHttp === undefined ? inner : options.wrapHttp(inner, sim.control)
    const vault = yield* makeVault
    const refreshToken = yield* sim.control.grant()
    const conf = settings({ ...options.settings })
    const store = storeSettings(options.kind ?? "invoices")
    const internals = yield* LightspeedSource.makeWithInternals(
      store,
      { ...conf, refreshToken: Redacted.make(refreshToken) },
      {
        baseBackoff: "100 millis",
        ...options.source
      }
    ).pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.provideService(TokenVault.TokenVault, vault.service)
    )
    return { sim, http, vault, store, settings: conf, ...internals }
  })

/** Runs `effect` (the simulator and the adapter alike) on a clock `scale` times faster than real time. */
export const scaled =
  (scale: number) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.withClock(effect, SimClock.make({ scale }))

/** Hours of bucket, token and Retry-After time in seconds. */
export const fast = scaled(100)

export const since = DateTime.unsafeMake("2020-01-01T00:00:00Z")

/** Runs a pull to the end and returns its batches. */
export const pullAll = (source: PosSource.PosSourceService, cursor: Option.Option<string> = Option.none()) =>
  Stream.runCollect(source.pull(cursor, { since })).pipe(Effect.map(Chunk.toReadonlyArray))

/** Latest version of each document across batches, keyed by posRef. */
export const latest = (batches: ReadonlyArray<PosSource.PullBatch>): Map<string, SourceDocument.SourceDocument> => {
  const out = new Map<string, SourceDocument.SourceDocument>()
  for (const b of batches) for (const d of b.documents) out.set(d.order.posRef, d)
  return out
}

export const orderOf = (doc: SourceDocument.SourceDocument | undefined): Order.Order => {
  if (doc === undefined) throw new Error("no such document")
  return doc.order
}

export const line = (sku: string, quantity: number, unitPrice = "10.00", description = `Item ${sku}`) => ({
  systemSku: `2100${sku}`,
  customSku: sku,
  description,
  quantity,
  unitPrice
})

export const person = (firstName: string, lastName: string, withAddress = true): Simulator.PersonInput => ({
  firstName,
  lastName,
  ...(withAddress
    ? {
        address: { address1: "1 Main St", city: "Portland", stateCode: "OR", zip: "97205", countryCode: "US" },
        email: `${firstName.toLowerCase()}@example.com`,
        phone: "555-0100"
      }
    : {})
})
