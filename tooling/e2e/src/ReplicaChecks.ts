/**
 * What the replica tests and scripts check, each judged from outside the servers: the simulators' own records
 * (pos-testkit `Pulls`: pulls in flight per account and feed; `ChangeLog`: every document the POS holds; the
 * orders as the POS API serves them, with the tracking lines write-backs left) and ShipStation's side over HTTP
 * (pos-testkit `ShipStationClient`). Each check answers a list of problems, one readable sentence each.
 */
import { type ChangeLog, ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import type { ReplicaSet, Store, StoreStatus } from "./Replicas.js"
import type { RunningSimulatorProcess } from "./SimulatorProcess.js"

type Change = ChangeLog.Change

interface PullView {
  readonly id: number
  readonly startedAt: number
  readonly endedAt?: number
  readonly outcome: "open" | "finished" | "abandoned"
}

interface FeedStats {
  readonly account: string
  readonly feed: string
  readonly pulls: number
  readonly maxInFlight: number
  readonly overlapCount: number
  readonly overlaps: ReadonlyArray<{ readonly at: number; readonly pulls: ReadonlyArray<number> }>
  readonly interleavedCount: number
  readonly recent: ReadonlyArray<PullView>
}

const json = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const r = await fetch(url, init)
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

export const simulators = (set: ReplicaSet): ReadonlyArray<RunningSimulatorProcess> => [set.heartland, set.lightspeed]

/** The simulator's change log (all of it, or after `since`). */
export const changes = async (sim: RunningSimulatorProcess, since = 0) =>
  json<{ last: number; changes: ReadonlyArray<Change> }>(`${sim.url}/control/changes?since=${since}`)

/** What each store's account holds at its POS, by the change log: every document of its kind, and the shippable ones. */
export const posDocuments = async (set: ReplicaSet) => {
  const logs = new Map(
    await Promise.all(simulators(set).map(async (sim) => [sim, (await changes(sim)).changes] as const))
  )
  const result = new Map<string, { readonly all: ReadonlySet<string>; readonly shippable: ReadonlySet<string> }>()
  for (const store of set.stores) {
    const latest = new Map<string, Change>()
    for (const c of logs.get(store.simulator) ?? []) {
      if (c.account === store.account && c.kind === store.kind) latest.set(c.ref, c)
    }
    const shippable = new Set([...latest.values()].filter((c) => c.unshippable === undefined).map((c) => c.ref))
    result.set(store.id, { all: new Set(latest.keys()), shippable })
  }
  return result
}

/** Every store holds exactly the documents its POS account holds: none lost, none twice. */
export const documentProblems = async (set: ReplicaSet, statuses: ReadonlyArray<StoreStatus>) => {
  const pos = await posDocuments(set)
  const problems: Array<string> = []
  for (const store of set.stores) {
    const held = statuses.find((s) => s.id === store.id)?.documents
    const expected = pos.get(store.id)?.all.size ?? 0
    if (held !== expected) problems.push(`store ${store.id} holds ${held ?? "no"} documents; its POS has ${expected}`)
  }
  return problems
}

/** Waits until every store holds its POS account's documents; answers the problems left at the deadline. */
export const settle = async (set: ReplicaSet, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const problems = await set
      .status()
      .then((s) => documentProblems(set, s))
      .catch((e: Error) => [e.message])
    if (problems.length === 0 || Date.now() > deadline) return problems
    await new Promise((r) => setTimeout(r, 1000))
  }
}

/** The simulators' pull statistics of every feed of a store's account. */
export const pulls = async (set: ReplicaSet) => {
  const byStore = new Map<string, Array<FeedStats>>()
  for (const sim of simulators(set)) {
    const stats = await json<{ feeds: ReadonlyArray<FeedStats> }>(`${sim.url}/control/pulls`)
    for (const feed of stats.feeds) {
      const store = set.stores.find((s) => s.simulator === sim && s.account === feed.account)
      if (store === undefined) continue
      const list = byStore.get(store.id) ?? []
      list.push(feed)
      byStore.set(store.id, list)
    }
  }
  return byStore
}

/**
 * At no time two pulls of one store in flight, as the simulators saw them: no pull asked for a page after a later
 * pull of its store had started (`interleavedCount`). A pull whose runner was killed, or lost the store and
 * stopped it, is no longer in flight even though the simulator cannot tell until it has been idle a while; the
 * starts that found such a pull open are reported apart (`handovers`), not as problems.
 */
export const overlapProblems = async (set: ReplicaSet) => {
  const problems: Array<string> = []
  for (const [storeId, feeds] of await pulls(set)) {
    for (const f of feeds) {
      if (f.interleavedCount > 0) {
        const first = f.overlaps[0]
        problems.push(
          `store ${storeId}: ${f.interleavedCount} pull(s) of its ${f.feed} went on after another had started (up to ${f.maxInFlight} open at once${first === undefined ? "" : `, first at ${new Date(first.at).toISOString()}: pulls ${first.pulls.join(", ")}`})`
        )
      }
    }
  }
  return problems
}

/** Starts that found another pull of the store open that never asked for another page: a handover, not an overlap. */
export const handovers = async (set: ReplicaSet) => {
  let n = 0
  for (const feeds of (await pulls(set)).values()) for (const f of feeds) n += f.overlapCount
  return n
}

/** Pulls per store so far (every feed of its account). */
export const pullCounts = async (set: ReplicaSet) =>
  new Map([...(await pulls(set))].map(([id, feeds]) => [id, feeds.reduce((n, f) => n + f.pulls, 0)] as const))

/**
 * One runner syncs each store: between two counts `seconds` apart, no store was pulled much more often than its
 * interval allows (each replica syncing every store multiplies it by the number of replicas).
 */
export const rateProblems = (
  set: ReplicaSet,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number
) => {
  const allowed = Math.ceil((seconds / set.syncIntervalSeconds) * 1.5) + 2
  return set.stores.flatMap((s) => {
    const n = (after.get(s.id) ?? 0) - (before.get(s.id) ?? 0)
    return n > allowed
      ? [`store ${s.id} was pulled ${n} times in ${seconds} s (every ${set.syncIntervalSeconds} s allows ${allowed})`]
      : []
  })
}

/** Every store has an owner among the running replicas, every running replica owns stores, all replicas agree. */
export const ownerProblems = async (set: ReplicaSet) => {
  const problems: Array<string> = []
  const views = await Promise.all(set.live().map(async (r) => ({ replica: r, stores: await set.status(r) })))
  const owned = new Map<number, number>()
  for (const store of set.stores) {
    const owners = views.map((v) => v.stores.find((s) => s.id === store.id)?.owner)
    const owner = owners[0]
    if (owner === undefined || owner === null) {
      problems.push(`store ${store.id}: /admin/status names no owner (${JSON.stringify(owner ?? "absent")})`)
      continue
    }
    if (owners.some((o) => o !== owner)) problems.push(`store ${store.id}: replicas disagree on its owner: ${owners}`)
    const replica = set.replicaOf(owner)
    if (replica === undefined || !set.live().includes(replica)) {
      problems.push(`store ${store.id} is owned by ${owner}, which is not a running replica`)
    } else owned.set(replica.index, (owned.get(replica.index) ?? 0) + 1)
  }
  for (const r of set.live()) {
    if (!owned.has(r.index)) problems.push(`replica ${r.index} (runner port ${r.runnerPort}) owns no store`)
  }
  return { problems, owned }
}

/** The stores each replica owns, from /admin/status (empty when the server does not say). */
export const ownership = async (set: ReplicaSet) => {
  const byReplica = new Map<number, Array<string>>()
  for (const s of await set.status()) {
    const r = set.replicaOf(s.owner)
    if (r !== undefined) byReplica.set(r.index, [...(byReplica.get(r.index) ?? []), s.id])
  }
  return byReplica
}

export const minute = 60_000
const floorMinute = (ms: number) => ms - (ms % minute)

/** A window that holds every document stamped since `since`: from an hour before it to two minutes from now. */
export const windowSince = (since: number) => ({
  start: floorMinute(since) - 60 * minute,
  end: floorMinute(Date.now()) + 2 * minute
})

/**
 * ShipStation polls every store with page 1 from one replica and every later page from the next one: each poll
 * answers 200 on every page, the same `pages` everywhere, every shippable document of the store's POS account
 * exactly once and nothing the account does not hold. Answers the problems and how many polls spanned two replicas.
 */
export const crossReplicaPolls = async (set: ReplicaSet, window: { readonly start: number; readonly end: number }) => {
  const problems: Array<string> = []
  const pos = await posDocuments(set)
  let crossed = 0
  const pollOne = async (store: Store, k: number) => {
    const live = set.live()
    const first = live[k % live.length]!
    const next = live[(k + 1) % live.length]!
    const result = await Effect.runPromise(
      SS.poll(first.url, store.id, set.shipstation, window, {
        baseUrlFor: (page) => (page === 1 ? first.url : next.url)
      })
    )
    const label = `store ${store.id}, page 1 from replica ${first.index} and later pages from replica ${next.index}`
    if (result.status !== 200) {
      problems.push(`${label}: answered ${result.status}: ${result.body.trim().slice(0, 200)}`)
      return
    }
    if (result.pages > 1 && first !== next) crossed++
    problems.push(...SS.pagingProblems(label, result))
    const served = new Set(result.orders.map((o) => o.posRef))
    // Every document the POS can ship must be served; one it flags unshippable may be repaired and served too.
    const expected = pos.get(store.id) ?? { all: new Set<string>(), shippable: new Set<string>() }
    const missing = [...expected.shippable].filter((ref) => !served.has(ref))
    const extra = [...served].filter((ref) => !expected.all.has(ref))
    if (missing.length > 0)
      problems.push(`${label}: ${missing.length} document(s) of the POS never served: ${missing.slice(0, 5)}`)
    if (extra.length > 0)
      problems.push(`${label}: served ${extra.length} document(s) the POS does not hold: ${extra.slice(0, 5)}`)
  }
  // Six polls at a time, like ShipStation polling many stores.
  for (let i = 0; i < set.stores.length; i += 6) {
    await Promise.all(set.stores.slice(i, i + 6).map((store, j) => pollOne(store, i + j)))
  }
  return { problems, crossed }
}

/**
 * Time from `killedAt` until each store has completed a pull that started after it (necessarily on another runner:
 * the killed one is gone), from the simulators' pull records. Waits up to `timeoutMs`.
 */
export const resumed = async (
  set: ReplicaSet,
  stores: ReadonlyArray<Store>,
  killedAt: number,
  timeoutMs: number
): Promise<{ readonly times: ReadonlyMap<string, number>; readonly missing: ReadonlyArray<string> }> => {
  const times = new Map<string, number>()
  const deadline = killedAt + timeoutMs
  for (;;) {
    const byStore = await pulls(set).catch(() => new Map<string, Array<FeedStats>>())
    for (const store of stores) {
      if (times.has(store.id)) continue
      const done = (byStore.get(store.id) ?? [])
        .flatMap((f) => f.recent)
        .filter((p) => p.startedAt >= killedAt && p.outcome === "finished" && p.endedAt !== undefined)
        .map((p) => p.endedAt! - killedAt)
      if (done.length > 0) times.set(store.id, Math.min(...done))
    }
    const missing = stores.filter((s) => !times.has(s.id)).map((s) => s.id)
    if (missing.length === 0 || Date.now() > deadline) return { times, missing }
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Adds a document to each store's POS account (the merchant rings one up), so a later pull has news. */
export const addDocuments = async (stores: ReadonlyArray<Store>) => {
  for (const s of stores) {
    await json(`${s.simulator.url}/control/accounts/${s.account}/documents/${s.kind}`, { method: "POST" })
  }
}

export const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
