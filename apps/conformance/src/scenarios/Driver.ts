/**
 * ShipStation's side of a scenario: it polls the in-process bridge the way ShipStation schedules polls, keeps the
 * record of every order served, and checks DESIGN.md's invariants from the server's answers alone:
 *   - stable paging (on every poll): across pages 1..N of one poll every OrderID appears once and `pages` never
 *     changes;
 *   - no missed version (the closing check): every version the oracle says must be served, changed at bridge
 *     time t, is served after t by some export answer with LastModified ≥ t (minute precision), given contiguous
 *     or overlapping windows and a final catch-up poll.
 */
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import type * as ProtocolChecks from "../ProtocolChecks.js"
import * as SS from "../ShipStationClient.js"

export const minute = 60_000
export const floorMinute = (ms: number) => ms - (ms % minute)

/**
 * The oracle of the no-miss check: the versions some later poll must serve. Today it is the bridge's record of
 * what it ingested (Bridge `versions`, stamped from the store's own `ingestedAt`), which trusts the code under
 * test; a later issue replaces it with the POS side's own record of its changes (the simulators' change log).
 */
export type VersionOracle = () => ReadonlyArray<Bridge.Version>

export const ingestedByBridge =
  (bridge: Bridge.Bridge): VersionOracle =>
  () =>
    bridge.versions

/** One order in one export answer, with the bridge time of the poll that served it. */
export interface Served extends SS.ServedOrder {
  readonly at: number
  readonly storeId: string
}

export interface Driver {
  readonly bridge: Bridge.Bridge
  /** ShipStation's clock minus the bridge clock. */
  offset: number
  readonly problems: Array<string>
  readonly served: Array<Served>
  /** The end of the last window polled, per store. */
  readonly lastEnd: Map<string, number>
  /** posRefs expected to be held back (not served), per store. */
  readonly held: Set<string>
  /** Scenarios that only check protocol answers skip the closing no-miss check. */
  skipFinal: boolean
  /** Where the closing check learns which versions had to be served. */
  readonly mustServe: VersionOracle
}

export const make = (bridge: Bridge.Bridge, mustServe: VersionOracle = ingestedByBridge(bridge)): Driver => ({
  bridge,
  offset: 0,
  problems: [],
  served: [],
  lastEnd: new Map(),
  held: new Set(),
  skipFinal: false,
  mustServe
})

export const creds = (s: Bridge.StoreAccess): SS.Credentials => ({ username: s.username, password: s.password })

/** ShipStation's clock. */
export const ssNow = (d: Driver) => d.bridge.clock.now() + d.offset

export const advance = (d: Driver, minutes: number) => Effect.sync(() => d.bridge.clock.advance(minutes * minute))

/** One sync run of the bridge for a store, as the sync engine does it. */
export const sync = (d: Driver, store: Bridge.StoreAccess = Bridge.stores.orders) => d.bridge.sync(store.id)

/** Records a problem unless `ok`. */
export const expect = (d: Driver, ok: boolean, problem: string) =>
  Effect.sync(() => (ok ? undefined : d.problems.push(problem)))

/** Whether an export answer holds the order. */
export const serves = (r: SS.PollResult, posRef: string | number) => r.orders.some((x) => x.posRef === String(posRef))

export type PollOptions = SS.PollOptions & {
  readonly overlapMinutes?: number
  readonly start?: number
  readonly end?: number
}

/** A poll as ShipStation schedules it: from the last end (minus overlap, or plus a gap) to its own now. */
export const poll = (d: Driver, store: Bridge.StoreAccess, options: PollOptions = {}) =>
  Effect.gen(function* () {
    const end = options.end ?? floorMinute(ssNow(d))
    const last = d.lastEnd.get(store.id)
    const start =
      options.start ?? (last === undefined ? end - 60 * minute : last - (options.overlapMinutes ?? 0) * minute)
    const at = d.bridge.clock.now()
    const result = yield* SS.poll(d.bridge.url, store.id, creds(store), { start, end }, options)
    const window = `poll ${SS.formatDate(start)} – ${SS.formatDate(end)}`
    if (result.status !== 200) {
      d.problems.push(`${window} answered ${result.status}: ${result.body.trim()}`)
      return result
    }
    d.problems.push(...pagingProblems(window, result))
    for (const o of result.orders) d.served.push({ ...o, at, storeId: store.id })
    d.lastEnd.set(store.id, Math.max(end, last ?? end))
    return result
  })

/** Stable paging: each OrderID once across the pages of one poll, and the same `pages` on every page. */
const pagingProblems = (window: string, result: SS.PollResult): Array<string> => {
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

/** The common beat of a scenario: the bridge syncs the store, `minutes` pass, ShipStation polls it. */
export const syncThenPoll = (d: Driver, store: Bridge.StoreAccess, minutes: number, options: PollOptions = {}) =>
  Effect.gen(function* () {
    yield* sync(d, store)
    yield* advance(d, minutes)
    return yield* poll(d, store, options)
  })

/**
 * The no-miss check over what was served: a version of a store ShipStation polled, and not expected to be held
 * back, must have been served by a poll at or after its bridge time with LastModified at or after its minute.
 */
export const missedVersions = (
  mustServe: ReadonlyArray<Bridge.Version>,
  served: ReadonlyArray<Served>,
  options: { readonly held: ReadonlySet<string>; readonly polled: ReadonlySet<string> }
): Array<string> => {
  const byRef = new Map<string, Array<Served>>()
  for (const s of served) {
    const key = `${s.storeId}|${s.posRef}`
    const list = byRef.get(key)
    if (list) list.push(s)
    else byRef.set(key, [s])
  }
  return mustServe
    .filter((v) => !options.held.has(v.posRef) && options.polled.has(v.storeId))
    .filter(
      (v) =>
        !(byRef.get(`${v.storeId}|${v.posRef}`) ?? []).some((s) => s.at >= v.at && s.lastModified >= floorMinute(v.at))
    )
    .map(
      (v) =>
        `missed version: order ${v.posRef} of ${v.storeId} (${v.why} at bridge ${new Date(v.at).toISOString()}) was never served by a later poll`
    )
}

/** The closing check: a catch-up poll well after everything, then every version must have been served. */
export const finish = (d: Driver) =>
  Effect.gen(function* () {
    if (d.skipFinal) return
    yield* advance(d, 30)
    for (const store of [Bridge.stores.orders, Bridge.stores.invoices]) {
      if (d.lastEnd.has(store.id)) yield* poll(d, store)
    }
    const polled = new Set(d.lastEnd.keys())
    d.problems.push(...missedVersions(d.mustServe(), d.served, { held: d.held, polled }))
  })

/** The in-process server seen as an external target: the main orders store, and the second merchant. */
export const targetOf = (d: Driver): ProtocolChecks.Target => ({
  url: d.bridge.url,
  store: Bridge.stores.orders,
  other: Bridge.stores.other,
  now: () => floorMinute(ssNow(d))
})
