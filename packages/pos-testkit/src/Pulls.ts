/**
 * Pulls in flight, as a simulated POS sees them: a pull is one walk through a document list (first page to last),
 * per account and feed (the list it walks, e.g. Heartland's sales orders). Several runners syncing one store at
 * once show up here as two pulls of one feed open together, whatever the runners believe; scale-out tests assert
 * that never happens.
 *
 * The simulator says where a pull starts, continues and ends (only it knows its paging). A pull whose client
 * went away (a killed process, an abandoned stream) never asks for its last page: it counts as open until it has
 * been idle for `idleMillis`, then as abandoned. Time is the simulator's epoch milliseconds.
 *
 * @since 0.0.0
 */
import { Schema } from "effect"

export const PullView = Schema.Struct({
  id: Schema.Int,
  account: Schema.String,
  feed: Schema.String,
  startedAt: Schema.Number,
  /** When its last page was asked for. */
  lastAt: Schema.Number,
  endedAt: Schema.optionalWith(Schema.Number, { exact: true }),
  pages: Schema.Int,
  outcome: Schema.Literal("open", "finished", "abandoned"),
  /** Pulls of the same feed open when this one started, this one included: more than 1 is an overlap. */
  concurrent: Schema.Int
})
export type PullView = typeof PullView.Type

export const FeedStats = Schema.Struct({
  account: Schema.String,
  feed: Schema.String,
  pulls: Schema.Int,
  inFlight: Schema.Int,
  maxInFlight: Schema.Int,
  /** Starts of pulls that found another pull of the feed open: how many, and the first 50 with the ids open then. */
  overlapCount: Schema.Int,
  overlaps: Schema.Array(Schema.Struct({ at: Schema.Number, pulls: Schema.Array(Schema.Int) })),
  /**
   * Pulls that asked for a page (or were answered their last one) after a later pull of the feed had started: two
   * walks whose requests interleave, in flight together for certain. A start that found another pull open counts
   * in `overlapCount` even when that pull's client had gone away (killed, or its runner lost the store) and it
   * had not yet been idle for `idleMillis`; it counts here only if the older pull went on.
   */
  interleavedCount: Schema.Int,
  /** The latest pulls (up to 20), oldest first. */
  recent: Schema.Array(PullView)
})
export type FeedStats = typeof FeedStats.Type

export const Stats = Schema.Struct({
  idleMillis: Schema.Number,
  /** The most pulls of one feed ever open at once, over every feed. */
  maxInFlight: Schema.Int,
  overlaps: Schema.Int,
  interleaved: Schema.Int,
  feeds: Schema.Array(FeedStats)
})
export type Stats = typeof Stats.Type

/** A pull as the simulator holds it while it is walked. */
export interface Pull {
  readonly id: number
  readonly account: string
  readonly feed: string
  readonly startedAt: number
  lastAt: number
  endedAt: number | undefined
  pages: number
  outcome: PullView["outcome"]
  readonly concurrent: number
  /** It went on after a later pull of its feed had started. */
  interleaved: boolean
}

export interface Monitor {
  readonly idleMillis: number
  /** A first page was asked for: a new pull of `feed`. */
  readonly start: (account: string, feed: string, now: number) => Pull
  /** A later page of `pull` was asked for. */
  readonly page: (pull: Pull, now: number) => void
  /** The last page of `pull` was answered. */
  readonly finish: (pull: Pull, now: number) => void
  /** The pulls of a feed still open (not finished, not idle for `idleMillis`), oldest first. */
  readonly open: (account: string, feed: string, now: number) => ReadonlyArray<Pull>
  readonly stats: (now: number, account?: string) => Stats
}

interface Feed {
  readonly account: string
  readonly feed: string
  pulls: number
  maxInFlight: number
  overlapCount: number
  overlaps: Array<{ readonly at: number; readonly pulls: ReadonlyArray<number> }>
  interleavedCount: number
  live: Array<Pull>
  recent: Array<Pull>
}

const keep = { overlaps: 50, recent: 20 }

export const defaultIdleMillis = 30_000

export const make = (options: { readonly idleMillis?: number | undefined } = {}): Monitor => {
  const idleMillis = options.idleMillis ?? defaultIdleMillis
  const feeds = new Map<string, Feed>()
  let ids = 0

  const feedOf = (account: string, feed: string): Feed => {
    const key = `${account}\u0000${feed}`
    let f = feeds.get(key)
    if (f === undefined) {
      f = {
        account,
        feed,
        pulls: 0,
        maxInFlight: 0,
        overlapCount: 0,
        overlaps: [],
        interleavedCount: 0,
        live: [],
        recent: []
      }
      feeds.set(key, f)
    }
    return f
  }

  /** Drops finished pulls from `live` and closes the idle ones as abandoned. */
  const sweep = (f: Feed, now: number) => {
    for (const p of f.live) {
      if (p.outcome === "open" && now - p.lastAt >= idleMillis) {
        p.outcome = "abandoned"
        p.endedAt = p.lastAt + idleMillis
      }
    }
    f.live = f.live.filter((p) => p.outcome === "open")
  }

  /** `pull` is active at `now`: if a later pull of its feed has started since it began, the two interleave. */
  const active = (pull: Pull, now: number) => {
    pull.lastAt = now
    if (pull.interleaved) return
    const f = feedOf(pull.account, pull.feed)
    const later = (q: Pull) => q.id > pull.id && q.startedAt <= now
    if (f.live.some(later) || f.recent.some(later)) {
      pull.interleaved = true
      f.interleavedCount++
    }
  }

  const view = (p: Pull): PullView => ({
    id: p.id,
    account: p.account,
    feed: p.feed,
    startedAt: p.startedAt,
    lastAt: p.lastAt,
    ...(p.endedAt === undefined ? {} : { endedAt: p.endedAt }),
    pages: p.pages,
    outcome: p.outcome,
    concurrent: p.concurrent
  })

  return {
    idleMillis,
    start: (account, feed, now) => {
      const f = feedOf(account, feed)
      sweep(f, now)
      const pull: Pull = {
        id: ++ids,
        account,
        feed,
        startedAt: now,
        lastAt: now,
        endedAt: undefined,
        pages: 1,
        outcome: "open",
        concurrent: f.live.length + 1,
        interleaved: false
      }
      if (f.live.length > 0) {
        f.overlapCount++
        if (f.overlaps.length < keep.overlaps)
          f.overlaps.push({ at: now, pulls: [...f.live.map((p) => p.id), pull.id] })
      }
      f.live.push(pull)
      f.pulls++
      f.maxInFlight = Math.max(f.maxInFlight, f.live.length)
      f.recent.push(pull)
      if (f.recent.length > keep.recent) f.recent.shift()
      return pull
    },
    page: (pull, now) => {
      active(pull, now)
      pull.pages++
    },
    finish: (pull, now) => {
      active(pull, now)
      if (pull.outcome === "open") {
        pull.outcome = "finished"
        pull.endedAt = now
      }
    },
    open: (account, feed, now) => {
      const f = feedOf(account, feed)
      sweep(f, now)
      return [...f.live]
    },
    stats: (now, account) => {
      const list = [...feeds.values()].filter((f) => account === undefined || f.account === account)
      for (const f of list) sweep(f, now)
      return {
        idleMillis,
        maxInFlight: list.reduce((m, f) => Math.max(m, f.maxInFlight), 0),
        overlaps: list.reduce((n, f) => n + f.overlapCount, 0),
        interleaved: list.reduce((n, f) => n + f.interleavedCount, 0),
        feeds: list.map((f) => ({
          account: f.account,
          feed: f.feed,
          pulls: f.pulls,
          inFlight: f.live.length,
          maxInFlight: f.maxInFlight,
          overlapCount: f.overlapCount,
          overlaps: f.overlaps,
          interleavedCount: f.interleavedCount,
          recent: f.recent.map(view)
        }))
      }
    }
  }
}
