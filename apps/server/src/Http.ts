/** The server's own routes beside ShipStation's: health, readiness, Prometheus metrics, admin actions. */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { Credentials } from "@posbridge/shipstation"
import { DateTime, Effect, Option, type Redacted, Ref } from "effect"
import * as Stores from "./Stores.js"

export interface AdminCredentials {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

const text = (status: number, body: string) =>
  HttpServerResponse.text(`${body}\n`, { status, contentType: "text/plain; charset=utf-8" })

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

const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** Prometheus text exposition of every store's state, read from the order store. */
export const metrics = Effect.gen(function* () {
  const directory = yield* StoreDirectory.StoreDirectory
  const store = yield* OrderStore.OrderStore
  const out: Array<string> = []
  const metric = (name: string, help: string, type: "gauge" | "counter") =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  const stats = yield* Effect.forEach(yield* directory.list, (s) =>
    Effect.map(store.stats(s.id), (st) => [s.id, st] as const)
  )
  metric("posbridge_documents", "POS documents held for ShipStation.", "gauge")
  for (const [id, st] of stats) out.push(`posbridge_documents{store="${escapeLabel(id)}"} ${st.documents}`)
  metric("posbridge_waiting_for_poll", "Document versions no ShipStation poll has covered yet.", "gauge")
  for (const [id, st] of stats) out.push(`posbridge_waiting_for_poll{store="${escapeLabel(id)}"} ${st.waitingForPoll}`)
  metric("posbridge_held_back", "Orders held back from export by a field that cannot be repaired.", "gauge")
  for (const [id, st] of stats) out.push(`posbridge_held_back{store="${escapeLabel(id)}"} ${st.held}`)
  metric("posbridge_outbox_items", "Ship-notice write-backs by state.", "gauge")
  for (const [id, st] of stats) {
    for (const [state, n] of Object.entries(st.outbox)) {
      out.push(`posbridge_outbox_items{store="${escapeLabel(id)}",state="${state}"} ${n}`)
    }
  }
  metric("posbridge_last_poll_timestamp_seconds", "When ShipStation last asked this store for orders.", "gauge")
  for (const [id, st] of stats) {
    if (Option.isSome(st.lastPoll)) {
      out.push(
        `posbridge_last_poll_timestamp_seconds{store="${escapeLabel(id)}"} ${DateTime.toEpochMillis(st.lastPoll.value.at) / 1000}`
      )
    }
  }
  return HttpServerResponse.text(`${out.join("\n")}\n`, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
})

/** `/healthz` answers while the process runs; `/readyz` only once the store answers and start-up finished. */
export const healthRoutes = (ready: Ref.Ref<boolean>) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/healthz", Effect.succeed(text(200, "ok"))),
    HttpRouter.get(
      "/readyz",
      Effect.gen(function* () {
        if (!(yield* Ref.get(ready))) return text(503, "starting")
        const directory = yield* StoreDirectory.StoreDirectory
        const store = yield* OrderStore.OrderStore
        const stores = yield* directory.list
        const first = stores[0]
        if (first) {
          const ok = yield* store.stats(first.id).pipe(
            Effect.as(true),
            Effect.catchAll(() => Effect.succeed(false))
          )
          if (!ok) return text(503, "the order store does not answer")
        }
        return text(200, "ready")
      })
    ),
    HttpRouter.get("/metrics", metrics)
  )

/**
 * `GET /admin/status`: each store's state and warnings as JSON, read-only. Warnings are the settings and adapter
 * warnings of the running store plus the ShipStation clock check's; no setting, credential or token is shown.
 */
export const status = (options: {
  readonly admin: AdminCredentials | undefined
  readonly stores: Ref.Ref<ReadonlyMap<string, Stores.StoreRuntime>>
  readonly clockWarnings: Ref.Ref<ReadonlyMap<string, string>>
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
          outbox: st.outbox
        }
      })
    )
    return yield* HttpServerResponse.json({ stores })
  })
