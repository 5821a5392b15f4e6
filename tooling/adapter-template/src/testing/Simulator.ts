/**
 * A simulator of the __NAME__ API for tests and demos: the one endpoint the template's PosSource reads,
 * `GET /api/orders?updated_since=…` with a bearer token, over orders a test adds and changes the way a merchant
 * would. One simulator serves many accounts (merchants): each at `/{account}/api/orders` (a store's `baseUrl` is
 * the simulator's plus `/{account}`), the first also at `/api/orders`.
 *
 * Grow it with the adapter (every endpoint it calls, the POS's shape quirks, paging, rate limits; pos-testkit has
 * fault injection and a scaled clock) and record fixtures from it, keeping its two duties to posbridge's oracle:
 *
 * - every save of a document goes to the change log (pos-testkit `ChangeLog`), named as the adapter names it (the
 *   document kind and its `posRef`) with the modified time the API reports, read from `Clock` once per change;
 * - every walk through a list goes to the pulls monitor (pos-testkit `Pulls`): `start` at its first page, `page`
 *   at each later one, `finish` at its last (this endpoint has one page).
 *
 * Serve `app` in-process as an `HttpClient` (pos-testkit's `SimServer.makeClient(app)`) or over HTTP in an app;
 * `Standalone` makes it pos-testkit's `PosSimulator` for `posbridge simulate` and `pnpm conformance`.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { ChangeLog, Pulls } from "@posbridge/pos-testkit"
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

/** One account, changed the way its merchant would. */
export interface Control {
  readonly accountId: string
  /** A new order, created and modified now; returns its id. */
  readonly addOrder: (input: OrderInput) => Effect.Effect<string>
  /** The merchant edits (or just re-saves) an order: its modified time moves to now. */
  readonly updateOrder: (id: string, change?: Partial<OrderInput>) => Effect.Effect<void>
  /** Whether the account has the order. */
  readonly hasOrder: (id: string) => Effect.Effect<boolean>
}

export interface Simulator {
  readonly app: HttpRouter.HttpRouter
  /** The first account. */
  readonly control: Control
  readonly accounts: ReadonlyArray<string>
  readonly account: (id: string) => Control | undefined
  readonly changes: ChangeLog.ChangeLog
  readonly pulls: Pulls.Monitor
}

export interface Options {
  /** The API token every account accepts. Default `sim-token`. */
  readonly token?: string | undefined
  /** Account ids. Default one, `"default"`. */
  readonly accounts?: ReadonlyArray<string> | undefined
  readonly pullIdleMillis?: number | undefined
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

export const make = (options: Options = {}): Effect.Effect<Simulator> =>
  Effect.sync(() => {
    const token = options.token ?? "sim-token"
    const ids = options.accounts !== undefined && options.accounts.length > 0 ? options.accounts : ["default"]
    const changes = ChangeLog.make()
    const pulls = Pulls.make({ idleMillis: options.pullIdleMillis })
    const orders = new Map(ids.map((id) => [id, new Map<string, Stored>()]))
    let nextId = 500

    const saved = (accountId: string, order: Stored, what: string) =>
      changes.record({
        account: accountId,
        kind: "orders",
        ref: order.id,
        at: order.updatedAt,
        posModifiedAt: order.updatedAt,
        what
      })

    const listOrders = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { account = ids[0]! } = yield* HttpRouter.params
      const book = orders.get(account)
      if (book === undefined) return HttpServerResponse.unsafeJson({ error: "no such account" }, { status: 404 })
      if (request.headers.authorization !== `Bearer ${token}`) {
        return HttpServerResponse.unsafeJson({ error: "unauthorized" }, { status: 401 })
      }
      const query = yield* HttpServerRequest.ParsedSearchParams
      const since = Date.parse(String(query.updated_since ?? ""))
      if (Number.isNaN(since)) return HttpServerResponse.unsafeJson({ error: "bad updated_since" }, { status: 400 })
      // One page holds every change: the pull starts and ends here.
      const now = yield* Clock.currentTimeMillis
      pulls.finish(pulls.start(account, "orders", now), now)
      const changed = [...book.values()]
        .filter((o) => o.updatedAt >= since)
        .sort((a, b) => a.updatedAt - b.updatedAt || Number(a.id) - Number(b.id))
      return HttpServerResponse.unsafeJson({ orders: changed.map(render) })
    })
    const routes = HttpRouter.empty.pipe(HttpRouter.get("/api/orders", listOrders))
    const app = HttpRouter.concat(routes, HttpRouter.prefixAll(routes, "/:account"))

    const controlOf = (accountId: string, book: Map<string, Stored>): Control => ({
      accountId,
      addOrder: (input) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const id = String(++nextId)
          const order: Stored = { id, createdAt: now, updatedAt: now, input }
          book.set(id, order)
          saved(accountId, order, "created")
          return id
        }),
      updateOrder: (id, change = {}) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const order = book.get(id)
          if (order === undefined) return Effect.dieMessage(`Simulator: no order ${id}`)
          order.input = { ...order.input, ...change }
          order.updatedAt = now
          const fields = Object.keys(change)
          saved(accountId, order, fields.length === 0 ? "re-saved" : `edited ${fields.join(", ")}`)
          return Effect.void
        }),
      hasOrder: (id) => Effect.sync(() => book.has(id))
    })
    const controls = new Map([...orders].map(([id, book]) => [id, controlOf(id, book)]))
    return {
      app,
      control: controls.get(ids[0]!)!,
      accounts: ids,
      account: (id) => controls.get(id),
      changes,
      pulls
    }
  })
