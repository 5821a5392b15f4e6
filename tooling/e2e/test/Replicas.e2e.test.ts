/**
 * Issue 15, acceptance 1 and 2: three server processes on one PostgreSQL database, 60 stores fed by a Heartland and
 * a Lightspeed simulator process. Everything is judged from outside the servers: the simulators' pull records and
 * change logs, the POS's own orders, ShipStation's polls over HTTP.
 */
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Failover from "../src/Failover.js"
import * as Checks from "../src/ReplicaChecks.js"
import * as Replicas from "../src/Replicas.js"
import { withPostgres } from "./postgres.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

await withPostgres("three replicas on one PostgreSQL, 60 stores", () => {
  let set: Replicas.ReplicaSet
  const startedAt = Date.now()

  beforeAll(async () => {
    set = await Replicas.start({ replicas: 3, heartlandStores: 30, lightspeedStores: 30, pullIdleSeconds: 2 })
  }, 180_000)

  afterAll(async () => {
    await set?.close()
  }, 60_000)

  /** The first 40 problems (a broken server can produce one per store and pull). */
  const shown = (problems: ReadonlyArray<string>) =>
    problems.length === 0
      ? problems
      : [...problems.slice(0, 40), ...(problems.length > 40 ? [`… and ${problems.length - 40} more`] : [])]

  it("no store is ever pulled twice at once, every runner owns stores, and polls spanning replicas serve every document once", async () => {
    const problems: Array<string> = [...(await Checks.settle(set, 90_000))]
    const before = await Checks.pullCounts(set)
    const from = Date.now()
    // The merchants ring up sales while the replicas run: pulls with news, some of them multi-page.
    await Checks.addDocuments(set.stores.filter((_, i) => i % 3 === 0))
    await sleep(3 * set.syncIntervalSeconds * 1000)
    problems.push(
      ...Checks.rateProblems(set, before, await Checks.pullCounts(set), Math.round((Date.now() - from) / 1000))
    )
    problems.push(...(await Checks.settle(set, 30_000)))
    problems.push(...(await Checks.overlapProblems(set)))
    // Ownership may still be moving right after the runners joined: give it a few intervals to settle.
    let owners = await Checks.ownerProblems(set)
    for (let i = 0; i < 10 && owners.problems.length > 0; i++) {
      await sleep(2000)
      owners = await Checks.ownerProblems(set)
    }
    problems.push(...owners.problems)
    const polls = await Checks.crossReplicaPolls(set, Checks.windowSince(startedAt))
    problems.push(...polls.problems)
    if (polls.crossed === 0) problems.push("no poll had a later page served by another replica than its page 1")
    console.log(
      `3 replicas, ${set.stores.length} stores${set.cluster ? "" : " (no cluster section)"}: owned per replica ${JSON.stringify(Object.fromEntries(owners.owned))}, ${polls.crossed} polls spanned two replicas, ${problems.length} problem(s)`
    )
    expect(shown(problems)).toEqual([])
  }, 420_000)

  it("a runner killed with SIGKILL (a different one each round) hands its stores to the others within 60 s, losing nothing", async () => {
    const rounds: Array<Failover.Round> = []
    for (let r = 0; r < 2; r++) {
      const round = await Failover.round(set, r % set.replicas.length, { tag: `CI${r}`, boundMs: 60_000 })
      console.log(`round ${r + 1}: ${Failover.describeRound(round)}`)
      rounds.push(round)
    }
    expect(shown(rounds.flatMap((r, i) => r.problems.map((p) => `round ${i + 1}: ${p}`)))).toEqual([])
    for (const r of rounds) expect(r.failoverMs).toBeLessThanOrEqual(60_000)
  }, 900_000)
})
