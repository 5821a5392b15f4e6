/**
 * Issue 15, acceptance 6 (a benchmark, not a timed test): the same stores (default 1,000: half Heartland, half
 * Lightspeed, simulator processes serving one account each) on three runners and on one runner, each on a fresh
 * PostgreSQL database. Once every store has synced, it watches for `--seconds` and prints side by side:
 * - RSS per runner (Linux /proc, sampled every 5 s: the largest sample and the last);
 * - sync gaps against the configured interval: the time between two pull starts of one store, from the simulators'
 *   pull records (median, p95, max over every store);
 * - database connections per runner: `pg_stat_activity` rows whose client port is one of the runner's sockets
 *   (largest sample), and the database's total.
 *
 *   pnpm bench:runners [--stores 1000] [--interval 30] [--seconds 180] [--only 3|1]
 */
import * as Postgres from "../src/Postgres.js"
import { rssBytes, tcpPortsOf } from "../src/Processes.js"
import * as Checks from "../src/ReplicaChecks.js"
import * as Replicas from "../src/Replicas.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const stores = arg("stores", 1000)
const interval = arg("interval", 30)
const watchSeconds = arg("seconds", 180)
const only = arg("only", 0)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Figures {
  readonly runners: number
  readonly syncedIn: number
  readonly rssMaxMb: ReadonlyArray<number>
  readonly rssLastMb: ReadonlyArray<number>
  readonly connections: ReadonlyArray<number>
  readonly connectionsTotal: number
  readonly gaps: { readonly count: number; readonly median: number; readonly p95: number; readonly max: number }
  readonly overlaps: number
  readonly owned: ReadonlyArray<number>
}

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

const measure = async (runners: number): Promise<Figures> => {
  const t0 = Date.now()
  const set = await Replicas.start({
    replicas: runners,
    heartlandStores: Math.ceil(stores / 2),
    lightspeedStores: Math.floor(stores / 2),
    syncIntervalSeconds: interval,
    heartlandPerPage: 100,
    exportPageSize: 100,
    readyTimeoutMs: 600_000
  })
  try {
    const settled = await Checks.settle(set, 1_200_000)
    if (settled.length > 0) console.log(`not every store synced: ${settled.length} problem(s), e.g. ${settled[0]}`)
    const syncedIn = Date.now() - t0
    console.log(`${runners} runner(s): ${set.stores.length} stores synced ${Checks.seconds(syncedIn)} after the start`)
    const rssMax = set.replicas.map(() => 0)
    const rssLast = set.replicas.map(() => 0)
    const conns = set.replicas.map(() => 0)
    let total = 0
    const watchFrom = Date.now()
    while (Date.now() - watchFrom < watchSeconds * 1000) {
      const rows = await (set.database === undefined ? [] : Postgres.connections(set.database.name))
      total = Math.max(total, rows.length)
      for (const r of set.replicas) {
        const pid = r.server()?.pid
        if (pid === undefined) continue
        const rss = rssBytes(pid) ?? 0
        rssMax[r.index] = Math.max(rssMax[r.index]!, rss)
        rssLast[r.index] = rss
        const ports = tcpPortsOf(pid)
        conns[r.index] = Math.max(
          conns[r.index]!,
          rows.filter((c) => c.client_port !== null && ports.has(c.client_port)).length
        )
      }
      await sleep(5000)
    }
    // Gaps between successive pull starts of one store during the watch (the simulators keep each feed's last 20).
    const gaps: Array<number> = []
    for (const feeds of (await Checks.pulls(set)).values()) {
      const starts = feeds
        .flatMap((f) => f.recent.map((p) => p.startedAt))
        .filter((t) => t >= watchFrom)
        .sort((a, b) => a - b)
      for (let i = 1; i < starts.length; i++) gaps.push(starts[i]! - starts[i - 1]!)
    }
    const owned = await Checks.ownership(set)
    return {
      runners,
      syncedIn,
      rssMaxMb: rssMax.map((b) => Math.round(b / 2 ** 20)),
      rssLastMb: rssLast.map((b) => Math.round(b / 2 ** 20)),
      connections: conns,
      connectionsTotal: total,
      gaps: {
        count: gaps.length,
        median: Checks.median(gaps),
        p95: percentile(gaps, 0.95),
        max: gaps.length === 0 ? Number.NaN : Math.max(...gaps)
      },
      overlaps: (await Checks.overlapProblems(set)).length,
      owned: set.replicas.map((r) => owned.get(r.index)?.length ?? 0)
    }
  } finally {
    await set.close()
  }
}

const main = async () => {
  const results: Array<Figures> = []
  for (const runners of only === 0 ? [3, 1] : [only]) results.push(await measure(runners))
  const s = (ms: number) => (Number.isNaN(ms) ? "-" : `${(ms / 1000).toFixed(1)} s`)
  const rows: Array<[string, ...Array<string>]> = [
    ["", ...results.map((r) => `${r.runners} runner(s)`)],
    ["stores", ...results.map(() => String(stores))],
    [
      "stores owned per runner",
      ...results.map((r) => (r.owned.some((n) => n > 0) ? r.owned.join(" / ") : "not shown"))
    ],
    ["all synced after start", ...results.map((r) => s(r.syncedIn))],
    ["RSS per runner, max (MB)", ...results.map((r) => r.rssMaxMb.join(" / "))],
    ["RSS per runner, last (MB)", ...results.map((r) => r.rssLastMb.join(" / "))],
    [`sync gap median (interval ${interval} s)`, ...results.map((r) => s(r.gaps.median))],
    ["sync gap p95", ...results.map((r) => s(r.gaps.p95))],
    ["sync gap max", ...results.map((r) => s(r.gaps.max))],
    ["gaps measured", ...results.map((r) => String(r.gaps.count))],
    ["DB connections per runner (max)", ...results.map((r) => r.connections.join(" / "))],
    ["DB connections in all (max)", ...results.map((r) => String(r.connectionsTotal))],
    ["stores with overlapping pulls", ...results.map((r) => String(r.overlaps))]
  ]
  console.log(`\nwatched ${watchSeconds} s after every store had synced\n`)
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.join(" | ")} |`)
    if (i === 0) console.log(`|${row.map(() => "---").join("|")}|`)
  }
}

await main()
