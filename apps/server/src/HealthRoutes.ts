/** Probes and monitoring: `/healthz`, `/readyz` and Prometheus `/metrics`. No credentials: nothing secret is shown. */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { DateTime, Effect, Option, Ref } from "effect"
import { plainText as text } from "./internal/plainText.js"

const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** Prometheus text exposition of every store's state, read from the order store. */
export const metrics = Effect.gen(function* () {
  const directory = yield* StoreDirectory.StoreDirectory
  const store = yield* OrderStore.OrderStore
  const out: Array<string> = []
  const metric = (name: string, help: string, type: "gauge" | "counter") =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  const ids = (yield* directory.list).map((s) => s.id)
  // One fixed set of statements for all stores, not one round of queries per store per scrape.
  const all = yield* store.statsAll(ids)
  const stats = ids.flatMap((id) => {
    const st = all.get(id)
    return st === undefined ? [] : [[id, st] as const]
  })
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

/**
 * `/healthz` answers while the process runs; `/readyz` only once start-up finished, the order store answers and
 * this runner has joined the cluster (`joined`) — never held back by a POS that is down or a backfill.
 */
export const router = (ready: Ref.Ref<boolean>, joined: Effect.Effect<boolean> = Effect.succeed(true)) =>
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
        if (!(yield* joined)) return text(503, "this runner has not joined the cluster yet")
        return text(200, "ready")
      })
    ),
    HttpRouter.get("/metrics", metrics)
  )
