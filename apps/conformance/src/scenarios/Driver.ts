/**
 * ShipStation's side of a scenario: it polls the in-process bridge the way ShipStation schedules polls, keeps the
 * record of every order served, and checks DESIGN.md's invariants from the server's answers alone:
 *   - stable paging (on every poll): across pages 1..N of one poll every OrderID appears once and `pages` never
 *     changes;
 *   - no missed version (the closing check, PosOracle): every version the POS saved (the simulator's change log)
 *     and every touch is served, after the bridge could have pulled it, with a LastModified at or after its minute
 *     and newer than what ShipStation had of that order before, given contiguous or overlapping windows, a final
 *     sync and a final catch-up poll.
 */

import { PosOracle, ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import type * as ProtocolChecks from "../ProtocolChecks.js"

export const minute = PosOracle.minute
export const floorMinute = PosOracle.floorMinute

/**
 * The oracle of the no-miss check, one named input: the versions some later poll must serve. By default the POS
 * side's own record (the simulator's change log placed on the harness's timeline, `posChangeLog`), never the store
 * under test.
 */
export type VersionOracle = () => ReadonlyArray<PosOracle.Version>

export const posChangeLog =
  (bridge: Bridge.Bridge): VersionOracle =>
  () =>
    bridge.timeline.versions()

/** One order in one export answer, with the bridge time and timeline position of the page request that served it. */
export interface Served extends SS.ServedOrder, PosOracle.Served {}

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

export const make = (bridge: Bridge.Bridge, mustServe: VersionOracle = posChangeLog(bridge)): Driver => ({
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
    // Each page request is placed on the timeline: a later page renders what changed after page 1.
    const pages = new Map<number, { readonly at: number; readonly position: number }>()
    const page = (n: number) => {
      const at = d.bridge.clock.now()
      pages.set(n, { at, position: d.bridge.timeline.mark({ type: "poll", storeId: store.id, at }) })
    }
    page(1)
    const result = yield* SS.poll(
      d.bridge.url,
      store.id,
      creds(store),
      { start, end },
      {
        ...options,
        betweenPages: (n) =>
          Effect.zipRight(
            options.betweenPages?.(n) ?? Effect.void,
            Effect.sync(() => page(n + 1))
          )
      }
    )
    const window = `poll ${SS.formatDate(start)} – ${SS.formatDate(end)}`
    if (result.status !== 200) {
      d.problems.push(`${window} answered ${result.status}: ${result.body.trim()}`)
      return result
    }
    d.problems.push(...SS.pagingProblems(window, result))
    for (const o of result.orders) d.served.push({ ...o, ...pages.get(o.page)!, storeId: store.id })
    d.lastEnd.set(store.id, Math.max(end, last ?? end))
    return result
  })

/** The common beat of a scenario: the bridge syncs the store, `minutes` pass, ShipStation polls it. */
export const syncThenPoll = (d: Driver, store: Bridge.StoreAccess, minutes: number, options: PollOptions = {}) =>
  Effect.gen(function* () {
    yield* sync(d, store)
    yield* advance(d, minutes)
    return yield* poll(d, store, options)
  })

/**
 * The closing check: every store ShipStation polled syncs once more (so every POS change can have been pulled),
 * ShipStation polls it again well after everything, then every version must have been served.
 */
export const finish = (d: Driver) =>
  Effect.gen(function* () {
    if (d.skipFinal) return
    const polled = [Bridge.stores.orders, Bridge.stores.invoices].filter((s) => d.lastEnd.has(s.id))
    for (const store of polled) yield* sync(d, store)
    yield* advance(d, 30)
    for (const store of polled) yield* poll(d, store)
    d.problems.push(
      ...PosOracle.missedVersions(d.mustServe(), d.served, { held: d.held, polled: new Set(d.lastEnd.keys()) })
    )
  })

/** The in-process server seen as an external target: the main orders store, and the second merchant. */
export const targetOf = (d: Driver): ProtocolChecks.Target => ({
  url: d.bridge.url,
  store: Bridge.stores.orders,
  other: Bridge.stores.other,
  now: () => floorMinute(ssNow(d))
})
