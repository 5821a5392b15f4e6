/**
 * The operator's routes under `/admin`, behind the admin's HTTP Basic credentials: the typed admin API under
 * `/admin/api` (OpenAPI document at `/admin/api/openapi.json`) and the older plain routes `GET /admin/status`
 * and `POST /admin/stores/:storeId/sync`, which answer with the same operations (`AdminHandlers`).
 */
import { type HttpApp, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { OrderStore } from "@posbridge/core"
import { SyncStatus } from "@posbridge/sync"
import { Effect, Option } from "effect"
import * as AdminHandlers from "./AdminHandlers.js"
import { plainText as text } from "./internal/plainText.js"

export type AdminCredentials = AdminHandlers.AdminCredentials
export type SyncNow = AdminHandlers.SyncNow
export type OwnerOf = AdminHandlers.OwnerOf
export type Options = AdminHandlers.Options

/** Rejects the request unless it carries the admin's HTTP Basic credentials. */
export const requireAdmin = (admin: AdminCredentials | undefined) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const denied = AdminHandlers.authorize(admin, request.headers.authorization)
    if (denied === undefined) return Option.none()
    return Option.some(
      denied._tag === "AdminDisabled"
        ? text(403, denied.message)
        : HttpServerResponse.text(`${denied.message}\n`, {
            status: 401,
            headers: { "www-authenticate": AdminHandlers.realm }
          })
    )
  })

/**
 * `GET /admin/status`: each store's state, owner and warnings as JSON, read-only. Warnings are the settings and
 * adapter warnings of the running store plus the ShipStation clock check's; no setting, credential or token is shown.
 */
export const status = (options: Options) =>
  Effect.gen(function* () {
    const denied = yield* requireAdmin(options.admin)
    if (Option.isSome(denied)) return denied.value
    return yield* HttpServerResponse.json({ stores: yield* AdminHandlers.statuses(options) })
  })

/** `POST /admin/stores/:storeId/sync`: runs the store now (joining a run in progress) and answers its result. */
export const syncNow = (options: Options) =>
  Effect.gen(function* () {
    const denied = yield* requireAdmin(options.admin)
    if (Option.isSome(denied)) return denied.value
    const { storeId = "" } = yield* HttpRouter.params
    const result = yield* AdminHandlers.sync(options, storeId).pipe(Effect.either)
    if (result._tag === "Left") return text(result.left._tag === "NotFound" ? 404 : 503, result.left.message)
    return yield* HttpServerResponse.json(SyncStatus.encodeRunResult(result.right))
  })

/**
 * The typed admin API, built on its first request over the order store the server provides (an HttpApi is built
 * from layers; the server's router is built before the order store is known to it), then reused.
 */
const api = (options: Options) => {
  const apps = new WeakMap<
    OrderStore.OrderStoreService,
    HttpApp.Default<never, HttpRouter.HttpRouter.DefaultServices>
  >()
  return Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    let app = apps.get(store)
    if (app === undefined) {
      app = yield* AdminHandlers.makeApp(options, store)
      apps.set(store, app)
    }
    return yield* app
  })
}

export const router = (options: Options) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/admin/status", status(options)),
    HttpRouter.post("/admin/stores/:storeId/sync", syncNow(options)),
    HttpRouter.all("/admin/api/*", api(options))
  )
