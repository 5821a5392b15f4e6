/**
 * posbridge asks ShipStation to refresh a store (issue 18) through ShipStation's REST API
 * (`POST /stores/refreshstore` with the store's ShipStation id), so an order reaches ShipStation within a minute
 * of the POS save instead of at ShipStation's next scheduled poll:
 *
 * - **on purpose**: a touch (CLI, console, admin API) asks at once;
 * - **on arrival**: when the store has versions waiting for a poll, at most once per `minInterval` (default five
 *   minutes) per store.
 *
 * Many stores of one ShipStation account share one API key, and the key's rate limit is ShipStation's, whichever
 * runner owns which store. So each API key is an `@effect/cluster` entity (`posbridge/ShipStationKey`, keyed by a
 * hash of the key, never the key): the one runner owning it keeps the key's `RefreshBudget` (the limit from
 * ShipStation's headers, 429s obeyed, stores served first come first served) and makes every call of that key.
 * Any runner sends it `Refresh` messages.
 *
 * A call never affects exports: a refused key, a 429 or ShipStation being down is recorded (explain shows it),
 * logged once, shown as a store warning and retried with backoff; ShipStation's own schedule still polls.
 * `refreshstore` is never called without a store id (ShipStation would refresh every store of the account).
 */
import { createHash } from "node:crypto"
import { Entity } from "@effect/cluster"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Rpc } from "@effect/rpc"
import { OrderStore } from "@posbridge/core"
import { RefreshBudget, ShipStationApi } from "@posbridge/shipstation"
import { Clock, DateTime, Duration, Effect, Exit, Option, Queue, Redacted, Ref, Schema } from "effect"
import type * as Config from "./Config.js"
import type * as Stores from "./Stores.js"

/** A key's name among the entities and in logs: a hash of the key pair and API address, never the key itself. */
export const keyIdOf = (settings: Config.ShipStationApiSettings): string =>
  createHash("sha256")
    .update([settings.baseUrl, Redacted.value(settings.apiKey), Redacted.value(settings.apiSecret)].join("\u0000"))
    .digest("hex")
    .slice(0, 20)

export const Queued = Schema.Struct({
  /** `queued`: ShipStation will be asked; `debounced`: asked less than `minInterval` ago (arrival only). */
  outcome: Schema.Literal("queued", "debounced", "not-configured"),
  /** How many stores of the key were waiting ahead of this one. */
  ahead: Schema.NonNegativeInt
})
export type Queued = typeof Queued.Type

export const Refresh = Rpc.make("Refresh", {
  payload: {
    storeId: Schema.String,
    reason: Schema.Literal("touch", "arrival"),
    posRef: Schema.optional(Schema.String)
  },
  success: Queued
})

export const KeyEntity = Entity.make("posbridge/ShipStationKey", [Refresh])

/** Store warnings the refresher sets (a refused key, ShipStation down), by store; cleared by the next success. */
export type Warnings = Ref.Ref<ReadonlyMap<string, string>>

export interface Options {
  /** A store's ShipStation API settings, None when it has none (or is not configured). */
  readonly settingsOf: (storeId: string) => Effect.Effect<Option.Option<Config.ShipStationApiSettings>>
  readonly warnings: Warnings
  /** The longest wait after a failed call (doubling from 30 s). */
  readonly maxBackoff?: Duration.Duration | undefined
  readonly initialBackoff?: Duration.Duration | undefined
}

interface Pending {
  readonly reason: "touch" | "arrival"
  readonly posRef: Option.Option<string>
}

/** The settings lookup of the server's running stores. */
export const settingsFrom =
  (stores: Ref.Ref<ReadonlyMap<string, Stores.StoreRuntime>>) =>
  (storeId: string): Effect.Effect<Option.Option<Config.ShipStationApiSettings>> =>
    Effect.map(Ref.get(stores), (m) => Option.fromNullable(m.get(storeId)?.entry.shipstationApi))

/**
 * The calls of one API key, on the runner that owns the key: `enqueue` a store, and `loop`, run for as long as
 * the runner owns the key, makes the calls the key's budget allows, first come first served.
 */
export const keyLoop = (keyId: string, options: Options) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const http = yield* HttpClient.HttpClient
    // Retries after a backoff live as long as this runner owns the key.
    const scope = yield* Effect.scope
    const wake = yield* Queue.sliding<void>(1)
    const state = {
      budget: RefreshBudget.make<string>(),
      pending: new Map<string, Pending>(),
      lastCall: new Map<string, number>(),
      failures: new Map<string, number>(),
      notBefore: new Map<string, number>(),
      discovered: new Map<string, number>(),
      /** The failure last logged per store, so a failure repeating is logged once. */
      logged: new Map<string, string>()
    }
    const apis = new Map<string, ShipStationApi.Service>()
    const apiFor = (baseUrl: string) =>
      Effect.gen(function* () {
        const known = apis.get(baseUrl)
        if (known) return known
        const made = yield* ShipStationApi.make({ baseUrl, timeout: Duration.seconds(20) }).pipe(
          Effect.provideService(HttpClient.HttpClient, http)
        )
        apis.set(baseUrl, made)
        return made
      })
    const settingsOf = options.settingsOf
    const initial = Duration.toMillis(options.initialBackoff ?? Duration.seconds(30))
    const maxBackoff = Duration.toMillis(options.maxBackoff ?? Duration.minutes(30))

    const setWarning = (storeId: string, message: Option.Option<string>) =>
      Ref.update(options.warnings, (m) => {
        const next = new Map(m)
        if (Option.isSome(message)) next.set(storeId, message.value)
        else next.delete(storeId)
        return next
      })

    const record = (
      storeId: string,
      pending: Pending,
      outcome: OrderStore.RefreshOutcome,
      message: Option.Option<string>
    ) =>
      Effect.gen(function* () {
        const at = DateTime.unsafeMake(yield* Clock.currentTimeMillis)
        yield* store
          .recordRefresh({ storeId, at, reason: pending.reason, posRef: pending.posRef, outcome, message })
          .pipe(Effect.catchAll((e) => Effect.logWarning(`store ${storeId}: the refresh call was not recorded`, e)))
      })

    const failed = (storeId: string, pending: Pending, outcome: OrderStore.RefreshOutcome, message: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const n = (state.failures.get(storeId) ?? 0) + 1
        state.failures.set(storeId, n)
        const wait = Math.min(maxBackoff, initial * 2 ** Math.min(n - 1, 20))
        state.notBefore.set(storeId, now + wait)
        yield* record(storeId, pending, outcome, Option.some(message))
        const warning = `ShipStation was not asked to refresh this store: ${message} posbridge tries again in ${Math.round(wait / 1000)} s; ShipStation's own schedule still polls.`
        if (state.logged.get(storeId) !== outcome) {
          state.logged.set(storeId, outcome)
          yield* Effect.logWarning(`store ${storeId}: ${warning}`)
        }
        yield* setWarning(storeId, Option.some(warning))
        // Asked again after the backoff, as the reason it was asked for still holds.
        yield* Effect.forkIn(
          Effect.sleep(Duration.millis(wait)).pipe(Effect.zipRight(enqueue(storeId, pending, true))),
          scope
        )
      })

    const call = (storeId: string) =>
      Effect.gen(function* () {
        const pending = state.pending.get(storeId) ?? { reason: "arrival" as const, posRef: Option.none() }
        state.pending.delete(storeId)
        const settings = yield* settingsOf(storeId)
        if (Option.isNone(settings)) return
        const api = yield* apiFor(settings.value.baseUrl)
        const credentials = { apiKey: settings.value.apiKey, apiSecret: settings.value.apiSecret }
        const now = yield* Clock.currentTimeMillis
        const observe = (answer: { readonly rateLimit: Option.Option<ShipStationApi.RateLimit> }) => {
          if (Option.isSome(answer.rateLimit)) {
            state.budget = RefreshBudget.observe(state.budget, answer.rateLimit.value, now)
          }
        }
        const known = Option.orElse(settings.value.storeId, () => Option.fromNullable(state.discovered.get(storeId)))
        if (Option.isNone(known)) {
          // Discovery is a call of its own; the refresh takes the next turn.
          const found = yield* api
            .discoverStoreId(
              credentials,
              Option.getOrElse(settings.value.integrationUrl, () => "")
            )
            .pipe(Effect.either)
          if (found._tag === "Left") return yield* onError(storeId, pending, found.left)
          observe(found.right)
          state.discovered.set(storeId, found.right.value)
          yield* Effect.logInfo(
            `store ${storeId}: ShipStation store id ${found.right.value} found by its integration URL`
          )
          yield* enqueue(storeId, pending, true)
          return
        }
        const answer = yield* api.refreshStore(credentials, known.value).pipe(Effect.either)
        if (answer._tag === "Left") return yield* onError(storeId, pending, answer.left)
        observe(answer.right)
        state.lastCall.set(storeId, now)
        state.failures.delete(storeId)
        state.notBefore.delete(storeId)
        if (state.logged.has(storeId)) {
          state.logged.delete(storeId)
          yield* Effect.logInfo(`store ${storeId}: ShipStation accepts refresh calls again`)
        }
        yield* setWarning(storeId, Option.none())
        yield* record(storeId, pending, "requested", Option.none())
        // A touch is an operator's action: worth a line; refreshes on arrival are routine.
        yield* (pending.reason === "touch" ? Effect.logInfo : Effect.logDebug)(
          `store ${storeId}: asked ShipStation to refresh (${pending.reason})`
        )
      })

    const onError = (
      storeId: string,
      pending: Pending,
      e: ShipStationApi.ApiError | ShipStationApi.StoreIdRequired | ShipStationApi.StoreNotDiscovered
    ) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        switch (e._tag) {
          case "ApiRateLimited": {
            // Another user of the key spent the window: wait for ShipStation's reset, keep the store's turn.
            state.budget = RefreshBudget.rateLimited(state.budget, e.resetSeconds, now)
            yield* record(storeId, pending, "rate-limited", Option.some(e.message))
            const warning = `ShipStation was not asked to refresh this store yet: ${e.message} posbridge waits for the reset; ShipStation's own schedule still polls.`
            if (state.logged.get(storeId) !== "rate-limited") {
              state.logged.set(storeId, "rate-limited")
              yield* Effect.logWarning(`store ${storeId}: ${warning}`)
            }
            yield* setWarning(storeId, Option.some(warning))
            yield* enqueue(storeId, pending, true)
            return
          }
          case "ApiRefused":
            return yield* failed(storeId, pending, "refused", e.message)
          case "ApiRejected":
            // A discovered id ShipStation no longer knows (the store was re-created): found again next time.
            state.discovered.delete(storeId)
            return yield* failed(storeId, pending, "failed", e.message)
          case "ApiUnavailable":
            return yield* failed(storeId, pending, "unavailable", e.message)
          default:
            return yield* failed(storeId, pending, "failed", e.message)
        }
      })

    /** Queues the store (a touch wins over an arrival). `force`: a retry, past the debounce. */
    const enqueue = (storeId: string, pending: Pending, force: boolean): Effect.Effect<Queued> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const settings = yield* settingsOf(storeId)
        if (Option.isNone(settings)) return { outcome: "not-configured", ahead: 0 } as const
        const queued = RefreshBudget.waiting(state.budget)
        if (!force && pending.reason === "arrival") {
          const last = state.lastCall.get(storeId)
          const min = Duration.toMillis(settings.value.minInterval)
          const backingOff = (state.notBefore.get(storeId) ?? 0) > now
          if (queued.includes(storeId) || backingOff || (last !== undefined && now - last < min)) {
            return { outcome: "debounced", ahead: 0 } as const
          }
        }
        const before = state.pending.get(storeId)
        state.pending.set(storeId, before?.reason === "touch" ? before : pending)
        const ahead = queued.includes(storeId) ? queued.indexOf(storeId) : queued.length
        state.budget = RefreshBudget.request(state.budget, storeId)
        yield* Queue.offer(wake, undefined)
        return { outcome: "queued", ahead } as const
      })

    const loop = Effect.gen(function* () {
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const decision = RefreshBudget.next(state.budget, now)
        state.budget = decision.budget
        if (decision._tag === "Grant") {
          yield* call(decision.store).pipe(
            Effect.catchAllCause((cause) => Effect.logError(`store ${decision.store}: refresh call failed`, cause))
          )
        } else if (decision._tag === "Wait") {
          yield* Effect.race(Effect.sleep(Duration.millis(Math.max(1, decision.until - now))), Queue.take(wake))
        } else {
          yield* Queue.take(wake)
        }
      }
    }).pipe(Effect.annotateLogs({ component: "refresh", key: keyId }))
    return { enqueue, loop }
  })

/** Registers the key entity on this runner: the key's loop runs for as long as this runner owns it. */
export const layer = (options: Options) =>
  KeyEntity.toLayer(
    Effect.gen(function* () {
      const address = yield* Entity.CurrentAddress
      const { enqueue, loop } = yield* keyLoop(address.entityId, options).pipe(Effect.provide(FetchHttpClient.layer))
      yield* Effect.forkScoped(loop)
      return KeyEntity.of({
        Refresh: ({ payload }) =>
          enqueue(payload.storeId, { reason: payload.reason, posRef: Option.fromNullable(payload.posRef) }, false)
      })
    }),
    { maxIdleTime: Duration.infinity, concurrency: "unbounded" }
  )

/**
 * What the rest of the server calls: `request` reaches the key's owner from any runner; `arrived` is told after
 * each sync run of a store this runner owns.
 */
export const client = (options: Options) =>
  Effect.gen(function* () {
    const make = yield* KeyEntity.client
    const request = (
      storeId: string,
      reason: "touch" | "arrival",
      posRef: Option.Option<string> = Option.none()
    ): Effect.Effect<Option.Option<Queued>> =>
      Effect.gen(function* () {
        const settings = yield* options.settingsOf(storeId)
        if (Option.isNone(settings)) return Option.none()
        const queued = yield* make(keyIdOf(settings.value))
          .Refresh({ storeId, reason, ...(Option.isSome(posRef) ? { posRef: posRef.value } : {}) })
          .pipe(Effect.timeout(Duration.seconds(10)), Effect.exit)
        if (Exit.isSuccess(queued)) return Option.some(queued.value)
        yield* Effect.logWarning(`store ${storeId}: the refresh request did not reach the key's runner`)
        return Option.none()
      })

    /**
     * After each sync run of a store this runner owns: when it has versions waiting for a poll and refreshes on
     * arrival, ShipStation is asked, at most once per the store's `minInterval` (the key's owner debounces too).
     */
    const sent = new Map<string, number>()
    const arrived = (storeId: string, stats: OrderStore.OrderStats) =>
      Effect.gen(function* () {
        const api = Option.getOrUndefined(yield* options.settingsOf(storeId))
        if (api?.autoRefresh !== true || stats.waitingForPoll === 0) return
        const now = yield* Clock.currentTimeMillis
        if (now - (sent.get(storeId) ?? Number.NEGATIVE_INFINITY) < Duration.toMillis(api.minInterval)) return
        sent.set(storeId, now)
        yield* request(storeId, "arrival")
      })
    return { request, arrived }
  })

export type Client = Effect.Effect.Success<ReturnType<typeof client>>
