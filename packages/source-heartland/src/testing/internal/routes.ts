/**
 * The simulator's HTTP API: Sales Orders and Invoices listed, read and their lines listed under the same paths as
 * Heartland's (`/api/sales/orders`, `/api/sales/invoices`, `…/:id`, `…/:id/lines`, `_include[]=customer`), an
 * order written (`PUT`, the adapter's write-back), items and a customer's addresses. Every route needs the
 * account's bearer token and is counted; amounts are rendered as JSON numbers, as Heartland does.
 *
 * Each account has its own subdomain in Heartland; here every account is served under `/{account}/api/…` (its
 * base URL is the simulator's plus `/{account}`), and the first one also at `/api/…`. Walks through the order
 * and invoice lists are reported to the pulls monitor (`pullOf`).
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Decimal } from "@posbridge/core"
import type { Pulls } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import type { Account, Json, SimDocument, SimLine } from "./account.js"
import { BadRequest, list } from "./query.js"

export type RouteName =
  | "orders.list"
  | "orders.get"
  | "orders.lines"
  | "orders.put"
  | "invoices.list"
  | "invoices.get"
  | "invoices.lines"
  | "items.list"
  | "customers.addresses"

export const zeroRoutes = (): Record<RouteName, number> => ({
  "orders.list": 0,
  "orders.get": 0,
  "orders.lines": 0,
  "orders.put": 0,
  "invoices.list": 0,
  "invoices.get": 0,
  "invoices.lines": 0,
  "items.list": 0,
  "customers.addresses": 0
})

export interface RoutesOptions {
  /** The account served under `/{id}` (`undefined`: the one at the root), if there is one. */
  readonly account: (id: string | undefined) => Account | undefined
  /** Whether an `Authorization` header opens the account. */
  readonly authorized: (account: Account, authorization: string | undefined) => boolean
  /** Largest `per_page` honoured. */
  readonly maxPerPage: number
  readonly pulls: Pulls.Monitor
  /** Simulated epoch millis. */
  readonly now: Effect.Effect<number>
}

/** Where a pull of a list stands after a page: what the adapter's next request looks like if it continues. */
interface Walk {
  readonly account: string
  readonly feed: string
  readonly page: number
  /** The `updated_at` `$gt` bound of the page. */
  readonly after: string | undefined
  /** The latest `updated_at` on the page: a keyset walk restarts at page 1 just before it. */
  readonly latest: number | undefined
}

const updatedAfter = (url: URL): string | undefined => {
  try {
    const filter = JSON.parse(url.searchParams.get("_filter") ?? "{}") as { updated_at?: { $gt?: unknown } }
    const bound = filter.updated_at?.$gt
    return typeof bound === "string" ? bound : undefined
  } catch {
    return undefined
  }
}

/**
 * Follows the adapter's walks through a list (pos-testkit `Pulls`): a request continues an open pull when it asks
 * for the next page under the same bound, or for page 1 from just before the latest `updated_at` of the pull's
 * last page (the keyset restart); anything else starts a pull. The page that answers fewer rows than asked for,
 * or the last page, ends it.
 */
const makeWalks = (pulls: Pulls.Monitor) => {
  const walks = new Map<number, Walk>()
  return (accountId: string, feed: string, url: URL, answer: ReturnType<typeof list>, now: number) => {
    const page = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1)
    const perPage = Math.max(1, Number(url.searchParams.get("per_page") ?? "20") || 20)
    const after = updatedAfter(url)
    const open = pulls.open(accountId, feed, now)
    // Only this account's walks can have ended here: another account's open pulls are not in `open`.
    for (const [id, w] of walks) {
      if (w.account === accountId && w.feed === feed && !open.some((p) => p.id === id)) walks.delete(id)
    }
    // The newest walk the request continues: two runners that read from the same cursor send the same requests, and
    // a handover (the old runner stopped mid-walk, the new owner starting over) must not make the stopped walk look
    // as if it went on. Two walks really in flight together still interleave whichever is matched.
    const continued = [...open].reverse().find((p) => {
      const w = walks.get(p.id)
      if (w === undefined) return false
      if (page === w.page + 1 && after === w.after) return true
      return page === 1 && w.latest !== undefined && after !== undefined && Date.parse(after) === w.latest - 1
    })
    const pull = continued ?? pulls.start(accountId, feed, now)
    if (continued !== undefined) pulls.page(continued, now)
    const last = answer.results.at(-1)?.updated_at
    if (answer.results.length < perPage || page >= answer.pages) {
      pulls.finish(pull, now)
      walks.delete(pull.id)
    } else {
      walks.set(pull.id, {
        account: accountId,
        feed,
        page,
        after,
        latest: typeof last === "string" ? Date.parse(last) : undefined
      })
    }
  }
}

const dec = (s: string) => Decimal.unsafeMake(s)
const asNumber = (d: string) => Number(d)

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const totals = (doc: SimDocument) => {
  const tax = Decimal.sum(doc.lines.map((l) => dec(l.total_tax)))
  const goods = Decimal.sum(doc.lines.map((l) => Decimal.multiplyInt(dec(l.adjusted_unit_price), l.qty)))
  return { tax, total: Decimal.sum([goods, tax, dec(doc.shipping_charge)]) }
}

const render = (account: Account, doc: SimDocument, includeCustomer: boolean): Record<string, unknown> => {
  const { lines: _lines, ...rest } = doc
  const { tax, total } = totals(doc)
  const row: Record<string, unknown> = {
    ...rest,
    shipping_charge: asNumber(doc.shipping_charge),
    total: asNumber(total),
    total_tax: asNumber(tax),
    source_location_id: 1,
    shipping_method_id: null
  }
  if (includeCustomer) row.customer = doc.customer_id === null ? null : (account.customers.get(doc.customer_id) ?? null)
  return row
}

const renderLine = (line: SimLine) => ({
  ...line,
  original_unit_price: asNumber(line.original_unit_price),
  adjusted_unit_price: asNumber(line.adjusted_unit_price),
  total_tax: asNumber(line.total_tax)
})

const includesCustomer = (url: URL) => url.searchParams.getAll("_include[]").includes("customer")

export const makeRoutes = (options: RoutesOptions) => {
  const counts = { byRoute: zeroRoutes(), unauthorized: 0 }
  const walked = makeWalks(options.pulls)
  const rows = (source: ReadonlyArray<Record<string, unknown>>, url: URL) => list(source, url, options.maxPerPage)

  const guarded = (
    name: RouteName,
    handler: (
      account: Account,
      url: URL,
      params: Readonly<Record<string, string | undefined>>,
      request: HttpServerRequest.HttpServerRequest
    ) => Effect.Effect<HttpServerResponse.HttpServerResponse>
  ) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const params = yield* HttpRouter.params
      const account = options.account(params.account)
      if (account === undefined) return json({ error: "not_found", message: "no such account" }, 404)
      if (!options.authorized(account, request.headers.authorization)) {
        counts.unauthorized++
        return json({ error: "unauthorized", message: "Invalid or missing API token" }, 401)
      }
      counts.byRoute[name]++
      const url = new URL(request.url, "http://heartland.sim")
      return yield* Effect.suspend(() => handler(account, url, params, request)).pipe(
        Effect.catchAllDefect((defect) =>
          defect instanceof BadRequest
            ? Effect.succeed(json({ error: "bad_request", message: defect.message }, 400))
            : Effect.die(defect)
        )
      )
    })

  const documentRoutes = (kind: "orders" | "invoices") => {
    const base = `/api/sales/${kind}` as const
    const find = (account: Account, params: Readonly<Record<string, string | undefined>>) =>
      account[kind].get(Number(params.id))
    const notFound = json({ error: "not_found", message: `no such ${kind === "orders" ? "order" : "invoice"}` }, 404)
    return [
      HttpRouter.get(
        base,
        guarded(`${kind}.list`, (account, url) =>
          Effect.map(options.now, (now) => {
            const include = includesCustomer(url)
            const answer = rows(
              [...account[kind].values()].map((doc) => render(account, doc, include)),
              url
            )
            walked(account.accountId, kind, url, answer, now)
            return json(answer)
          })
        )
      ),
      HttpRouter.get(
        `${base}/:id`,
        guarded(`${kind}.get`, (account, url, params) =>
          Effect.sync(() => {
            const doc = find(account, params)
            return doc === undefined ? notFound : json(render(account, doc, includesCustomer(url)))
          })
        )
      ),
      HttpRouter.get(
        `${base}/:id/lines`,
        guarded(`${kind}.lines`, (account, url, params) =>
          Effect.sync(() => {
            const doc = find(account, params)
            return doc === undefined ? notFound : json(rows(doc.lines.map(renderLine), url))
          })
        )
      )
    ] as const
  }

  const [ordersList, ordersGet, ordersLines] = documentRoutes("orders")
  const [invoicesList, invoicesGet, invoicesLines] = documentRoutes("invoices")

  const routes = HttpRouter.empty.pipe(
    ordersList,
    ordersGet,
    ordersLines,
    invoicesList,
    invoicesGet,
    invoicesLines,
    HttpRouter.put(
      "/api/sales/orders/:id",
      guarded("orders.put", (account, _url, params, request) =>
        Effect.gen(function* () {
          const doc = account.orders.get(Number(params.id))
          if (doc === undefined) return json({ error: "not_found", message: "no such order" }, 404)
          const body = yield* Effect.orElseSucceed(request.json, () => undefined)
          if (typeof body !== "object" || body === null)
            return json({ error: "bad_request", message: "expected a JSON object" }, 400)
          const patch = body as { custom?: unknown; status?: unknown }
          if (patch.custom !== undefined && (typeof patch.custom !== "object" || patch.custom === null)) {
            return json({ error: "bad_request", message: "custom must be an object" }, 400)
          }
          yield* account.write(doc, {
            custom: patch.custom as Record<string, Json> | undefined,
            status: typeof patch.status === "string" ? patch.status : undefined
          })
          return json(render(account, doc, false))
        })
      )
    ),
    HttpRouter.get(
      "/api/items",
      guarded("items.list", (account, url) => Effect.sync(() => json(rows([...account.items.values()] as never, url))))
    ),
    HttpRouter.get(
      "/api/customers/:id/addresses",
      guarded("customers.addresses", (account, url, params) =>
        Effect.sync(() => {
          const id = Number(params.id)
          if (!account.customers.has(id)) return json({ error: "not_found", message: "no such customer" }, 404)
          return json(rows([...account.addresses.values()].filter((a) => a.customer_id === id) as never, url))
        })
      )
    )
  )

  // Every account under its own prefix; the first also at the root (a single-account simulator's base URL).
  const router = HttpRouter.concat(routes, HttpRouter.prefixAll(routes, "/:account"))
  return { counts, router }
}
