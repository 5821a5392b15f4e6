/**
 * The request budget of one ShipStation API key, shared by every store that asks ShipStation to refresh through
 * it. Pure: the caller says what happened ("store S wants a refresh", "these rate-limit headers came back", "a
 * 429 came back") and when, in clock millis, and asks what may happen next (`next`): a store that may call now,
 * or the instant the next call may happen.
 *
 * Three limits, all of which must allow a call:
 * - **Sliding window**: at most `limit - reserve` calls granted in any `windowMillis`. ShipStation counts calls
 *   per key in fixed windows we cannot see the start of; a sliding window over our own grants stays under the
 *   limit whatever their alignment. Until a response carries `X-Rate-Limit-Limit`, `limit` is ShipStation's
 *   documented 40 a minute; afterwards the latest header's value.
 * - **Headers**: after a response said `remaining` calls are left until the window resets in `reset` seconds,
 *   at most `remaining - reserve` more calls are granted before that reset. This is what makes other users of the
 *   same key (a script, another integration) count.
 * - **429**: nothing is granted until the reset ShipStation gave (a full window when it gave none).
 *
 * The `reserve` keeps a few calls of each window for other uses of the key (listing stores, discovery, a
 * refresh-status check) and absorbs calls still in flight when a header was read.
 *
 * Fairness: waiting stores are served first come, first served; a store that asks again while waiting keeps its
 * place (its requests collapse into one), and a store that asks again after being served queues behind those
 * already waiting. With only this budget using the key, a store is therefore served within
 * `worstCaseWaitMillis` of asking (see there).
 *
 * @since 0.0.0
 */
import { Option } from "effect"

export interface Config {
  /** Calls a key may make per window before ShipStation answers 429. ShipStation documents 40. */
  readonly limit: number
  /** The window's length, in millis. ShipStation documents one minute. */
  readonly windowMillis: number
  /** Calls of each window kept for other uses of the key. */
  readonly reserve: number
}

/** ShipStation's documented 40 calls a minute per key, 2 kept in reserve. */
export const defaults: Config = { limit: 40, windowMillis: 60_000, reserve: 2 }

/** What ShipStation's rate-limit headers said (see `ShipStationApi.RateLimit`). */
export interface Observed {
  readonly limit: number
  readonly remaining: number
  /** Seconds until ShipStation's window resets. */
  readonly resetSeconds: number
}

interface HeaderState {
  readonly remaining: number
  readonly resetAt: number
  /** Calls granted since these headers were read. */
  readonly grantedSince: number
}

/** The budget's state; change it only through this module's functions. */
export interface RefreshBudget<K> {
  readonly config: Config
  /** The limit in force: `config.limit` until a header said otherwise. */
  readonly limit: number
  /** Stores waiting, in the order they will be served. */
  readonly queue: ReadonlyArray<K>
  /** Grant instants, oldest first; only those that may still count for the sliding window. */
  readonly grants: ReadonlyArray<number>
  readonly headers: Option.Option<HeaderState>
  /** No grant before this instant (a 429's reset). */
  readonly blockedUntil: number
}

export type Decision<K> =
  /** `store` may call now; `budget` has counted the call. */
  | { readonly _tag: "Grant"; readonly store: K; readonly budget: RefreshBudget<K> }
  /** Stores are waiting; ask again at `until`. */
  | { readonly _tag: "Wait"; readonly until: number; readonly budget: RefreshBudget<K> }
  /** No store is waiting. */
  | { readonly _tag: "Idle"; readonly budget: RefreshBudget<K> }

const checkConfig = (config: Config): Config => {
  if (!Number.isInteger(config.limit) || !Number.isInteger(config.reserve) || config.reserve < 0) {
    throw new RangeError("RefreshBudget: limit and reserve must be integers, reserve at least 0")
  }
  if (config.limit <= config.reserve) {
    throw new RangeError("RefreshBudget: the limit must be larger than the reserve, or no refresh would ever run")
  }
  if (!(config.windowMillis > 0)) throw new RangeError("RefreshBudget: the window must be longer than 0 ms")
  return config
}

/** An empty budget. Throws a `RangeError` on a configuration that could never grant a call. */
export const make = <K>(config: Partial<Config> = {}): RefreshBudget<K> => {
  const checked = checkConfig({ ...defaults, ...config })
  return {
    config: checked,
    limit: checked.limit,
    queue: [],
    grants: [],
    headers: Option.none(),
    blockedUntil: Number.NEGATIVE_INFINITY
  }
}

/** Store `store` wants a refresh. A store already waiting keeps its place. */
export const request = <K>(budget: RefreshBudget<K>, store: K): RefreshBudget<K> =>
  budget.queue.includes(store) ? budget : { ...budget, queue: [...budget.queue, store] }

/** Stores waiting, in the order they will be served. */
export const waiting = <K>(budget: RefreshBudget<K>): ReadonlyArray<K> => budget.queue

/** A response's rate-limit headers, read at `now`. */
export const observe = <K>(budget: RefreshBudget<K>, observed: Observed, now: number): RefreshBudget<K> => {
  const valid = (n: number) => Number.isFinite(n) && n >= 0
  if (!valid(observed.limit) || !valid(observed.remaining) || !valid(observed.resetSeconds)) return budget
  return {
    ...budget,
    limit: Math.floor(observed.limit),
    headers: Option.some({
      remaining: Math.floor(observed.remaining),
      resetAt: now + observed.resetSeconds * 1000,
      grantedSince: 0
    })
  }
}

/**
 * ShipStation answered 429 at `now`: nothing is granted until its reset (`resetSeconds`, at least one second), or
 * for a full window when it gave none.
 */
export const rateLimited = <K>(
  budget: RefreshBudget<K>,
  resetSeconds: Option.Option<number>,
  now: number
): RefreshBudget<K> => {
  const wait = Option.match(Option.filter(resetSeconds, Number.isFinite), {
    onNone: () => budget.config.windowMillis,
    onSome: (seconds) => Math.max(seconds, 1) * 1000
  })
  return { ...budget, blockedUntil: Math.max(budget.blockedUntil, now + wait) }
}

/** Grants still inside the sliding window that ends at `now` (a grant at `g` counts while `now < g + window`). */
const recentGrants = <K>(budget: RefreshBudget<K>, now: number) =>
  budget.grants.filter((g) => g > now - budget.config.windowMillis)

/**
 * The earliest instant at or after `now` when a call may happen, ignoring whether a store waits; `now` when one
 * may happen right away.
 */
export const nextCallAt = <K>(budget: RefreshBudget<K>, now: number): number => {
  const { windowMillis, reserve } = budget.config
  let at = Math.max(now, budget.blockedUntil)
  const perWindow = budget.limit - reserve
  const recent = recentGrants(budget, now)
  if (perWindow <= 0) {
    // A header announced a limit at or below the reserve: wait a window and look again.
    at = Math.max(at, now + windowMillis)
  } else if (recent.length >= perWindow) {
    // The call after these must wait until enough of them have left the window.
    at = Math.max(at, recent[recent.length - perWindow]! + windowMillis)
  }
  if (Option.isSome(budget.headers)) {
    const h = budget.headers.value
    if (now < h.resetAt && h.grantedSince >= h.remaining - reserve) at = Math.max(at, h.resetAt)
  }
  return at
}

/** Calls that could be granted at `now` before any limit stops them (0 when none may run). */
export const available = <K>(budget: RefreshBudget<K>, now: number): number => {
  if (nextCallAt(budget, now) > now) return 0
  const perWindow = budget.limit - budget.config.reserve - recentGrants(budget, now).length
  return Option.match(budget.headers, {
    onNone: () => perWindow,
    onSome: (h) =>
      now < h.resetAt ? Math.min(perWindow, h.remaining - budget.config.reserve - h.grantedSince) : perWindow
  })
}

/** What may happen at `now`: the first waiting store may call, or everyone waits until an instant. */
export const next = <K>(budget: RefreshBudget<K>, now: number): Decision<K> => {
  const grants = recentGrants(budget, now)
  const pruned = grants.length === budget.grants.length ? budget : { ...budget, grants }
  const [store, ...rest] = pruned.queue
  if (store === undefined) return { _tag: "Idle", budget: pruned }
  const at = nextCallAt(pruned, now)
  if (at > now) return { _tag: "Wait", until: at, budget: pruned }
  return {
    _tag: "Grant",
    store,
    budget: {
      ...pruned,
      queue: rest,
      grants: [...grants, now],
      headers: Option.map(pruned.headers, (h) => ({ ...h, grantedSince: h.grantedSince + 1 }))
    }
  }
}

export interface WaitBound {
  readonly limit: number
  readonly windowMillis: number
  readonly reserve: number
  /** Stores waiting when the store asked, itself included. */
  readonly waiting: number
}

/**
 * The longest a store waits between asking and being served when this budget is the key's only user (no 429s,
 * headers that agree with our own calls): `ceil(waiting / (limit - reserve))` windows. Each window serves
 * `limit - reserve` stores in order, and at most one window of earlier calls can still be counted when the store
 * asks. ShipStation's `X-Rate-Limit-Reset` is in whole seconds: read as an upper bound, a header can outlive the
 * window it describes by up to a second, which can add up to one second to this bound (tested).
 */
export const worstCaseWaitMillis = (bound: WaitBound): number => {
  const perWindow = bound.limit - bound.reserve
  if (perWindow <= 0) return Number.POSITIVE_INFINITY
  return Math.ceil(Math.max(bound.waiting, 0) / perWindow) * bound.windowMillis
}
