/**
 * Issue 15, acceptance 2 as a long count (not part of `pnpm test`, which runs two rounds): three replicas on one
 * fresh PostgreSQL database, 60 stores (Heartland and Lightspeed simulator processes); `--rounds` times (default 10)
 * SIGKILL one runner, a different one each round, while ship notices stream in; measure the failover (kill → every
 * store it owned has completed a pull on another runner, from the simulators' pull records), start it again, and
 * check nothing was lost or duplicated. Prints each round, then the failover times (max, median) and the counts.
 *
 *   pnpm kill:runners [--rounds 10] [--replicas 3] [--stores 60] [--bound 60]
 *
 * PostgreSQL: POSBRIDGE_TEST_PG (default postgres://postgres@127.0.0.1:5432). POSBRIDGE_E2E_CLUSTER=off runs
 * without the configuration's `cluster` section (a server from before issue 15).
 */
import * as Failover from "../src/Failover.js"
import * as Checks from "../src/ReplicaChecks.js"
import * as Replicas from "../src/Replicas.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const rounds = arg("rounds", 10)
const replicas = arg("replicas", 3)
const stores = arg("stores", 60)
const bound = arg("bound", 60) * 1000

const main = async () => {
  const started = Date.now()
  const set = await Replicas.start({
    replicas,
    heartlandStores: Math.ceil(stores / 2),
    lightspeedStores: Math.floor(stores / 2),
    pullIdleSeconds: 2
  })
  const results: Array<Failover.Round> = []
  try {
    const settled = await Checks.settle(set, 120_000)
    if (settled.length > 0) throw new Error(`the stores did not sync before the first kill:\n${settled.join("\n")}`)
    console.log(
      `${replicas} replicas, ${set.stores.length} stores on ${set.database?.name ?? "SQLite"}${set.cluster ? "" : " (no cluster section)"}; ${rounds} rounds`
    )
    for (let r = 0; r < rounds; r++) {
      const round = await Failover.round(set, r % replicas, { tag: `K${r}`, boundMs: bound })
      results.push(round)
      console.log(`round ${r + 1}/${rounds}: ${Failover.describeRound(round)}`)
      for (const p of round.problems.slice(0, 10)) console.log(`  PROBLEM ${p}`)
    }
  } finally {
    await set.close()
  }
  const times = results.flatMap((r) => (r.failoverMs === undefined ? [] : [r.failoverMs]))
  const sum = (f: (r: Failover.Round) => number) => results.reduce((n, r) => n + f(r), 0)
  const problems = sum((r) => r.problems.length)
  console.log(
    [
      `${results.length} SIGKILLs in ${Checks.seconds(Date.now() - started)}, victims ${results.map((r) => r.victim).join(",")}`,
      `failover (kill → every store of the killed runner pulled elsewhere): max ${times.length ? Checks.seconds(Math.max(...times)) : "-"}, median ${times.length ? Checks.seconds(Checks.median(times)) : "-"}, bound ${Checks.seconds(bound)}; ${results.length - times.length} round(s) incomplete`,
      `stores moved per kill: ${results.map((r) => r.stores).join(", ")}`,
      `ship notices: ${sum((r) => r.notices.sent)} sent, ${sum((r) => r.notices.acknowledged)} answered 200, ${sum((r) => r.notices.cutOff)} cut off by a kill, ${sum((r) => r.notices.written)} at the POS exactly once`,
      `${problems} problem(s)`
    ].join("\n")
  )
  process.exit(problems === 0 && times.length === results.length ? 0 : 1)
}

await main()
