/**
 * The admin operations, once: store status, store detail, explain, touch, sync now and write-back retry. The
 * typed admin API (`AdminApi`) and the older routes `GET /admin/status` and `POST /admin/stores/:storeId/sync`
 * both answer with these; the command line reaches them through the API.
 */
import { HttpApiBuilder, HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { OrderStore, type StoreDirectory } from "@posbridge/core"
import { Credentials } from "@posbridge/shipstation"
import type { SyncStatus } from "@posbridge/sync"
import { DateTime, Effect, Layer, Option, type Redacted, Ref } from "effect"
import * as AdminApi from "./AdminApi.js"
import * as Explain from "./Explain.js"
import * as Stores from "./Stores.js"

export interface AdminCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** The owner of a store could not be reached (the cluster's `OwnerUnavailable`, or alike). */
export interface OwnerUnavailable {
  readonly _tag: "OwnerUnavailable"
  readonly message: string
}

/** "Sync now" on the store's owner, from any replica: the run's result, or why there was none. */
export type SyncNow = (
  storeId: string
) => Effect.Effect<SyncStatus.RunResult, StoreDirectory.UnknownStore | OwnerUnavailable>

/** `host:port` of the runner that owns the store; None when not known or not assigned yet. */
export type OwnerOf = (storeId: string) => Effect.Effect<Option.Option<string>>

/** The sync engine's status of the store on this runner; None when this runner does not run the store. */
export type SyncStatusOf = (storeId: string) => Effect.Effect<Option.Option<SyncStatus.StoreStatus>>

/** What the admin routes are built from (given by `Server.ts`). */
export interface Options {
  readonly admin: AdminCredentials | undefined
  readonly stores: Ref.Ref<ReadonlyMap<string, Stores.StoreRuntime>>
  readonly clockWarnings: Ref.Ref<ReadonlyMap<string, string>>
  readonly syncNow: SyncNow
  /** Without it every store's owner shows as null (not known). */
  readonly ownerOf?: OwnerOf | undefined
  /** Without it every store's first and last sync show as null (not known). */
  readonly syncStatusOf?: SyncStatusOf | undefined
  /** Asks ShipStation to refresh the store (touch); None when the store has no ShipStation API key. */
  readonly refresh?:
    | ((storeId: string, posRef: string) => Effect.Effect<Option.Option<AdminApi.Touched["refresh"] & {}>>)
    | undefined
  /** The latest save-to-poll time per store, as this replica served the polls. */
  readonly saveToPoll?: ReadonlyMap<string, { readonly seconds: number; readonly at: string }> | undefined
  /** Warnings of the refresher (a refused API key, ShipStation down), by store. */
  readonly refreshWarnings?: Ref.Ref<ReadonlyMap<string, string>> | undefined
}

export const realm = 'Basic realm="posbridge admin"'

/** Whether a request's `Authorization` header carries the admin's HTTP Basic credentials. */
export const authorize = (
  admin: AdminCredentials | undefined,
  authorization: string | undefined
): AdminApi.AdminDisabled | AdminApi.Unauthorized | undefined => {
  if (!admin) {
    return new AdminApi.AdminDisabled({
      message: "Admin actions are disabled: set admin credentials in the configuration."
    })
  }
  return Credentials.verify(admin, authorization, new URLSearchParams())
    ? new AdminApi.Unauthorized({ message: "Admin credentials are required." })
    : undefined
}

const storeFailed = (e: OrderStore.OrderStoreError) =>
  new AdminApi.Unavailable({ message: `The order store did not answer (${e.operation}): ${e.message}` })

const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)

const poll = (p: OrderStore.PollRecord): AdminApi.StoreStatus["lastPoll"] & {} => ({
  at: iso(p.at),
  window: { start: iso(p.window.start), end: iso(p.window.end) },
  page: p.page,
  pages: p.pages,
  count: p.count
})

const statusOf = (options: Options, s: Stores.StoreRuntime, st: OrderStore.OrderStats) =>
  Effect.gen(function* () {
    const id = s.settings.id
    const owner = options.ownerOf ? yield* options.ownerOf(id) : Option.none()
    const sync = options.syncStatusOf ? yield* options.syncStatusOf(id) : Option.none()
    const clockMessage = (yield* Ref.get(options.clockWarnings)).get(id)
    const refreshMessage = options.refreshWarnings ? (yield* Ref.get(options.refreshWarnings)).get(id) : undefined
    const warnings = [
      ...s.warnings,
      ...(clockMessage === undefined ? [] : [{ code: "shipstation-clock", message: clockMessage }]),
      ...(refreshMessage === undefined ? [] : [{ code: "shipstation-refresh", message: refreshMessage }])
    ].map((w) => ({ code: w.code, message: Stores.scrub(w.message, s.secrets) }))
    const status: AdminApi.StoreStatus = {
      id,
      adapter: s.settings.adapter,
      documentKind: s.settings.documentKind,
      owner: Option.getOrNull(owner),
      warnings,
      lastSync: Option.getOrNull(Option.flatMap(sync, lastSyncFrom)),
      firstSync: Option.getOrNull(Option.flatMap(sync, firstSyncFrom)),
      saveToPoll: options.saveToPoll?.get(id) ?? null,
      lastPoll: Option.match(st.lastPoll, { onNone: () => null, onSome: poll }),
      documents: st.documents,
      waitingForPoll: st.waitingForPoll,
      held: st.held,
      outbox: st.outbox
    }
    return status
  })

/** Every running store's status; no setting, credential or token is shown. */
export const statuses = (options: Options) =>
  Effect.gen(function* () {
    const stores = Array.from((yield* Ref.get(options.stores)).values())
    const store = yield* OrderStore.OrderStore
    // Every store's figures in one fixed set of statements, not a round of queries per store.
    const stats = yield* store.statsAll(stores.map((s) => s.settings.id))
    return yield* Effect.forEach(
      stores,
      (s) =>
        Effect.flatMap(
          Option.match(Option.fromNullable(stats.get(s.settings.id)), {
            onNone: () => store.stats(s.settings.id),
            onSome: Effect.succeed
          }),
          (st) => statusOf(options, s, st)
        ),
      { concurrency: 16 }
    )
  })

/** The running store `storeId`, or the 404 sentence naming it. */
const runtimeOf = (options: Options, storeId: string) =>
  Effect.flatMap(Ref.get(options.stores), (stores) => {
    const s = stores.get(storeId)
    return s
      ? Effect.succeed(s)
      : Effect.fail(new AdminApi.NotFound({ message: `There is no store "${storeId}" on this server.` }))
  })

const writeBack = (w: OrderStore.OutboxItem): AdminApi.WriteBack => ({
  id: w.id,
  noticeId: w.noticeId,
  posRef: Option.getOrNull(w.posRef),
  state: w.state,
  attempts: w.attempts,
  nextAttemptAt: iso(w.nextAttemptAt),
  lastError: Option.getOrNull(w.lastError),
  result: Option.getOrNull(w.result),
  updatedAt: iso(w.updatedAt),
  notice: {
    orderNumber: w.notice.orderNumber,
    carrier: w.notice.carrier,
    trackingNumber: w.notice.trackingNumber,
    problems: w.notice.problems ?? []
  }
})

/** A pending item that has failed before waits for its next attempt: it is retrying. */
export const actionable = (w: OrderStore.OutboxItem) =>
  w.state === "dead" || w.state === "attention" || (w.state === "pending" && w.attempts > 0)

export const detail = (options: Options, storeId: string) =>
  Effect.gen(function* () {
    const s = yield* runtimeOf(options, storeId)
    const store = yield* OrderStore.OrderStore
    const status = yield* statusOf(options, s, yield* store.stats(storeId))
    const polls = yield* store.polls(storeId, 20)
    const items = yield* store.outbox(storeId, ["dead", "attention", "pending"])
    const result: AdminApi.StoreDetail = {
      store: status,
      polls: polls.map(poll),
      writeBacks: items.filter(actionable).map(writeBack),
      held: (yield* store.held(storeId, 50)).map((o) => ({
        posRef: o.order.posRef,
        orderNumber: o.order.orderNumber,
        stamp: iso(o.stamp),
        reasons: o.heldReasons
      }))
    }
    return result
  }).pipe(Effect.catchTag("OrderStoreError", (e) => Effect.fail(storeFailed(e))))

const orderNotFound = (e: OrderStore.OrderNotFound) => new AdminApi.NotFound({ message: e.message })

/**
 * Why the order is where it is, read from the order store. The API's `explain` answers with it, and so does
 * `posbridge explain` when no server answers (it reads the database then).
 */
export const explainOrder = (storeId: string, order: string) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const explained = Explain.toApi(yield* store.explain(storeId, order))
    const calls = yield* store.refreshCalls(storeId, 50)
    if (calls.length === 0) return explained
    return Explain.withRefreshes(explained, calls, yield* store.polls(storeId, 500))
  }).pipe(
    Effect.catchTags({
      OrderNotFound: (e) => Effect.fail(orderNotFound(e)),
      OrderStoreError: (e) => Effect.fail(storeFailed(e))
    })
  )

export const explain = (options: Options, storeId: string, order: string) =>
  Effect.zipRight(runtimeOf(options, storeId), explainOrder(storeId, order))

/** Restamps the order so ShipStation's next poll picks it up (what `posbridge touch` does). */
export const touch = (options: Options, storeId: string, order: string) =>
  Effect.gen(function* () {
    yield* runtimeOf(options, storeId)
    const store = yield* OrderStore.OrderStore
    const touched = yield* store.touch(storeId, order)
    // ShipStation is asked to come now, when the store has an API key; the touch holds either way.
    const refresh = options.refresh ? yield* options.refresh(storeId, touched.order.posRef) : Option.none()
    const result: AdminApi.Touched = {
      storeId,
      posRef: touched.order.posRef,
      orderNumber: touched.order.orderNumber,
      stamp: iso(touched.stamp),
      refresh: Option.getOrNull(refresh)
    }
    return result
  }).pipe(
    Effect.catchTags({
      OrderNotFound: (e) => Effect.fail(orderNotFound(e)),
      OrderStoreError: (e) => Effect.fail(storeFailed(e))
    })
  )

/** Runs the store now on its owner (joining a run in progress there). */
export const sync = (options: Options, storeId: string) =>
  options
    .syncNow(storeId)
    .pipe(
      Effect.mapError((e) =>
        e._tag === "UnknownStore"
          ? new AdminApi.NotFound({ message: e.message })
          : new AdminApi.Unavailable({ message: e.message })
      )
    )

/**
 * Makes a dead write-back, one that needs attention or one retrying after a failure due now, with a fresh set of
 * attempts (the order store's `resolveWriteBack`). One being delivered, or delivered, is refused with a sentence.
 */
export const retry = (options: Options, storeId: string, id: string) =>
  Effect.gen(function* () {
    yield* runtimeOf(options, storeId)
    const store = yield* OrderStore.OrderStore
    const open = (yield* store.outbox(storeId, ["dead", "attention", "pending"])).some((w) => w.id === id)
    if (open) return writeBack(yield* store.resolveWriteBack(storeId, id, "write-back"))
    const item = (yield* store.outbox(storeId, ["in-flight", "done"])).find((w) => w.id === id)
    if (!item) {
      return yield* new AdminApi.NotFound({ message: `Store "${storeId}" has no write-back "${id}".` })
    }
    const why = item.state === "done" ? "it was delivered" : "it is being delivered right now"
    return yield* new AdminApi.Conflict({
      message: `Write-back "${id}" of store "${storeId}" cannot be retried: ${why}.`
    })
  }).pipe(Effect.catchTag("OrderStoreError", (e) => Effect.fail(storeFailed(e))))

/**
 * Closes a dead write-back or one that needs attention without writing anything to the POS (the order store's
 * `resolveWriteBack` with `dismiss`). Any other state is refused with a sentence.
 */
export const dismiss = (options: Options, storeId: string, id: string) =>
  Effect.gen(function* () {
    yield* runtimeOf(options, storeId)
    const store = yield* OrderStore.OrderStore
    const open = (yield* store.outbox(storeId, ["dead", "attention"])).some((w) => w.id === id)
    if (open) return writeBack(yield* store.resolveWriteBack(storeId, id, "dismiss"))
    const item = (yield* store.outbox(storeId, ["pending", "in-flight", "done"])).find((w) => w.id === id)
    if (!item) return yield* new AdminApi.NotFound({ message: `Store "${storeId}" has no write-back "${id}".` })
    const why =
      item.state === "done"
        ? "it is already closed"
        : item.state === "in-flight"
          ? "it is being delivered right now"
          : "it is waiting to be written back (only a dead one or one that needs attention can be dismissed)"
    return yield* new AdminApi.Conflict({
      message: `Write-back "${id}" of store "${storeId}" cannot be dismissed: ${why}.`
    })
  }).pipe(Effect.catchTag("OrderStoreError", (e) => Effect.fail(storeFailed(e))))

/** The admin's credentials as the API's security middleware checks them; a 401 carries `WWW-Authenticate`. */
const authLayer = (admin: AdminCredentials | undefined) =>
  Layer.succeed(AdminApi.AdminAuth, {
    basic: () =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const denied = authorize(admin, request.headers.authorization)
        if (denied === undefined) return
        if (denied._tag === "Unauthorized") {
          yield* HttpApp.appendPreResponseHandler((_request, response) =>
            Effect.succeed(
              response.status === 401 ? HttpServerResponse.setHeader(response, "www-authenticate", realm) : response
            )
          )
        }
        return yield* denied
      })
  })

/** The API's handlers: each endpoint answers with the operation above of the same name. */
export const layer = (options: Options) =>
  HttpApiBuilder.group(AdminApi.AdminApi, "stores", (handlers) =>
    handlers
      .handle("list", () =>
        statuses(options).pipe(
          Effect.map((stores) => ({ stores })),
          Effect.catchTag("OrderStoreError", (e) => Effect.fail(storeFailed(e)))
        )
      )
      .handle("detail", ({ path }) => detail(options, path.storeId))
      .handle("sync", ({ path }) => sync(options, path.storeId))
      .handle("explain", ({ path, urlParams }) => explain(options, path.storeId, urlParams.order))
      .handle("touch", ({ path, payload }) => touch(options, path.storeId, payload.order))
      .handle("retry", ({ path }) => retry(options, path.storeId, path.writeBackId))
      .handle("dismiss", ({ path }) => dismiss(options, path.storeId, path.writeBackId))
  ).pipe(Layer.provide(authLayer(options.admin)))

/**
 * The API as one HttpApp over `store`: built once per order store, then reused. Its routes carry the full
 * `/admin/api/...` paths, so it is mounted unchanged under the server's router.
 */
export const makeApp = (options: Options, store: OrderStore.OrderStoreService) => {
  const api = HttpApiBuilder.api(AdminApi.AdminApi).pipe(Layer.provide(layer(options)))
  return HttpApiBuilder.httpApp.pipe(
    Effect.provide(
      Layer.mergeAll(
        api,
        HttpApiBuilder.middlewareOpenApi({ path: AdminApi.openApiPath }).pipe(Layer.provide(api)),
        HttpApiBuilder.Router.Live,
        HttpApiBuilder.Middleware.layer
      ).pipe(Layer.provide(Layer.succeed(OrderStore.OrderStore, store)))
    )
  )
}

/** A store's last finished POS sync from the sync engine's status: the later of its last success and last error. */
export const lastSyncFrom = (st: SyncStatus.StoreStatus): Option.Option<AdminApi.StoreStatus["lastSync"] & {}> => {
  const ok = Option.map(st.lastSuccessAt, DateTime.toEpochMillis)
  if (Option.isSome(st.lastError) && (Option.isNone(ok) || DateTime.toEpochMillis(st.lastError.value.at) >= ok.value)) {
    return Option.some({ at: iso(st.lastError.value.at), outcome: "failed", error: st.lastError.value.message })
  }
  return Option.map(st.lastSuccessAt, (at) => ({ at: iso(at), outcome: "succeeded" as const, error: null }))
}

export const firstSyncFrom = (st: SyncStatus.StoreStatus): Option.Option<AdminApi.StoreStatus["firstSync"] & {}> =>
  Option.map(st.firstSync, (f) => ({ at: iso(f.at), seconds: f.seconds, documents: f.documents }))
