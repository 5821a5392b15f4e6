/**
 * The live set of configured stores: their settings (the StoreDirectory ShipStation requests are checked
 * against), their adapters and PosSources, and their warnings. `apply` diffs a new configuration against the
 * running one, so a store added or removed in the configuration file starts or stops without a restart.
 */
import { HttpClient } from "@effect/platform"
import {
  type AdapterDescriptor,
  Metrics,
  PosSource,
  StoreDirectory,
  StoreId,
  type StoreSettings,
  type TokenVault
} from "@posbridge/core"
import { AdapterRegistry } from "@posbridge/sync"
import { Cause, Context, Duration, Effect, Exit, Layer, Option, Redacted, Ref, Scope } from "effect"
import type { ResolvedStore } from "./Config.js"

export interface StoreRuntime {
  readonly entry: ResolvedStore
  readonly settings: StoreSettings.StoreSettings
  readonly source: PosSource.PosSourceService
  readonly warnings: ReadonlyArray<StoreSettings.StoreWarning>
  readonly scope: Scope.CloseableScope
  /** Revealed secrets of this store, scrubbed from anything shown. */
  readonly secrets: ReadonlyArray<string>
}

export interface Registry {
  readonly stores: Ref.Ref<ReadonlyMap<string, StoreRuntime>>
  /** Configuration problems of stores that did not start (named store, package and field). */
  readonly problems: Ref.Ref<ReadonlyArray<string>>
  readonly directory: StoreDirectory.StoreDirectoryService
}

export type Services = HttpClient.HttpClient | TokenVault.TokenVault

export const toSettings = (entry: ResolvedStore): StoreSettings.StoreSettings => ({
  id: StoreId.StoreId.make(entry.id),
  adapter: entry.adapter,
  documentKind: entry.documentKind,
  pageSize: entry.pageSize,
  timeZone: entry.timeZone,
  shipstation: entry.shipstation,
  settings: entry.settings
})

/** Two entries are the same store setup when every field, secrets included, is equal (compared, never shown). */
const fingerprint = (e: ResolvedStore) =>
  JSON.stringify({
    ...e,
    syncInterval: Duration.toMillis(e.syncInterval),
    shipstation: { username: e.shipstation.username, password: Redacted.value(e.shipstation.password) },
    shipstationApi: e.shipstationApi && {
      ...e.shipstationApi,
      apiKey: Redacted.value(e.shipstationApi.apiKey),
      apiSecret: Redacted.value(e.shipstationApi.apiSecret),
      minInterval: Duration.toMillis(e.shipstationApi.minInterval)
    }
  })
const sameEntry = (a: ResolvedStore, b: ResolvedStore) => fingerprint(a) === fingerprint(b)

/** Replaces every revealed secret in a message shown to people. */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((t, secret) => (secret.length >= 4 ? t.split(secret).join("<redacted>") : t), text)

export const make = Effect.gen(function* () {
  const stores = yield* Ref.make<ReadonlyMap<string, StoreRuntime>>(new Map())
  const problems = yield* Ref.make<ReadonlyArray<string>>([])
  const directory: StoreDirectory.StoreDirectoryService = {
    list: Effect.map(Ref.get(stores), (m) => Array.from(m.values(), (s) => s.settings)),
    get: (storeId) =>
      Effect.flatMap(Ref.get(stores), (m) => {
        const s = m.get(storeId)
        return s ? Effect.succeed(s.settings) : Effect.fail(new StoreDirectory.UnknownStore({ storeId }))
      })
  }
  const registry: Registry = { stores, problems, directory }
  return registry
})

export interface ApplyResult {
  readonly started: ReadonlyArray<StoreRuntime>
  readonly stopped: ReadonlyArray<string>
  readonly unchanged: ReadonlyArray<string>
}

/**
 * The store's HttpClient, counting every POS request by status in `posbridge_pos_requests` (`error` when no answer
 * came): a POS that rate-limits shows its 429s there, whichever adapter made the request.
 */
const countingRequests = (services: Context.Context<Services>, store: string, adapter: string) => {
  const client = Context.get(services, HttpClient.HttpClient)
  const counted = client.pipe(
    HttpClient.transformResponse((response) =>
      response.pipe(
        Effect.tapBoth({
          onSuccess: (r) => Metrics.increment(Metrics.posRequests, { store, adapter, status: String(r.status) }),
          onFailure: () => Metrics.increment(Metrics.posRequests, { store, adapter, status: "error" })
        })
      )
    )
  )
  return Context.add(services, HttpClient.HttpClient, counted)
}

/**
 * Starts the stores that are new or changed, stops the ones that are gone. `services(storeId)` gives each
 * store's adapter its HttpClient and TokenVault (demo stores get an in-process simulator client).
 */
export const apply = (
  registry: Registry,
  entries: ReadonlyArray<ResolvedStore>,
  options: {
    readonly builtIns: Readonly<Record<string, AdapterDescriptor.AdapterDescriptor>>
    readonly services: (storeId: string) => Context.Context<Services>
    readonly configProblems?: ReadonlyArray<string> | undefined
  }
) =>
  Effect.gen(function* () {
    const current = yield* Ref.get(registry.stores)
    const next = new Map<string, StoreRuntime>()
    const started: Array<StoreRuntime> = []
    const unchanged: Array<string> = []
    const problems: Array<string> = [...(options.configProblems ?? [])]
    for (const entry of entries) {
      const running = current.get(entry.id)
      if (running && sameEntry(running.entry, entry)) {
        next.set(entry.id, running)
        unchanged.push(entry.id)
        continue
      }
      const settings = toSettings(entry)
      // Package names resolve from the server, where adapters are installed (not from packages/sync).
      const loaded = yield* AdapterRegistry.load(settings, options.builtIns, (specifier) => import(specifier)).pipe(
        Effect.either
      )
      if (loaded._tag === "Left") {
        problems.push(loaded.left.message)
        if (running) next.set(entry.id, running)
        continue
      }
      const scope = yield* Scope.make()
      // An adapter's layer needs at most an HttpClient and the TokenVault (AdapterDescriptor's contract).
      const layer = loaded.right.layer as Layer.Layer<PosSource.PosSource, PosSource.PosSourceError, Services>
      const built = yield* Layer.buildWithScope(layer, scope).pipe(
        Effect.provide(countingRequests(options.services(entry.id), entry.id, entry.adapter)),
        Effect.exit
      )
      if (Exit.isFailure(built)) {
        yield* Scope.close(scope, Exit.void)
        problems.push(
          `store "${entry.id}": the ${entry.adapter} adapter could not start: ${scrub(Cause.pretty(built.cause).split("\n")[0] ?? "", loaded.right.secrets)}`
        )
        if (running) next.set(entry.id, running)
        continue
      }
      const runtime: StoreRuntime = {
        entry,
        settings,
        source: Context.get(built.value, PosSource.PosSource),
        warnings: loaded.right.warnings,
        scope,
        secrets: loaded.right.secrets
      }
      if (running) yield* Scope.close(running.scope, Exit.void)
      next.set(entry.id, runtime)
      started.push(runtime)
    }
    const stopped: Array<string> = []
    for (const [id, running] of current) {
      if (!next.has(id)) {
        yield* Scope.close(running.scope, Exit.void)
        stopped.push(id)
      }
    }
    yield* Ref.set(registry.stores, next)
    yield* Ref.set(registry.problems, problems)
    for (const p of problems) yield* Effect.logError(`store not started: ${p}`)
    for (const s of started) {
      yield* Effect.logInfo(
        `store ${s.settings.id}: ${s.settings.adapter} ${s.settings.documentKind}, ShipStation URL /shipstation/${s.settings.id}`
      )
      for (const w of s.warnings) yield* Effect.logWarning(`store ${s.settings.id}: ${w.message}`)
    }
    for (const id of stopped) yield* Effect.logInfo(`store ${id}: removed from the configuration, stopped`)
    const result: ApplyResult = { started, stopped, unchanged }
    return result
  })

export const sourceFor = (registry: Registry) => (storeId: string) =>
  Effect.map(Ref.get(registry.stores), (m) => Option.map(Option.fromNullable(m.get(storeId)), (s) => s.source))
