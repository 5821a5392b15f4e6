/**
 * Probes: `/healthz` and `/readyz`. No credentials: nothing secret is shown. Prometheus metrics have a listener of
 * their own (see Telemetry).
 */
import { HttpRouter } from "@effect/platform"
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { Effect, Ref } from "effect"
import { plainText as text } from "./internal/plainText.js"

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
    )
  )
