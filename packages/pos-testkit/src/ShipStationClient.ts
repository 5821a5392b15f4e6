/**
 * ShipStation's side of the Custom Store protocol over real HTTP: export polls with Basic auth or query
 * credentials, windows in UTC (or, to imitate a misconfigured ShipStation, Pacific time), pages 1..N, and ship
 * notices. Answers are read with the small XML subset posbridge renders (OrderID, LastModified, pages).
 */
import { Effect } from "effect"

export interface Credentials {
  readonly username: string
  readonly password: string
}

export interface ServedOrder {
  readonly posRef: string
  readonly lastModified: number
  readonly page: number
}

export interface PollResult {
  readonly status: number
  readonly pages: number
  readonly orders: ReadonlyArray<ServedOrder>
  /** `pages` attribute of every page, in request order. */
  readonly pageCounts: ReadonlyArray<number>
  readonly body: string
}

const two = (n: number) => String(n).padStart(2, "0")

/** `MM/dd/yyyy HH:mm` of `millis` in UTC, or in `timeZone`. */
export const formatDate = (millis: number, timeZone = "UTC"): string => {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit"
    })
      .formatToParts(new Date(millis))
      .map((p) => [p.type, p.value])
  )
  return `${parts.month}/${parts.day}/${parts.year} ${two(Number(parts.hour))}:${parts.minute}`
}

const parseDate = (s: string): number => {
  const m = /^(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2})$/.exec(s.trim())
  return m ? Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5])) : Number.NaN
}

const cdata = (s: string) => s.replace(/^<!\[CDATA\[/, "").replace(/\]\]>$/, "")

export const parseOrders = (xml: string, page: number): { pages: number; orders: Array<ServedOrder> } => {
  const pages = Number(/<Orders[^>]*pages="(\d+)"/.exec(xml)?.[1] ?? Number.NaN)
  const orders = Array.from(xml.matchAll(/<Order>([\s\S]*?)<\/Order>/g), (m) => {
    const body = m[1] ?? ""
    return {
      posRef: cdata(/<OrderID>([\s\S]*?)<\/OrderID>/.exec(body)?.[1] ?? ""),
      lastModified: parseDate(/<LastModified>([\s\S]*?)<\/LastModified>/.exec(body)?.[1] ?? ""),
      page
    }
  })
  return { pages, orders }
}

export interface PollOptions {
  readonly auth?: "basic" | "query" | undefined
  readonly timeZone?: string | undefined
  /** Runs between page requests (after page n has been read). */
  readonly betweenPages?: ((page: number) => Effect.Effect<void>) | undefined
  /** Raw date strings instead of formatted instants (malformed-date cases). */
  readonly rawDates?: { readonly start: string; readonly end: string } | undefined
  /**
   * The server that answers page `n` (default: `baseUrl` for every page): replicas behind a load balancer, page 1
   * from one and later pages from another.
   */
  readonly baseUrlFor?: ((page: number) => string) | undefined
}

const authorize = (credentials: Credentials, auth: "basic" | "query", params: URLSearchParams) => {
  if (auth === "query") {
    params.set("SS-UserName", credentials.username)
    params.set("SS-Password", credentials.password)
    return {}
  }
  return { authorization: `Basic ${btoa(`${credentials.username}:${credentials.password}`)}` }
}

export const request = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, body: await response.text() }
  })

/** One poll: page 1, then pages 2..N as page 1 announced; a request that gets no answer dies (`request`). */
export const poll = (
  baseUrl: string,
  storeId: string,
  credentials: Credentials,
  window: { readonly start: number; readonly end: number },
  options: PollOptions = {}
): Effect.Effect<PollResult> =>
  Effect.gen(function* () {
    const orders: Array<ServedOrder> = []
    const pageCounts: Array<number> = []
    let pages = 1
    let last = { status: 0, body: "" }
    for (let page = 1; page <= pages; page++) {
      const params = new URLSearchParams({
        action: "export",
        start_date: options.rawDates?.start ?? formatDate(window.start, options.timeZone),
        end_date: options.rawDates?.end ?? formatDate(window.end, options.timeZone),
        page: String(page)
      })
      const headers = authorize(credentials, options.auth ?? "basic", params)
      const server = options.baseUrlFor?.(page) ?? baseUrl
      last = yield* request(`${server}/shipstation/${storeId}?${params}`, { headers })
      if (last.status !== 200) return { status: last.status, pages: 0, orders, pageCounts, body: last.body }
      const parsed = parseOrders(last.body, page)
      pageCounts.push(parsed.pages)
      if (page === 1) pages = parsed.pages
      orders.push(...parsed.orders)
      if (page < pages && options.betweenPages) yield* options.betweenPages(page)
    }
    return { status: last.status, pages, orders, pageCounts, body: last.body }
  })

/** Stable paging: each OrderID once across the pages of one poll, and the same `pages` on every page. */
export const pagingProblems = (window: string, result: PollResult): Array<string> => {
  const problems: Array<string> = []
  const ids = result.orders.map((o) => o.posRef)
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i)
  if (dupes.length > 0) {
    problems.push(`${window}: order(s) ${[...new Set(dupes)].join(", ")} served twice across pages`)
  }
  if (new Set(result.pageCounts).size > 1) {
    problems.push(`${window}: pages changed between page requests (${result.pageCounts.join(", ")})`)
  }
  return problems
}

export interface Notice {
  readonly orderId?: string | undefined
  readonly orderNumber: string
  readonly carrier: string
  readonly trackingNumber: string
  readonly items?: ReadonlyArray<{ readonly sku: string; readonly quantity: number }> | undefined
}

export const noticeXml = (n: Notice): string =>
  `<?xml version="1.0" encoding="utf-8"?><ShipNotice>${n.orderId ? `<OrderID>${n.orderId}</OrderID>` : ""}<OrderNumber>${n.orderNumber}</OrderNumber><Carrier>${n.carrier}</Carrier><Service>Ground</Service><TrackingNumber>${n.trackingNumber}</TrackingNumber><ShipDate>06/03/2024</ShipDate><Items>${(n.items ?? []).map((i) => `<Item><SKU>${i.sku}</SKU><Quantity>${i.quantity}</Quantity></Item>`).join("")}</Items></ShipNotice>`

export const shipNotify = (baseUrl: string, storeId: string, credentials: Credentials, notice: Notice) => {
  const params = new URLSearchParams({
    action: "shipnotify",
    order_number: notice.orderNumber,
    carrier: notice.carrier,
    service: "Ground",
    tracking_number: notice.trackingNumber
  })
  return request(`${baseUrl}/shipstation/${storeId}?${params}`, {
    method: "POST",
    headers: { ...authorize(credentials, "basic", params), "content-type": "application/xml" },
    body: noticeXml(notice)
  })
}
