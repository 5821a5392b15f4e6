/**
 * Test support for the ShipStation API client: the API simulator on a real random port, a client pointed at it,
 * any small app served on another port, and a tiny Custom Store export (the posbridge side ShipStation polls).
 */
import { createServer } from "node:http"
import { FetchHttpClient, type HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { ShipStationClient } from "@posbridge/pos-testkit"
import { Effect, Layer, Redacted, Ref, type Scope } from "effect"
import { ShipStationApi } from "../../src/index.js"
import { ApiSimulator } from "../../src/testing/index.js"

export const keyA = { apiKey: "key-a-7f3c9d", apiSecret: "secret-a-91b2e4" }
export const keyB = { apiKey: "key-b-5e8a1f", apiSecret: "secret-b-33c7d0" }

export const credentials = (key: { apiKey: string; apiSecret: string }): ShipStationApi.Credentials => ({
  apiKey: Redacted.make(key.apiKey),
  apiSecret: Redacted.make(key.apiSecret)
})

/** The simulator served by Node on a random port. */
export const simulatorLayer = (options: ApiSimulator.Options) =>
  ApiSimulator.ApiSimulator.layerServer(options).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0 }))
  )

/** A client of the simulator in context. */
export const client = (options: Omit<ShipStationApi.Options, "baseUrl"> = {}) =>
  Effect.flatMap(ApiSimulator.baseUrl, (baseUrl) =>
    ShipStationApi.make({ ...options, baseUrl }).pipe(Effect.provide(FetchHttpClient.layer))
  )

/** `ShipStationApi.layer` pointed at the simulator in context. */
export const clientLayer = Layer.unwrapEffect(
  Effect.map(ApiSimulator.baseUrl, (baseUrl) =>
    ShipStationApi.ShipStationApi.layer({ baseUrl }).pipe(Layer.provide(FetchHttpClient.layer))
  )
)

/** Serves `app` on a random port for the scope; returns its base URL. */
export const serve = (app: HttpApp.Default): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0 }).pipe(Effect.orDie)
    yield* server.serve(app)
    return server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : ""
  })

export interface ExportRequest {
  readonly storeId: string
  readonly start: string
  readonly end: string
  readonly page: number
  readonly status: number
}

/**
 * A tiny Custom Store export: `GET /shipstation/{id}?action=export&start_date&end_date&page`, Basic auth, the
 * orders whose LastModified minute lies in the window (end minute inclusive), two per page.
 */
export const fakeExport = (store: {
  readonly id: string
  readonly username: string
  readonly password: string
  readonly orders: ReadonlyArray<{ readonly id: string; readonly modified: number }>
}) =>
  Effect.gen(function* () {
    const seen = yield* Ref.make<ReadonlyArray<ExportRequest>>([])
    const parse = (s: string) => {
      const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/.exec(s)
      return m ? Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!) : Number.NaN
    }
    const app: HttpApp.Default = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://export.invalid")
      const q = url.searchParams
      const start = q.get("start_date") ?? ""
      const end = q.get("end_date") ?? ""
      const page = Number(q.get("page") ?? "1")
      const expected = `Basic ${btoa(`${store.username}:${store.password}`)}`
      const status =
        url.pathname !== `/shipstation/${store.id}` ? 404 : request.headers.authorization !== expected ? 401 : 200
      yield* Ref.update(seen, (all) => [...all, { storeId: url.pathname, start, end, page, status }])
      if (status !== 200) return HttpServerResponse.text("no", { status })
      const [from, to] = [parse(start), parse(end) + 60_000]
      const inWindow = store.orders.filter((o) => o.modified >= from && o.modified < to)
      const pages = Math.max(1, Math.ceil(inWindow.length / 2))
      const body = inWindow
        .slice((page - 1) * 2, page * 2)
        .map(
          (o) =>
            `<Order><OrderID><![CDATA[${o.id}]]></OrderID><LastModified>${ShipStationClient.formatDate(o.modified)}</LastModified></Order>`
        )
        .join("")
      return HttpServerResponse.text(
        `<?xml version="1.0" encoding="utf-8"?><Orders pages="${pages}">${body}</Orders>`,
        {
          contentType: "text/xml"
        }
      )
    })
    const baseUrl = yield* serve(app)
    return { baseUrl, requests: Ref.get(seen) }
  })
