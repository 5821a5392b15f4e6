/**
 * One failover round (issue 15, acceptance 2): while ship notices stream in, SIGKILL one replica; measure how long
 * until every store it owned has completed a pull on another runner (from the simulators' pull records); start it
 * again; then check that no document was lost or duplicated, every notice answered 200 reached the POS exactly
 * once, and no two pulls of one store were ever in flight together. The CI test runs two rounds, `pnpm
 * kill:runners` ten or more.
 */
import * as Notices from "./Notices.js"
import * as Checks from "./ReplicaChecks.js"
import type { ReplicaSet, Store } from "./Replicas.js"

export interface Round {
  readonly victim: number
  /** The stores the victim owned when it was killed (every store when the server names no owners). */
  readonly stores: number
  /** Kill → the last of its stores completed a pull elsewhere; undefined when some never did within the bound. */
  readonly failoverMs: number | undefined
  /** Starts so far that found a stopped pull of the store not yet idle (see `ReplicaChecks.handovers`). */
  readonly handovers: number
  readonly notices: {
    readonly sent: number
    readonly acknowledged: number
    readonly cutOff: number
    readonly written: number
  }
  readonly problems: ReadonlyArray<string>
}

export interface Options {
  /** Tracking-number tag of this round's notices (letters and digits). */
  readonly tag: string
  /** The failover bound. Default 60 s. */
  readonly boundMs?: number | undefined
  readonly noticesPerSecond?: number | undefined
  /** How long acknowledged notices may take to reach the POS. Default 6 min (a killed runner's claimed write-backs wait out their 5-minute lease). */
  readonly deliveryTimeoutMs?: number | undefined
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const round = async (set: ReplicaSet, victim: number, options: Options): Promise<Round> => {
  const bound = options.boundMs ?? 60_000
  const problems: Array<string> = []
  const notices = await Notices.stream(set, { perSecond: options.noticesPerSecond ?? 4, tag: options.tag })
  await sleep(1500)
  const owned = await Checks.ownership(set)
  const named = owned.get(victim)
  const stores: ReadonlyArray<Store> =
    owned.size === 0 ? set.stores : set.stores.filter((s) => (named ?? []).includes(s.id))
  if (owned.size > 0 && stores.length === 0) problems.push(`replica ${victim} owned no store when it was killed`)
  await set.stop(victim, "SIGKILL")
  const killedAt = Date.now()
  // News for every store that lost its runner: the resumed pulls must bring it.
  await Checks.addDocuments(stores)
  const resumed = await Checks.resumed(set, stores, killedAt, bound)
  const times = [...resumed.times.values()]
  const failoverMs = resumed.missing.length === 0 && times.length > 0 ? Math.max(...times) : undefined
  if (resumed.missing.length > 0) {
    problems.push(
      `${resumed.missing.length} store(s) of replica ${victim} completed no pull elsewhere within ${Checks.seconds(bound)} of the kill: ${resumed.missing.slice(0, 5).join(", ")}`
    )
  } else if (failoverMs !== undefined && failoverMs > bound) {
    problems.push(`failover took ${Checks.seconds(failoverMs)}, over the ${Checks.seconds(bound)} bound`)
  }
  await sleep(1000)
  const tally = await notices.stop()
  await set.start(victim)
  const delivered = await Notices.problems(set, tally, options.deliveryTimeoutMs ?? 360_000)
  problems.push(...delivered.problems)
  problems.push(...(await Checks.settle(set, 60_000)))
  problems.push(...(await Checks.overlapProblems(set)))
  const handovers = await Checks.handovers(set)
  if (tally.acknowledged.length === 0) problems.push("no ship notice was answered 200: nothing was checked")
  return {
    victim,
    stores: stores.length,
    failoverMs,
    handovers,
    notices: {
      sent: tally.sent.length,
      acknowledged: tally.acknowledged.length,
      cutOff: tally.cutOff,
      written: delivered.written
    },
    problems
  }
}

export const describeRound = (r: Round) =>
  `replica ${r.victim} killed owning ${r.stores} store(s): failover ${r.failoverMs === undefined ? "not complete" : Checks.seconds(r.failoverMs)}; notices ${r.notices.sent} sent, ${r.notices.acknowledged} answered 200, ${r.notices.cutOff} cut off, ${r.notices.written} at the POS exactly once; ${r.handovers} handover(s) so far (a pull started while a stopped one was not yet idle); ${r.problems.length} problem(s)`
