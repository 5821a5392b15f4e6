/**
 * A simulator of the __NAME__ API for tests and demos: the one endpoint the template's PosSource reads,
 * `GET /api/orders?updated_since=…` with a bearer token, over orders a test adds and changes the way a merchant
 * would. Grow it with the adapter (every endpoint it calls, the POS's shape quirks, paging, rate limits; pos-testkit
 * has fault injection and a scaled clock) and record fixtures from it. Keep every change to the account in
 * `control`, reading the time from `Clock`, so tests can run it under a simulated clock.
 *
 * Serve `app` in-process as an `HttpClient` (pos-testkit's `SimServer.makeClient(app)`) or over HTTP in an app.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, DateTime, Effect } from "effect"

export interface OrderInput {
  readonly number: string
  readonly customer: { readonly code: string; readonly name: string }
  readonly shipTo: {
    readonly name: string
    readonly address1: string
    readonly city: string
    readonly state: string
    readonly postalCode: string
    readonly country: string
  }
  readonly lines: ReadonlyArray<{
    readonly sku: string
    readonly name: string
    readonly qty: number
    readonly price: string
  }>
  readonly total: string
}

export interface Control {
  /** A new order, created and modified now; returns its id. */
  readonly addOrder: (input: OrderInput) => Effect.Effect<string>
  /** The merchant edits (or just re-saves) an order: its modified time moves to now. */
  readonly updateOrder: (id: string, change?: Partial<OrderInput>) => Effect.Effect<void>
}

export interface Simulator {
  readonly app: HttpRouter.HttpRouter
  readonly control: Control
}

interface Stored {
  readonly id: string
  readonly createdAt: number
  updatedAt: number
  input: OrderInput
}

const iso = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis))

/** An order as the API sends it (the shape `Source.ts` decodes). */
const render = ({ id, createdAt, updatedAt, input }: Stored) => ({
  id,
  number: input.number,
  created_at: iso(createdAt),
  updated_at: iso(updatedAt),
  customer: input.customer,
  ship_to: {
    name: input.shipTo.name,
    address1: input.shipTo.address1,
    city: input.shipTo.city,
    state: input.shipTo.state,
    postal_code: input.shipTo.postalCode,
    country: input.shipTo.country
  },
  lines: input.lines.map((line, i) => ({ id: String(i + 1), ...line })),
  total: input.total
})

export const make = (options: { readonly token?: string } = {}): Effect.Effect<Simulator> =>
  Effect.sync(() => {
    const token = options.token ?? "sim-token"
    const orders = new Map<string, Stored>()
    let nextId = 500

    const listOrders = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (request.headers.authorization !== `Bearer ${token}`) {
        return HttpServerResponse.unsafeJson({ error: "unauthorized" }, { status: 401 })
      }
      const query = yield* HttpServerRequest.ParsedSearchParams
      const since = Date.parse(String(query.updated_since ?? ""))
      if (Number.isNaN(since)) return HttpServerResponse.unsafeJson({ error: "bad updated_since" }, { status: 400 })
      const changed = [...orders.values()]
        .filter((o) => o.updatedAt >= since)
        .sort((a, b) => a.updatedAt - b.updatedAt || Number(a.id) - Number(b.id))
      return HttpServerResponse.unsafeJson({ orders: changed.map(render) })
    })
    const app = HttpRouter.empty.pipe(HttpRouter.get("/api/orders", listOrders))

    const control: Control = {
      addOrder: (input) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const id = String(++nextId)
          orders.set(id, { id, createdAt: now, updatedAt: now, input })
          return id
        }),
      updateOrder: (id, change = {}) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const order = orders.get(id)
          if (order === undefined) return Effect.dieMessage(`Simulator: no order ${id}`)
          order.input = { ...order.input, ...change }
          order.updatedAt = now
          return Effect.void
        })
    }
    return { app, control }
  })
