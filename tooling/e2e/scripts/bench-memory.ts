/**
 * Issue 16, item 4 (a benchmark, not a timed test): the memory of one server process as `pnpm start` runs it
 * (compiled JavaScript, SQLite, no cluster section) holding N stores (half Heartland, half Lightspeed, simulator
 * processes, `--documents` each), for each N given. It measures while every store syncs for the first time, then
 * for `--seconds` while ShipStation polls every store in turn (each poll: page 1, then every later page once,
 * `--pollers` polls in flight) and sync keeps its interval, and prints side by side:
 * - RSS of the server (Linux /proc, sampled every second): largest and last, and the anonymous part of the last;
 * - the V8 heap (used, and total as V8 holds it) and `external` + `arrayBuffers` (native buffers), from a probe
 *   preloaded into the server (`memory-probe.cjs`), largest while polling;
 * - then for `--idle` seconds with no polls (sync goes on): RSS largest and last;
 * - with `--heap DIR`: a heap snapshot of the server at the end, summarised by constructor (`heap-summary.ts`).
 *
 *   pnpm bench:memory [--stores 100,300,1000] [--documents 1000] [--interval 60] [--seconds 60] [--pollers 10]
 *                     [--idle 30] [--heap DIR] [--node-options "V8 flags for the server"]
 */
import { existsSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { tempDir } from "../src/Processes.js"
import * as Checks from "../src/ReplicaChecks.js"
import * as Replicas from "../src/Replicas.js"
import { summarise } from "./heap-summary.js"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback
}
const storeCounts = arg("stores", "1000").split(",").map(Number)
const documents = Number(arg("documents", "1000"))
const interval = Number(arg("interval", "60"))
const watchSeconds = Number(arg("seconds", "60"))
const pollers = Number(arg("pollers", "10"))
const idleSeconds = Number(arg("idle", "30"))
const heapDir = arg("heap", "")
// V8 flags for the server on top of the probe, e.g. "--max-semi-space-size=2 --max-old-space-size=128".
const nodeOptions = arg("node-options", "")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mb = (b: number) => Math.round(b / 2 ** 20)

interface Probe {
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
}

const statusOf = (pid: number) => {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? 0) * 1024
    return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") }
  } catch {
    return undefined
  }
}

/** Samples the server every second until `stop` is called: RSS max/last, the probe's largest heap figures. */
const sampler = (pid: number, probeFile: string) => {
  const figures = { rssMax: 0, rssLast: 0, anonLast: 0, heapUsedMax: 0, heapTotalMax: 0, externalMax: 0, buffersMax: 0 }
  let running = true
  const done = (async () => {
    while (running) {
      const s = statusOf(pid)
      if (s !== undefined) {
        figures.rssMax = Math.max(figures.rssMax, s.rss)
        figures.rssLast = s.rss
        figures.anonLast = s.anon
      }
      if (existsSync(probeFile)) {
        try {
          const p = JSON.parse(readFileSync(probeFile, "utf8")) as Probe
          figures.heapUsedMax = Math.max(figures.heapUsedMax, p.heapUsed)
          figures.heapTotalMax = Math.max(figures.heapTotalMax, p.heapTotal)
          figures.externalMax = Math.max(figures.externalMax, p.external)
          figures.buffersMax = Math.max(figures.buffersMax, p.arrayBuffers)
        } catch {
          // replaced while read: the next sample has it
        }
      }
      await sleep(1000)
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return { ...figures }
    }
  }
}

type Sample = Awaited<ReturnType<ReturnType<typeof sampler>["stop"]>>

interface Figures {
  readonly stores: number
  readonly syncedIn: number
  readonly syncing: Sample
  readonly polling: Sample
  readonly idle: Sample
  readonly polls: number
  readonly pages: number
  readonly pollProblems: number
  readonly heap?: string | undefined
}

const measure = async (stores: number): Promise<Figures> => {
  const dir = tempDir("memory")
  const probeFile = join(dir, "probe.json")
  const probe = new URL("./memory-probe.cjs", import.meta.url).pathname
  const t0 = Date.now()
  const set = await Replicas.start({
    engine: "sqlite",
    replicas: 1,
    heartlandStores: Math.ceil(stores / 2),
    lightspeedStores: Math.floor(stores / 2),
    documents,
    syncIntervalSeconds: interval,
    heartlandPerPage: 100,
    exportPageSize: 100,
    readyTimeoutMs: 600_000,
    serverEnv: {
      NODE_OPTIONS: `--require ${probe} ${nodeOptions}`.trim(),
      POSBRIDGE_MEMORY_PROBE: probeFile,
      ...(heapDir === "" ? {} : { POSBRIDGE_HEAP_DIR: heapDir })
    }
  })
  try {
    const pid = set.replicas[0]?.server()?.pid ?? -1
    const syncing = sampler(pid, probeFile)
    // Synced: every store holds documents and the total has not moved for 10 s (cheap to ask at 1M documents,
    // unlike the change-log comparison of `Checks.settle`).
    let last = -1
    let stableSince = Date.now()
    for (const deadline = Date.now() + 3_600_000; Date.now() < deadline; await sleep(2000)) {
      const status = await set.status()
      const total = status.reduce((n, s) => n + s.documents, 0)
      if (total !== last || status.some((s) => s.documents === 0)) {
        last = total
        stableSince = Date.now()
      } else if (Date.now() - stableSince >= 10_000) break
    }
    const syncedIn = Date.now() - t0
    const syncFigures = await syncing.stop()
    console.log(`${stores} stores synced ${Checks.seconds(syncedIn)} after the start`)

    const polling = sampler(pid, probeFile)
    const url = set.replicas[0]!.url
    const window = { start: Date.now() - 5 * 86_400_000, end: Date.now() + 60_000 }
    let next = 0
    let polls = 0
    let pages = 0
    let pollProblems = 0
    const until = Date.now() + watchSeconds * 1000
    await Promise.all(
      Array.from({ length: pollers }, async () => {
        while (Date.now() < until) {
          const store = set.stores[next++ % set.stores.length]!
          const r = await Effect.runPromise(SS.poll(url, store.id, set.shipstation, window))
          polls++
          pages += r.pages
          if (r.status !== 200) pollProblems++
        }
      })
    )
    const pollFigures = await polling.stop()
    // Mostly idle: sync keeps its interval, ShipStation is between polls.
    const idle = sampler(pid, probeFile)
    await sleep(idleSeconds * 1000)
    const idleFigures = await idle.stop()
    let heap: string | undefined
    if (heapDir !== "") {
      rmSync(join(heapDir, "last"), { force: true })
      process.kill(pid, "SIGUSR2")
      for (let i = 0; i < 600 && !existsSync(join(heapDir, "last")); i++) await sleep(500)
      const file = readFileSync(join(heapDir, "last"), "utf8")
      heap = `${file}\n${summarise(file, 30)}`
    }
    return {
      stores,
      syncedIn,
      syncing: syncFigures,
      polling: pollFigures,
      idle: idleFigures,
      polls,
      pages,
      pollProblems,
      heap
    }
  } finally {
    await set.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  const results: Array<Figures> = []
  for (const n of storeCounts) {
    const r = await measure(n)
    results.push(r)
    if (r.heap !== undefined) console.log(`\nheap snapshot, ${n} stores: ${r.heap}\n`)
  }
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const rows: Array<[string, ...Array<string>]> = [
    ["stores", ...results.map((r) => String(r.stores))],
    [`documents (${documents} per store)`, ...results.map((r) => String(r.stores * documents))],
    ["all synced after start", ...results.map((r) => s(r.syncedIn))],
    ["RSS max while syncing (MB)", ...results.map((r) => String(mb(r.syncing.rssMax)))],
    ["RSS max while polling (MB)", ...results.map((r) => String(mb(r.polling.rssMax)))],
    [
      `RSS max / last, ${idleSeconds} s idle after (MB)`,
      ...results.map((r) => `${mb(r.idle.rssMax)} / ${mb(r.idle.rssLast)}`)
    ],
    ["RSS last, anonymous (MB)", ...results.map((r) => String(mb(r.idle.anonLast)))],
    ["heapUsed max while idle (MB)", ...results.map((r) => String(mb(r.idle.heapUsedMax)))],
    ["heapUsed max while polling (MB)", ...results.map((r) => String(mb(r.polling.heapUsedMax)))],
    ["heapTotal max while polling (MB)", ...results.map((r) => String(mb(r.polling.heapTotalMax)))],
    [
      "external max / of it arrayBuffers (MB)",
      ...results.map((r) => `${mb(r.polling.externalMax)} / ${mb(r.polling.buffersMax)}`)
    ],
    [`polls in ${watchSeconds} s (${pollers} in flight)`, ...results.map((r) => String(r.polls))],
    ["pages served", ...results.map((r) => String(r.pages))],
    ["polls not answered 200", ...results.map((r) => String(r.pollProblems))]
  ]
  console.log(`\none server, SQLite, sync interval ${interval} s${nodeOptions === "" ? "" : `, node ${nodeOptions}`}\n`)
  for (const [i, row] of rows.entries()) {
    console.log(`| ${row.join(" | ")} |`)
    if (i === 0) console.log(`|${row.map(() => "---").join("|")}|`)
  }
}

await main()
