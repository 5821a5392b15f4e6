/** The operator's routes under `/admin`, behind the admin's HTTP Basic credentials: store status and "sync now". */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { OrderStore, type StoreDirectory } from "@posbridge/core"
import { Credentials } from "@posbridge/shipstation"
import { type StoreEntity, SyncStatus } from "@posbridge/sync"
import { DateTime, Effect, Option, type Redacted, Ref } from "effect"
import { plainText as text } from "./internal/plainText.js"
import * as Stores from "./Stores.js"

export interface AdminCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/** Rejects the request unless it carries the admin's HTTP Basic credentials. */
export const requireAdmin = (admin: AdminCredentials | undefined) =>
  Effect.gen(function* () {
    if (!admin) return Option.some(text(403, "Admin actions are disabled: set admin credentials in the configuration."))
    const request = yield* HttpServerRequest.HttpServerRequest
    const denied = Credentials.verify(admin, request.headers.authorization, new URLSearchParams())
    return denied
      ? Option.some(
          HttpServerResponse.text("Admin credentials are required.\n", {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="posbridge admin"' }
          })
        )
      : Option.none()
  })

/** "Sync now" on the store's owner, from any replica. */
export type SyncNow = (
  storeId: string
) => Effect.Effect<SyncStatus.RunResult, StoreDirectory.UnknownStore | StoreEntity.OwnerUnavailable>

/** `host:port` of the runner that owns the store; None when not known or not assigned yet. */
export type OwnerOf = (storeId: string) => Effect.Effect<Option.Option<string>>

/**
 * `GET /admin/status`: each store's state and warnings as JSON, read-only. Warnings are the settings and adapter
 * warnings of the running store plus the ShipStation clock check's; no setting, credential or token is shown.
 */
export const status = (options: {
  readonly admin: AdminCredentials | undefined
  readonly stores: Ref.Ref<ReadonlyMap<string, Stores.StoreRuntime>>
  readonly clockWarnings: Ref.Ref<ReadonlyMap<string, string>>
  readonly ownerOf: OwnerOf
}) =>
  Effect.gen(function* () {
    const denied = yield* requireAdmin(options.admin)
    if (Option.isSome(denied)) return denied.value
    const store = yield* OrderStore.OrderStore
    const clock = yield* Ref.get(options.clockWarnings)
    const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)
    const stores = yield* Effect.forEach((yield* Ref.get(options.stores)).values(), (s) =>
      Effect.gen(function* () {
        const id = s.settings.id
        const st = yield* store.stats(id)
        const owner = yield* options.ownerOf(id)
        const clockMessage = clock.get(id)
        const warnings = [
          ...s.warnings,
          ...(clockMessage === undefined ? [] : [{ code: "shipstation-clock", message: clockMessage }])
        ].map((w) => ({ code: w.code, message: Stores.scrub(w.message, s.secrets) }))
        return {
          id,
          adapter: s.settings.adapter,
          documentKind: s.settings.documentKind,
          warnings,
          lastPoll: Option.match(st.lastPoll, {
            onNone: () => null,
            onSome: (p) => ({
              at: iso(p.at),
              window: { start: iso(p.window.start), end: iso(p.window.end) },
              page: p.page,
              pages: p.pages,
              count: p.count
            })
          }),
          documents: st.documents,
          waitingForPoll: st.waitingForPoll,
          held: st.held,
          outbox: st.outbox,
          owner: Option.getOrNull(owner)
        }
      })
    )
    return yield* HttpServerResponse.json({ stores })
  })

/** `POST /admin/stores/:storeId/sync`: runs the store now (joining a run in progress) and answers its result. */
export const syncNow = (options: { readonly admin: AdminCredentials | undefined; readonly syncNow: SyncNow }) =>
  Effect.gen(function* () {
    const denied = yield* requireAdmin(options.admin)
    if (Option.isSome(denied)) return denied.value
    const { storeId = "" } = yield* HttpRouter.params
    const result = yield* options.syncNow(storeId).pipe(Effect.either)
    if (result._tag === "Left") {
      const status = result.left._tag === "UnknownStore" ? 404 : 503
      return HttpServerResponse.text(`${result.left.message}\n`, { status })
    }
    return yield* HttpServerResponse.json(SyncStatus.encodeRunResult(result.right))
  })

export const router = (options: {
  readonly admin: AdminCredentials | undefined
  readonly stores: Ref.Ref<ReadonlyMap<string, Stores.StoreRuntime>>
  readonly clockWarnings: Ref.Ref<ReadonlyMap<string, string>>
  readonly syncNow: SyncNow
  readonly ownerOf: OwnerOf
}) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/admin/status", status(options)),
    HttpRouter.post("/admin/stores/:storeId/sync", syncNow(options))
  )
