/**
 * A simulated ShipStation: polls stores over real HTTP as ShipStation does, `inFlight` polls at a time. A poll
 * reads page 1 (which freezes the window's members), takes the page count from its `pages="N"` attribute, then
 * reads every later page exactly once. Latencies include reading the whole body.
 */
import { Agent, request } from "node:http"
import { cpuMs } from "./Procs.js"
import * as W from "./Workload.js"

export interface Stats {
  readonly page1: Array<number>
  readonly later: Array<number>
  polls: number
  readonly errors: Array<string>
}

export const emptyStats = (): Stats => ({ page1: [], later: [], polls: 0, errors: [] })

export interface Job {
  readonly store: string
  readonly window: W.Window
}

const agent = new Agent({ keepAlive: true, maxSockets: W.inFlight * 2 })

const get = (base: string, path: string) =>
  new Promise<{ status: number; body: Buffer; ms: number }>((resolve, reject) => {
    const started = performance.now()
    const req = request(`${base}${path}`, { agent, headers: { authorization: W.authorization } }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - started })
      )
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end()
  })

const pagesOf = (body: Buffer) => Number(/<Orders pages="(\d+)"/.exec(body.toString("utf8", 0, 120))?.[1] ?? 0)

/** Runs `f` on every item, `n` at a time. */
export const pool = async <A>(items: ReadonlyArray<A>, n: number, f: (a: A) => Promise<void>) => {
  let next = 0
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await f(items[i] as A)
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker))
}

const page = async (base: string, job: Job, n: number, stats: Stats) => {
  const r = await get(base, W.exportPath(job.store, job.window, n))
  ;(n === 1 ? stats.page1 : stats.later).push(r.ms)
  if (r.status !== 200) stats.errors.push(`${job.store} page ${n}: ${r.status} ${r.body.toString().slice(0, 200)}`)
  return r
}

/** One poll: page 1, then each later page once. */
const poll = async (base: string, job: Job, stats: Stats) => {
  const first = await page(base, job, 1, stats)
  for (let n = 2; n <= pagesOf(first.body); n++) await page(base, job, n, stats)
  stats.polls++
}

/** A round of polls, `inFlight` at a time, each poll's pages one after the other. */
export const round = (base: string, jobs: ReadonlyArray<Job>, stats: Stats) =>
  pool(jobs, W.inFlight, (job) => poll(base, job, stats))

/**
 * The same polls in batches of 100 stores: every poll's page 1, then every later page (each once), so the
 * server's CPU time over the later pages alone can be read from /proc (`pid`).
 */
export const splitRound = async (base: string, jobs: ReadonlyArray<Job>, stats: Stats, pid: number) => {
  let cpu = 0
  let laterPages = 0
  for (let i = 0; i < jobs.length; i += 100) {
    const batch = jobs.slice(i, i + 100)
    const later: Array<readonly [Job, number]> = []
    await pool(batch, W.inFlight, async (job) => {
      const first = await page(base, job, 1, stats)
      for (let n = 2; n <= pagesOf(first.body); n++) later.push([job, n])
    })
    const before = cpuMs(pid)
    await pool(later, W.inFlight, async ([job, n]) => {
      await page(base, job, n, stats)
    })
    cpu += cpuMs(pid) - before
    laterPages += later.length
    stats.polls += batch.length
  }
  return { cpuMs: cpu, laterPages }
}

/** Every page of each job's window, read one job at a time, concatenated: the answers to compare. */
export const answers = async (base: string, jobs: ReadonlyArray<Job>): Promise<ReadonlyArray<Buffer>> => {
  const out: Array<Buffer> = []
  for (const job of jobs) {
    const first = await get(base, W.exportPath(job.store, job.window, 1))
    const parts = [first.body]
    for (let n = 2; n <= pagesOf(first.body); n++)
      parts.push((await get(base, W.exportPath(job.store, job.window, n))).body)
    out.push(Buffer.concat(parts))
  }
  return out
}
