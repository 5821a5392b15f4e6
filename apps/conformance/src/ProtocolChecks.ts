/**
 * Protocol checks that need neither the POS nor the bridge clock: they only speak ShipStation's side of the
 * Custom Store protocol to a server over HTTP, so they run against the in-process bridge (as scenarios) and
 * against any running posbridge server (`--url`). Each returns its problems; an empty list is a pass.
 */

import { ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"

const minute = 60_000

export interface StoreLogin {
  readonly id: string
  readonly username: string
  readonly password: string
}

export interface Target {
  readonly url: string
  readonly store: StoreLogin
  /** A second store of the same server, for the cross-store credential check. */
  readonly other?: StoreLogin | undefined
  /** ShipStation's "now" (the end of a fresh window). */
  readonly now: () => number
  /** How far back the paging check looks, in minutes. */
  readonly lookbackMinutes?: number | undefined
  /** Makes tracking numbers and order numbers unique per run, so repeated runs never collide. */
  readonly runId?: string | undefined
}

const creds = (s: StoreLogin): SS.Credentials => ({ username: s.username, password: s.password })

const recent = (t: Target) => ({ start: t.now() - 60 * minute, end: t.now() })

const wellFormedOrders = (body: string) =>
  /^\s*(<\?xml[^>]*\?>\s*)?<Orders[^>]*pages="\d+"[\s\S]*(\/>|<\/Orders>)\s*$/.test(body)

/** A wrong password, by Basic auth and by query: 401 with a sentence, no orders. */
export const badCredentials = (t: Target) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const wrong = { username: t.store.username, password: `${t.store.password}-not-the-password` }
    for (const auth of ["basic", "query"] as const) {
      const r = yield* SS.poll(t.url, t.store.id, wrong, recent(t), { auth })
      if (!(r.status === 401 && r.body.trim().length > 0 && !/<Order>/.test(r.body))) {
        problems.push(`${auth}: expected 401 with a reason, got ${r.status} ${r.body.slice(0, 80)}`)
      }
    }
    return problems
  })

/** The store's credentials are accepted both as HTTP Basic and as SS-UserName / SS-Password query parameters. */
export const bothCredentialForms = (t: Target) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const auth of ["basic", "query"] as const) {
      const r = yield* SS.poll(t.url, t.store.id, creds(t.store), recent(t), { auth })
      if (r.status !== 200 || !wellFormedOrders(r.body)) {
        problems.push(
          `${auth} credentials: expected 200 with an Orders document, got ${r.status} ${r.body.slice(0, 120)}`
        )
      }
    }
    return problems
  })

/** Store B's valid credentials on store A's URL (and the other way round) are refused, for export and notices. */
export const credentialsOfAnotherStore = (t: Target) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const other = t.other
    if (other === undefined) return ["no second store was given"]
    for (const [url, login] of [
      [t.store, other],
      [other, t.store]
    ] as const) {
      const r = yield* SS.poll(t.url, url.id, creds(login), recent(t))
      if (r.status !== 401)
        problems.push(`export on ${url.id} with ${login.id}'s credentials: expected 401, got ${r.status}`)
      const n = yield* SS.shipNotify(t.url, url.id, creds(login), {
        orderNumber: "1",
        carrier: "UPS",
        trackingNumber: `X${t.runId ?? ""}`
      })
      if (n.status !== 401) {
        problems.push(`ship notice on ${url.id} with ${login.id}'s credentials: expected 401, got ${n.status}`)
      }
    }
    return problems
  })

const rawPoll = (t: Target, dates: { readonly start: string; readonly end: string }) =>
  SS.poll(t.url, t.store.id, creds(t.store), { start: 0, end: 0 }, { rawDates: dates })

/** Dates in other forms and impossible dates: 400 naming the parameter; seconds and AM/PM are tolerated. */
export const malformedDates = (t: Target) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const cases = [
      { start: "2024-06-03 10:00", end: "06/03/2024 11:00", name: "start_date" },
      { start: "06/03/2024 10:00", end: "02/30/2024 11:00", name: "end_date" },
      { start: "", end: "06/03/2024 11:00", name: "start_date" }
    ]
    for (const c of cases) {
      const r = yield* rawPoll(t, c)
      if (!(r.status === 400 && r.body.includes(c.name))) {
        problems.push(`${c.start} / ${c.end}: expected 400 naming ${c.name}, got ${r.status} ${r.body.trim()}`)
      }
    }
    const ok = yield* rawPoll(t, { start: "6/3/2024 9:00:30 AM", end: "06/03/2024 10:00" })
    if (ok.status !== 200) problems.push(`seconds and AM/PM should be tolerated, got ${ok.status} ${ok.body.trim()}`)
    return problems
  })

/** A window whose start is after its end: 400 naming start_date. */
export const startAfterEnd = (t: Target) =>
  Effect.gen(function* () {
    const r = yield* rawPoll(t, { start: "06/03/2024 12:00", end: "06/03/2024 11:00" })
    return r.status === 400 && r.body.includes("start_date")
      ? []
      : [`start after end: expected 400 naming start_date, got ${r.status} ${r.body.trim()}`]
  })

/** A window with no orders (in 2001, before any POS data) is still a well-formed Orders document. */
export const emptyWindow = (t: Target) =>
  Effect.gen(function* () {
    const r = yield* SS.poll(t.url, t.store.id, creds(t.store), {
      start: Date.parse("2001-01-01T00:00:00Z"),
      end: Date.parse("2001-01-01T01:00:00Z")
    })
    return r.status === 200 && wellFormedOrders(r.body) && r.orders.length === 0
      ? []
      : [`empty window answered ${r.status}: ${r.body.slice(0, 120)}`]
  })

/**
 * A URL for a store that does not exist answers 401, exactly like a real store given credentials that are not its
 * own, so that nobody can list store ids by probing.
 */
export const unknownStore = (t: Target) =>
  Effect.gen(function* () {
    const id = `no-such-store${t.runId ? `-${t.runId}` : ""}`
    const r = yield* SS.poll(t.url, id, creds(t.store), recent(t))
    const wrong = yield* SS.poll(
      t.url,
      t.store.id,
      { username: t.store.username, password: "not-the-password" },
      recent(t)
    )
    return r.status === 401 && r.body === wrong.body
      ? []
      : [`expected the same 401 as wrong credentials, got ${r.status}: ${r.body.slice(0, 120)}`]
  })

const exportPage = (t: Target, window: { start: number; end: number }, page: number) => {
  const params = new URLSearchParams({
    action: "export",
    start_date: SS.formatDate(window.start),
    end_date: SS.formatDate(window.end),
    page: String(page)
  })
  return SS.request(`${t.url}/shipstation/${t.store.id}?${params}`, {
    headers: { authorization: `Basic ${btoa(`${t.store.username}:${t.store.password}`)}` }
  })
}

/** One poll of the lookback window, pages 1..N: `pages` never changes and every OrderID appears once. */
export const pagingStability = (t: Target) =>
  Effect.gen(function* () {
    const end = t.now()
    const start = end - (t.lookbackMinutes ?? 7 * 24 * 60) * minute
    const r = yield* SS.poll(t.url, t.store.id, creds(t.store), { start, end })
    if (r.status !== 200) return [`poll answered ${r.status}: ${r.body.trim().slice(0, 120)}`]
    const problems: Array<string> = []
    if (!Number.isInteger(r.pages)) problems.push("page 1 has no pages attribute")
    if (new Set(r.pageCounts).size > 1) {
      problems.push(`pages changed between page requests (${r.pageCounts.join(", ")})`)
    }
    const ids = r.orders.map((o) => o.posRef)
    const dupes = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))]
    if (dupes.length > 0) problems.push(`order(s) ${dupes.join(", ")} served twice across pages`)
    return problems
  })

/** The page after the last is answered 200 with a well-formed Orders document without orders. */
export const pageBeyondLast = (t: Target) =>
  Effect.gen(function* () {
    const window = recent(t)
    const first = yield* exportPage(t, window, 1)
    if (first.status !== 200) return [`page 1 answered ${first.status}: ${first.body.trim().slice(0, 120)}`]
    const pages = SS.parseOrders(first.body, 1).pages
    const beyond = yield* exportPage(t, window, Math.max(pages, 1) + 1)
    return beyond.status === 200 && wellFormedOrders(beyond.body) && SS.parseOrders(beyond.body, 2).orders.length === 0
      ? []
      : [
          `page ${Math.max(pages, 1) + 1} of ${pages}: expected 200 with no orders, got ${beyond.status} ${beyond.body.slice(0, 120)}`
        ]
  })

/**
 * The same notice twice: 200 both times, "already received" the second time. The order number is made up for
 * this run, so no real order is shipped or written back to the POS: the server keeps it for the operator.
 */
export const duplicateShipNotice = (t: Target) =>
  Effect.gen(function* () {
    const run = t.runId ?? "0"
    const notice = {
      orderNumber: `CONFORMANCE-${run}`,
      carrier: "UPS",
      trackingNumber: `1ZCONF${run}`
    }
    const a = yield* SS.shipNotify(t.url, t.store.id, creds(t.store), notice)
    const b = yield* SS.shipNotify(t.url, t.store.id, creds(t.store), notice)
    const problems: Array<string> = []
    if (a.status !== 200 || b.status !== 200) problems.push(`notices answered ${a.status} and ${b.status}`)
    else if (/already received/.test(a.body)) {
      problems.push(`the first notice was taken for a retry (run id ${run} was used before?): ${a.body.trim()}`)
    } else if (!/already received/.test(b.body)) problems.push(`the retry was not recognized: ${b.body.trim()}`)
    return problems
  })
