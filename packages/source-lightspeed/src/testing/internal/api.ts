/**
 * The simulator's `/API/V3/Account/{accountID}/` routes: `Sale.json` listed with `param=operator,value` filters,
 * `sort`, `limit`, `load_relations` and cursor paging through `@attributes.next`; one Sale read or written
 * (`PUT`, the adapter's write-back); Quotes. Each request needs a live access token of its account and is charged
 * to the account's leaky bucket before it is answered. A walk through the Sale list (first page, then the `next`
 * links) is one pull for pos-testkit's `Pulls` (feed `sales`): the `after` token of each link carries its id.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type { Pulls } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { saleRelations } from "../../Wire.js"
import type { Account, SimSale } from "./account.js"
import type { Bucket } from "./bucket.js"
import { relationCost } from "./bucket.js"
import type { OAuth } from "./oauth.js"
import { apiError, json, oneOrMany, renderQuote, renderSale } from "./render.js"

export interface ApiOptions {
  /** The account behind an account id in the path, if the simulator has it. */
  readonly account: (accountId: string) => Account | undefined
  readonly oauth: OAuth
  /** The leaky bucket of an account. */
  readonly bucket: (accountId: string) => Bucket
  readonly pulls: Pulls.Monitor
  /** Origin used in `@attributes.next` links. */
  readonly apiBaseUrl: string
  /** Simulated epoch millis. */
  readonly now: Effect.Effect<number>
}

const apiPath = /^\/API\/V3\/Account\/(\d+)\/(Sale|Quote)(?:\/(\d+))?\.json$/

const timeFields = new Set(["timeStamp", "updatetime", "createTime", "completeTime"])
const filterFields = new Set([...timeFields, "saleID", "quoteID", "completed", "voided", "archived", "shopID"])

const parseTime = (s: string): number | undefined => {
  // A `+` sent unencoded arrives as a space: Lightspeed rejects such a date, so does the simulator.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)?$/.test(s)) return undefined
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? undefined : ms
}

const parseRelations = (url: URL): ReadonlySet<string> => {
  const raw = url.searchParams.get("load_relations")
  if (raw === null || raw === "") return new Set()
  if (raw === "all") return new Set(saleRelations)
  try {
    const parsed: unknown = JSON.parse(raw)
    return new Set(Array.isArray(parsed) ? parsed.map(String) : [])
  } catch {
    return new Set()
  }
}

type Filter = (sale: SimSale) => boolean

const saleValue = (sale: SimSale, field: string): number => {
  switch (field) {
    case "timeStamp":
      return sale.timeStamp
    case "updatetime":
      return sale.updatetime
    case "createTime":
      return sale.createTime
    case "completeTime":
      return sale.completeTime ?? 0
    case "quoteID":
      return sale.quoteID
    case "shopID":
      return sale.shopID
    case "completed":
      return sale.completed ? 1 : 0
    case "voided":
      return sale.voided ? 1 : 0
    case "archived":
      return sale.archived ? 1 : 0
    default:
      return sale.saleID
  }
}

const comparisons: Record<string, (a: number, b: number) => boolean> = {
  "=": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b
}

/** `field=op,value` (`=` when no operator), `><,low,high` for a range; a string is the 400's message. */
const parseFilter = (field: string, raw: string): Filter | string => {
  const comma = raw.indexOf(",")
  const ops = new Set([...Object.keys(comparisons), "><"])
  const op = comma > 0 && ops.has(raw.slice(0, comma)) ? raw.slice(0, comma) : "="
  const operand = op === "=" && !raw.startsWith("=,") ? raw : raw.slice(comma + 1)
  const value = (s: string): number | undefined =>
    timeFields.has(field)
      ? parseTime(s)
      : s === "true"
        ? 1
        : s === "false"
          ? 0
          : Number.isFinite(Number(s))
            ? Number(s)
            : undefined
  if (op === "><") {
    const [a, b] = operand.split(",")
    const lo = value(a ?? "")
    const hi = value(b ?? "")
    if (lo === undefined || hi === undefined) return `invalid value for ${field}: ${operand}`
    return (s) => saleValue(s, field) >= lo && saleValue(s, field) <= hi
  }
  const v = value(operand)
  if (v === undefined) return `invalid value for ${field}: ${operand}`
  const compare = comparisons[op] ?? comparisons["="]!
  return (s) => compare(saleValue(s, field), v)
}

/** The `after` token: the last row's sort value and saleID, and the pull the link belongs to. */
const encodeAfter = (value: number, saleID: number, pull: number) =>
  btoa(`${value}:${saleID}:${pull}`).replace(/=+$/, "")
const decodeAfter = (token: string): [number, number, number | undefined] | undefined => {
  try {
    const [a, b, c] = atob(token).split(":").map(Number)
    return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)
      ? [a, b, c !== undefined && Number.isFinite(c) ? c : undefined]
      : undefined
  } catch {
    return undefined
  }
}

/** The body of a Sale PUT, as far as the simulator reads it. */
interface SaleBody {
  readonly SaleNotes?: { InternalNote?: { note?: unknown }; PrintedNote?: { note?: unknown } }
  readonly ShipTo?: { shipped?: unknown; shipNote?: unknown }
}

const text = (v: unknown) => (typeof v === "string" ? v : undefined)

export const makeApi = (options: ApiOptions) => {
  const { oauth, pulls } = options
  const apiBase = options.apiBaseUrl.replace(/\/$/, "")
  const counts = { rateLimited: 0, unauthorized: 0, puts: 0 }

  /** The pull a list request belongs to: the one its `after` token names while it is open, else a new one. */
  const pullOf = (account: Account, after: number | undefined, nowMs: number) => {
    const open =
      after === undefined ? undefined : pulls.open(account.accountId, "sales", nowMs).find((p) => p.id === after)
    if (open === undefined) return pulls.start(account.accountId, "sales", nowMs)
    pulls.page(open, nowMs)
    return open
  }

  const listSales = (
    account: Account,
    bucket: Bucket,
    url: URL,
    relations: ReadonlySet<string>,
    cost: number,
    nowMs: number
  ) => {
    const filters: Array<Filter> = []
    for (const [key, raw] of url.searchParams) {
      if (!filterFields.has(key)) continue
      const f = parseFilter(key, raw)
      if (typeof f === "string") return apiError(400, f, bucket.headers(cost))
      filters.push(f)
    }
    const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? "100") || 100))
    const sortRaw = url.searchParams.get("sort") ?? "saleID"
    const desc = sortRaw.startsWith("-")
    const sortField = desc ? sortRaw.slice(1) : sortRaw
    const sign = desc ? -1 : 1
    const matched: Array<{ readonly sale: SimSale; readonly v: number }> = []
    for (const sale of account.sales.values())
      if (filters.every((f) => f(sale))) matched.push({ sale, v: saleValue(sale, sortField) })
    const cmp = (av: number, aid: number, bv: number, bid: number) => (av - bv || aid - bid) * sign
    matched.sort((a, b) => cmp(a.v, a.sale.saleID, b.v, b.sale.saleID))
    const afterRaw = url.searchParams.get("after")
    let start = 0
    let after: ReturnType<typeof decodeAfter>
    if (afterRaw !== null && afterRaw !== "") {
      after = decodeAfter(afterRaw)
      if (after === undefined) return apiError(400, "invalid after cursor", bucket.headers(cost))
      const [value, saleID] = after
      start = matched.findIndex((m) => cmp(m.v, m.sale.saleID, value, saleID) > 0)
      if (start < 0) start = matched.length
    }
    const pull = pullOf(account, after?.[2], nowMs)
    const page = matched.slice(start, start + limit).map((m) => m.sale)
    const last = page[page.length - 1]
    let next = ""
    // A full page always links onward, even when nothing follows: clients must follow `next` until empty.
    if (page.length === limit && last !== undefined) {
      const nextUrl = new URL(`${apiBase}${url.pathname}`)
      for (const [k, v] of url.searchParams) if (k !== "after") nextUrl.searchParams.append(k, v)
      nextUrl.searchParams.set("after", encodeAfter(saleValue(last, sortField), last.saleID, pull.id))
      next = nextUrl.toString()
    }
    if (next === "") pulls.finish(pull, nowMs)
    const body: Record<string, unknown> = { "@attributes": { next, previous: "" } }
    if (page.length > 0) body.Sale = oneOrMany(page.map((s) => renderSale(account, s, relations)))
    return json(body, 200, bucket.headers(cost))
  }

  const updateSale = (
    request: HttpServerRequest.HttpServerRequest,
    account: Account,
    bucket: Bucket,
    sale: SimSale,
    cost: number
  ) =>
    Effect.gen(function* () {
      const body = yield* Effect.orElseSucceed(request.json, () => undefined)
      if (typeof body !== "object" || body === null) return apiError(400, "invalid JSON body", bucket.headers(cost))
      const b = body as SaleBody
      counts.puts++
      yield* account.write(sale, {
        internalNote: text(b.SaleNotes?.InternalNote?.note),
        printedNote: text(b.SaleNotes?.PrintedNote?.note),
        shipped: b.ShipTo?.shipped === undefined ? undefined : String(b.ShipTo.shipped) === "true",
        shipNote: text(b.ShipTo?.shipNote)
      })
      return json({ Sale: renderSale(account, sale, new Set(["SaleNotes", "ShipTo"])) }, 200, bucket.headers(cost))
    })

  const route = (request: HttpServerRequest.HttpServerRequest, url: URL) =>
    Effect.gen(function* () {
      const m = apiPath.exec(url.pathname)
      const account = m === null ? undefined : options.account(m[1] ?? "")
      if (m === null || account === undefined) return apiError(404, "Not Found")
      const nowMs = yield* options.now
      const bucket = options.bucket(account.accountId)
      if (!oauth.isAuthorized(request.headers.authorization ?? "", nowMs, account.accountId)) {
        counts.unauthorized++
        return json({ error: "access_denied", error_description: "The access token is invalid or has expired" }, 401)
      }
      const [, , resource, id] = m
      const relations = parseRelations(url)
      const isList = id === undefined
      const isWrite = request.method !== "GET"
      const cost = isWrite ? 10 : 1 + relationCost * relations.size * (isList ? 2 : 1)
      const charged = bucket.charge(nowMs, cost)
      if (!charged.ok) {
        counts.rateLimited++
        return apiError(429, "Rate limit exceeded", {
          "retry-after": String(charged.retryAfter),
          "x-ls-api-ratelimit-type": "bucket",
          ...bucket.headers(cost)
        })
      }
      if (resource === "Quote") {
        if (id === undefined) {
          const list = [...account.quotes.values()].map(renderQuote)
          return json({ "@attributes": { next: "", previous: "" }, Quote: oneOrMany(list) }, 200, bucket.headers(cost))
        }
        const q = account.quotes.get(Number(id))
        return q === undefined
          ? apiError(404, "Quote not found")
          : json({ Quote: renderQuote(q) }, 200, bucket.headers(cost))
      }
      if (id === undefined) {
        return request.method === "GET"
          ? listSales(account, bucket, url, relations, cost, nowMs)
          : apiError(405, "Method Not Allowed")
      }
      const sale = account.sales.get(Number(id))
      if (sale === undefined) return apiError(404, `Sale ${id} not found`, bucket.headers(cost))
      if (request.method === "PUT") return yield* updateSale(request, account, bucket, sale, cost)
      if (request.method === "GET")
        return json({ Sale: renderSale(account, sale, relations) }, 200, bucket.headers(cost))
      return apiError(405, "Method Not Allowed")
    })

  return { counts, route }
}
