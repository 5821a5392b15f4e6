/**
 * The "no missed version" oracle: which versions ShipStation must have received, decided from the POS side's own
 * record of what it changed and when (the simulator's change log, pos-testkit `ChangeLog`) and from what the
 * harness itself did (syncs it asked for, an operator's touches), never from the store under test; and whether
 * what the ShipStation client actually received (every order in every export page, with its LastModified)
 * covers them. The rule is written out in apps/conformance/README.md ("The oracle").
 *
 * Everything is placed on one line of positions: in-process, a `Timeline` numbers the harness's events and
 * slots each POS change in before the first event after it (the bridge clock may stand still, so times cannot
 * order them); against a running server (`--url`) the positions are wall-clock times.
 */
import type * as ChangeLog from "./ChangeLog.js"

export const minute = 60_000
export const floorMinute = (ms: number) => ms - (ms % minute)

/** A version some export answer must carry. */
export interface Version {
  readonly storeId: string
  readonly posRef: string
  /** When it was made: the POS's time of the save, or the bridge time of the touch (epoch ms). */
  readonly at: number
  readonly why: string
  /** Where it happened. */
  readonly position: number
  /** From where on a poll can serve it: after the first sync that could pull it (a touch: at once). */
  readonly servableFrom: number
  /** The POS says the document cannot be shipped (no address…): it is held back, not served. */
  readonly unshippable?: string | undefined
}

/** One order in one export answer. */
export interface Served {
  readonly storeId: string
  readonly posRef: string
  readonly lastModified: number
  /** When the poll that served it began: bridge or wall-clock time, and its position. */
  readonly at: number
  readonly position: number
}

/**
 * A version is served when a poll that began after it became servable carried its order with a LastModified
 * (minute precision) at or after the version's minute and later than every LastModified that order was served
 * with before the version was made, so ShipStation can tell it is new. Versions of stores ShipStation never polled,
 * and of orders expected to be held back, are left out.
 */
export const missedVersions = (
  mustServe: ReadonlyArray<Version>,
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
    .filter((v) => v.unshippable === undefined && !options.held.has(v.posRef) && options.polled.has(v.storeId))
    .filter((v) => {
      const list = byRef.get(`${v.storeId}|${v.posRef}`) ?? []
      const before = list.filter((s) => s.position < v.position).map((s) => s.lastModified)
      const known = before.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...before)
      return !list.some(
        (s) => s.position > v.servableFrom && s.lastModified >= floorMinute(v.at) && s.lastModified > known
      )
    })
    .map(
      (v) =>
        `missed version: order ${v.posRef} of ${v.storeId} (${v.why} at ${new Date(v.at).toISOString()}) was never served by a later poll with a newer LastModified`
    )
}

/** Where a POS document is exported: the store that sends `kind` from `account`, if any. */
export type StoreOf = (change: Pick<ChangeLog.Change, "account" | "kind">) => string | undefined

export interface Event {
  readonly type: "sync" | "touch" | "poll"
  readonly storeId: string
  /** The bridge time of the event. */
  readonly at: number
  /** The touched order. */
  readonly posRef?: string | undefined
}

/**
 * The in-process order of things: the harness marks each sync, touch and poll as it begins; the POS changes
 * made since the previous mark are placed just before it.
 */
export interface Timeline {
  /** Marks an event; returns its position. */
  readonly mark: (event: Event) => number
  /** Every version that must be served: each logged POS change of a store's documents, and each touch. */
  readonly versions: () => ReadonlyArray<Version>
}

/** `re-saved in the POS (version 2, reported as modified 4.1 min earlier)`. */
export const describe = (change: ChangeLog.Change): string => {
  const late = change.at - change.posModifiedAt
  const lateBy =
    late < 1000
      ? ""
      : `, reported as modified ${late < minute ? `${Math.round(late / 1000)} s` : `${(late / minute).toFixed(1)} min`} earlier`
  return `${change.what} in the POS (version ${change.version}${lateBy})`
}

/**
 * The version a logged change makes, judged by a client that reads the POS over HTTP (no sync log of its own):
 * servable from the moment the POS saved it, ordered by that moment.
 */
export const remoteVersion = (storeId: string, change: ChangeLog.Change): Version => ({
  storeId,
  posRef: change.ref,
  at: change.at,
  why: describe(change),
  position: change.at,
  servableFrom: change.at,
  unshippable: change.unshippable
})

/**
 * Reads changes in log order and says which are new versions: a save is one when the POS reports it modified later
 * than the version before it; a save reported no later is one no client can tell from the last (nor can posbridge:
 * its refresh rule takes it for an older version).
 */
export const newVersions = () => {
  const latest = new Map<string, number>()
  return (change: ChangeLog.Change): boolean => {
    const key = `${change.account}|${change.kind}|${change.ref}`
    const previous = latest.get(key)
    if (previous !== undefined && change.posModifiedAt <= previous) return false
    latest.set(key, change.posModifiedAt)
    return true
  }
}

export const makeTimeline = (changes: ChangeLog.ChangeLog, storeOf: StoreOf): Timeline => {
  let position = 0
  let absorbed = changes.last()
  const placed: Array<{ readonly change: ChangeLog.Change; readonly storeId: string; readonly position: number }> = []
  const events: Array<Event & { readonly position: number }> = []
  const absorb = () => {
    for (const change of changes.entries({ since: absorbed })) {
      const storeId = storeOf(change)
      if (storeId !== undefined) placed.push({ change, storeId, position: ++position })
    }
    absorbed = changes.last()
  }
  return {
    mark: (event) => {
      absorb()
      events.push({ ...event, position: ++position })
      return position
    },
    versions: () => {
      absorb()
      const isNew = newVersions()
      const advancing = placed.filter(({ change }) => isNew(change))
      const syncs = new Map<string, Array<number>>()
      for (const e of events) {
        if (e.type !== "sync") continue
        const list = syncs.get(e.storeId)
        if (list) list.push(e.position)
        else syncs.set(e.storeId, [e.position])
      }
      const firstSyncAfter = (storeId: string, p: number) => {
        // Positions grow: the first sync after `p` by binary search (a soak has tens of thousands of events).
        const list = syncs.get(storeId) ?? []
        let lo = 0
        let hi = list.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          if (list[mid]! > p) hi = mid
          else lo = mid + 1
        }
        return list[lo] ?? Number.POSITIVE_INFINITY
      }
      return [
        ...advancing.map(({ change, storeId, position: p }) => ({
          storeId,
          posRef: change.ref,
          at: change.at,
          why: describe(change),
          position: p,
          servableFrom: firstSyncAfter(storeId, p),
          unshippable: change.unshippable
        })),
        ...events.flatMap((e) =>
          e.type === "touch" && e.posRef !== undefined
            ? [
                {
                  storeId: e.storeId,
                  posRef: e.posRef,
                  at: e.at,
                  why: "touched by the operator",
                  position: e.position,
                  servableFrom: e.position
                }
              ]
            : []
        )
      ].sort((a, b) => a.position - b.position)
    }
  }
}
