/**
 * Poll benchmark: ShipStation's real traffic against the server users run (`node dist/bin.js serve --config …`,
 * as `pnpm start`), beside two raw baselines, on SQLite and on PostgreSQL. See README "Benchmarks" and
 * polls/Workload.ts for the workload: 1,000 stores × 1,000 orders (1M documents) by default, every store polled
 * once per simulated hour (page 1, then each later page once, 10 polls in flight), 1 % of each store's orders
 * re-saved per hour while the polls run.
 *
 *   pnpm --filter @posbridge/server bench:polls
 *   POLLBENCH_STORES=50 POLLBENCH_ORDERS=200 POLLBENCH_HOURS=2 POLLBENCH_ENGINES=sqlite   (a short run)
 *
 * The re-saves are written into the database by this process through the store's own `ingest` (with the
 * stamps the server's sync would give them), not pulled by the server's sync from the simulator: the server's
 * 1,000 Heartland stores do sync, against a simulator process, but their accounts hold the simulator's own demo
 * orders and each store's cursor is set past them, so sync runs and finds nothing new. The polls start once every
 * store's first sync is done (`firstSyncs`): the server is measured in its steady state.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import * as Load from "./polls/Load.js"
import { type Child, cpuMs, removeRawBundle, sampleRss, startRaw, startServer, startSimulator } from "./polls/Procs.js"
import * as SS from "./polls/ShipStation.js"
import * as W from "./polls/Workload.js"

type Engine = "sqlite" | "postgres"
const pgServer = process.env.POSBRIDGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432"

interface Measured {
  readonly label: string
  readonly stats: SS.Stats
  readonly seconds: number
  readonly rss: { readonly max: number; readonly last: number }
  readonly cpuPerLater: number
  readonly dbBytes: number
  readonly metricsMs?: number | undefined
  readonly answers: ReadonlyArray<Buffer>
}

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

const ids = Array.from({ length: W.stores }, (_, i) => W.storeId(i))
const jobs = (r: number): ReadonlyArray<SS.Job> => ids.map((store, i) => ({ store, window: W.windowOf(i, r) }))
/**
 * The windows whose answers are compared across servers once every run is over, for every tenth store: its first
 * and last poll, and one window over its whole history and every re-save (re-saved orders among the others).
 */
const checked = (): ReadonlyArray<SS.Job> => {
  const step = Math.max(1, Math.floor(W.stores / 10))
  return ids.flatMap((store, i) => {
    if (i % step !== 0) return []
    const [first, last] = [W.windowOf(i, 0), W.windowOf(i, W.hours)]
    return [first, last, { start: first.start, end: last.end }].map((window) => ({ store, window }))
  })
}

/**
 * Every round against one server: round 0 (each store's first poll, a big window) page 1s then later pages in
 * batches, for the server's CPU per later page; rounds 1..hours as ShipStation interleaves them. Hour r + 1's
 * re-saves are written while round r runs.
 */
const drive = async (label: string, server: Child, resave: (r: number) => Promise<void>) => {
  const stats = SS.emptyStats()
  const memory = sampleRss(server.pid)
  const started = performance.now()
  const [split] = await Promise.all([
    SS.splitRound(server.url, jobs(0), stats, server.pid),
    W.hours >= 1 ? resave(1) : Promise.resolve()
  ])
  for (let r = 1; r <= W.hours; r++) {
    await Promise.all([SS.round(server.url, jobs(r), stats), r < W.hours ? resave(r + 1) : Promise.resolve()])
  }
  const seconds = (performance.now() - started) / 1000
  const rss = memory.stop()
  log(
    `${label}: ${stats.polls} polls, ${stats.page1.length + stats.later.length} pages in ${seconds.toFixed(1)} s, ${stats.errors.length} errors`
  )
  for (const e of stats.errors.slice(0, 5)) log(`  error: ${e}`)
  return { stats, seconds, rss, cpuPerLater: split.cpuMs / Math.max(1, split.laterPages) }
}

const scrapeMs = async (url: string) => {
  const times: Array<number> = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    const r = await fetch(`${url}/metrics`)
    await r.text()
    times.push(performance.now() - t)
  }
  return quantile(times, 0.5)
}

const fileBytes = (file: string) =>
  ["", "-wal"].reduce((n, s) => n + (existsSync(file + s) ? statSync(file + s).size : 0), 0)

/** What the simulator's control API and the admin API answer, as far as the benchmark reads them. */
const Described = Schema.Struct({ accounts: Schema.Array(Schema.String) })
const AccountSettings = Schema.Struct({ settings: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
const Status = Schema.Struct({
  stores: Schema.Array(Schema.Struct({ documents: Schema.Number, firstSync: Schema.NullOr(Schema.Unknown) }))
})
const adminAuth = { authorization: `Basic ${Buffer.from("admin:admin-secret").toString("base64")}` }
const statusOf = async (server: Child) =>
  Schema.decodeUnknownSync(Status)(await (await fetch(`${server.url}/admin/status`, { headers: adminAuth })).json())

/**
 * Waits until every store has finished its first sync against the simulator: ShipStation's traffic is measured on a
 * server in its steady state (stores configured and synced, syncing again every interval), not during the start-up
 * storm of first syncs, which a deployment pays once and the baselines do not have. Returns the seconds it took.
 */
const firstSyncs = async (server: Child) => {
  const t = performance.now()
  for (;;) {
    const { stores } = await statusOf(server)
    const pending = stores.filter((s) => s.firstSync === null).length
    if (stores.length === W.stores && pending === 0) return (performance.now() - t) / 1000
    if (performance.now() - t > 30 * 60_000)
      throw new Error(`${pending} stores still without a first sync after 30 min`)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}

/**
 * The server's CPU while nothing polls it, as a share of one core over 10 s: what its own background work (every
 * store's sync each interval, the gauge refresh) costs, part of every CPU-per-page figure measured after it.
 */
const idleCpu = async (server: Child) => {
  const before = cpuMs(server.pid)
  const t = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 10_000))
  return (100 * (cpuMs(server.pid) - before)) / (performance.now() - t)
}

const storeEntries = async (simulator: Child) => {
  const described = Schema.decodeUnknownSync(Described)(await (await fetch(`${simulator.url}/control`)).json())
  const entries: Array<Record<string, unknown>> = []
  await SS.pool(
    ids.map((id, i) => [id, described.accounts[i] ?? ""] as const),
    20,
    async ([id, account]) => {
      const r = await fetch(`${simulator.url}/control/accounts/${account}/settings?kind=orders`)
      const { settings } = Schema.decodeUnknownSync(AccountSettings)(await r.json())
      entries.push({
        id,
        adapter: "heartland",
        documentKind: "orders",
        pageSize: W.pageSize,
        shipstation: { username: W.shipstation.username, password: { env: "POLLBENCH_SS_PASSWORD" } },
        settings,
        ...(process.env.POLLBENCH_SYNC_SECONDS
          ? { syncIntervalSeconds: Number(process.env.POLLBENCH_SYNC_SECONDS) }
          : {})
      })
    }
  )
  return entries
}

const runEngine = async (engine: Engine): Promise<ReadonlyArray<Measured>> => {
  const dir = mkdtempSync(join(tmpdir(), `pollbench-${engine}-`))
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })]
  try {
    log(`${engine}: ${W.stores} stores × ${W.ordersPerStore} orders, ${W.hours} polled hours after the first poll`)
    const simulator = await startSimulator(W.stores)
    cleanups.push(simulator.stop)
    const entries = await storeEntries(simulator)
    const names = {
      pb: `pollbench_pb_${process.pid}`,
      same: `pollbench_raw_${process.pid}`,
      peer: `pollbench_peer_${process.pid}`
    }
    const pbDb = engine === "postgres" ? await Load.pgDatabase(pgServer, names.pb) : undefined
    const rawDb = engine === "postgres" ? await Load.pgDatabase(pgServer, names.same) : undefined
    if (pbDb && rawDb) {
      cleanups.push(async () => {
        await rawDb.drop(names.peer)
        await pbDb.drop()
      })
    }
    const target: Load.Target = pbDb
      ? { engine: "postgres", url: pbDb.url }
      : { engine: "sqlite", file: join(dir, "posbridge.sqlite") }
    const rawFile = { same: join(dir, "raw.sqlite"), peer: join(dir, "peer.sqlite") }
    const rawAt = (which: "same" | "peer") => (rawDb ? `${pgServer}/${names[which]}` : rawFile[which])
    const raw = (which: "same" | "peer") => (rawDb ? Load.rawPg(rawAt(which)) : Load.rawSqlite(rawAt(which)))

    let t = performance.now()
    const pb = Load.posbridge(target)
    cleanups.push(pb.close)
    await pb.load(ids, engine === "sqlite" ? 1 : 4)
    log(`loaded posbridge's database through the store's ingest in ${((performance.now() - t) / 1000).toFixed(1)} s`)
    t = performance.now()
    const rawLoader = raw("same")
    await rawLoader.load(ids)
    await rawLoader.close()
    if (rawDb) await rawDb.copyTo(names.peer)
    else copyFileSync(rawFile.same, rawFile.peer)
    log(`loaded the raw baselines' table in ${((performance.now() - t) / 1000).toFixed(1)} s`)

    const config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        database: pbDb ? { engine: "postgres", url: { env: "POLLBENCH_PG_URL" } } : { engine: "sqlite" },
        admin: { username: "admin", password: { env: "POLLBENCH_ADMIN_PASSWORD" } },
        stores: entries
      })
    )
    t = performance.now()
    const server = await startServer(config, {
      POLLBENCH_SS_PASSWORD: W.shipstation.password,
      POLLBENCH_ADMIN_PASSWORD: "admin-secret",
      POLLBENCH_PG_URL: pbDb?.url ?? ""
    })
    cleanups.push(server.stop)
    log(`posbridge ready in ${((performance.now() - t) / 1000).toFixed(1)} s (pid ${server.pid})`)
    log(`every store's first sync done ${(await firstSyncs(server)).toFixed(1)} s later`)
    const idle = await idleCpu(server)
    log(`posbridge's CPU with no poll (its stores' syncs, gauges): ${idle.toFixed(1)} % of a core over 10 s`)
    const results: Array<Measured> = []
    const ran = await drive("posbridge", server, (r) => pb.resave(ids, r))
    const metricsMs = await scrapeMs(server.metricsUrl)
    const answers = await SS.answers(server.url, checked())
    if (process.env.POLLBENCH_DEBUG) {
      const status = await statusOf(server)
      log(`debug: documents ${status.stores.reduce((n, s) => n + s.documents, 0)}`)
      const t = performance.now()
      const text = await (await fetch(`${server.metricsUrl}/metrics`)).text()
      log(`debug: /metrics ${text.length} chars in ${(performance.now() - t).toFixed(1)} ms`)
    }
    if (process.env.POLLBENCH_DEBUG) writeFileSync(`/tmp/pollbench-server-${engine}.log`, server.output())
    await server.stop()
    results.push({
      label: "posbridge",
      ...ran,
      metricsMs,
      answers,
      dbBytes: pbDb ? await pbDb.size() : fileBytes(target.engine === "sqlite" ? target.file : "")
    })

    for (const [which, label] of [
      ["same", "same-work raw"],
      ["peer", "peer LIMIT/OFFSET"]
    ] as const) {
      const writer = raw(which)
      const child = await startRaw([which, engine, rawAt(which)])
      cleanups.push(child.stop)
      const measured = await drive(label, child, (r) => writer.resave(ids, r))
      const answers = await SS.answers(child.url, checked())
      await child.stop()
      await writer.close()
      const dbBytes = rawDb ? await rawDb.size(names[which]) : fileBytes(rawAt(which))
      results.push({ label, ...measured, answers, dbBytes })
    }
    return results
  } finally {
    for (const f of cleanups.reverse()) await f().catch((e: unknown) => log(`cleanup: ${String(e)}`))
  }
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(n < 10 ? 2 : 1)} ms` : "—")

const report = (engine: Engine, results: ReadonlyArray<Measured>) => {
  const [pb, same, peer] = results
  if (!pb || !same || !peer) return
  const pps = (m: Measured) => m.stats.polls / m.seconds
  const rows: ReadonlyArray<readonly [string, (m: Measured) => string]> = [
    ["polls/s", (m) => pps(m).toFixed(1)],
    ["pages served", (m) => String(m.stats.page1.length + m.stats.later.length)],
    ["page 1 p50", (m) => ms(quantile(m.stats.page1, 0.5))],
    ["page 1 p99", (m) => ms(quantile(m.stats.page1, 0.99))],
    ["later page p50", (m) => ms(quantile(m.stats.later, 0.5))],
    ["later page p99", (m) => ms(quantile(m.stats.later, 0.99))],
    ["server RSS max", (m) => mb(m.rss.max)],
    ["server RSS last", (m) => mb(m.rss.last)],
    ["server CPU per later page", (m) => ms(m.cpuPerLater)],
    [engine === "sqlite" ? "database file (+WAL)" : "pg_database_size", (m) => mb(m.dbBytes)],
    ["/metrics scrape (median of 5)", (m) => (m.metricsMs === undefined ? "—" : ms(m.metricsMs))],
    ["errors", (m) => String(m.stats.errors.length)]
  ]
  const w = 20
  console.log(`\n== ${engine}: ${W.stores} stores × ${W.ordersPerStore} orders, ${W.hours + 1} polls per store ==`)
  console.log(
    `${"".padEnd(31)}${["posbridge", "same-work raw", "peer (not a target)"].map((s) => s.padStart(w)).join("")}`
  )
  for (const [name, f] of rows)
    console.log(`${name.padEnd(31)}${[pb, same, peer].map((m) => f(m).padStart(w)).join("")}`)
  const equal = (a: Measured, b: Measured) =>
    a.answers.length === b.answers.length && a.answers.every((x, i) => x.equals(b.answers[i] ?? Buffer.alloc(0)))
  console.log(
    `answers byte-equal to posbridge's (${pb.answers.length} windows, every page): same-work ${equal(pb, same) ? "held" : "DIFFERED"}, peer ${equal(pb, peer) ? "held" : "differed"}`
  )
  const verdict = (ok: boolean) => (ok ? "meets" : "unmet")
  const pollsRatio = pps(pb) / pps(same)
  const cpuRatio = pb.cpuPerLater / same.cpuPerLater
  console.log(
    `posbridge polls/s ÷ same-work polls/s   ${pollsRatio.toFixed(2)}   target ≥ 0.5   ${verdict(pollsRatio >= 0.5)}`
  )
  console.log(
    `CPU ms per later page ÷ same-work       ${cpuRatio.toFixed(2)}×  target ≤ 2×    ${verdict(cpuRatio <= 2)}`
  )
  console.log(
    `server RSS max                          ${mb(pb.rss.max)}  target ≤ 150 MB  ${verdict(pb.rss.max <= 150 * 1024 * 1024)}`
  )
  console.log(
    `/metrics scrape                         ${ms(pb.metricsMs ?? Number.NaN)}  target ≤ 50 ms  ${verdict((pb.metricsMs ?? Infinity) <= 50)}`
  )
  console.log(`(peer polls/s ÷ same-work: ${(pps(peer) / pps(same)).toFixed(2)}, not a target)`)
}

const main = async () => {
  const engines = (process.env.POLLBENCH_ENGINES ?? "sqlite,postgres")
    .split(",")
    .filter((e): e is Engine => e === "sqlite" || e === "postgres")
  const all: Array<readonly [Engine, ReadonlyArray<Measured>]> = []
  try {
    for (const engine of engines) all.push([engine, await runEngine(engine)])
  } finally {
    await removeRawBundle()
  }
  console.log(
    "\nposbridge: the built server (`node dist/bin.js serve`), 1 store = 1 Heartland store syncing against a simulator process."
  )
  console.log(
    "Re-saves: written by the benchmark through the store's ingest (posbridge) and by UPDATE (raw), not pulled by sync."
  )
  for (const [engine, results] of all) report(engine, results)
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
