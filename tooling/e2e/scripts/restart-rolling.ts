/**
 * Issue 15, acceptance 5 (not part of `pnpm test`): a rolling restart of three replicas on one PostgreSQL database,
 * one at a time (out of the load balancer's rotation, SIGTERM, started again, back in rotation once /readyz
 * answers), while the merchants keep changing documents and a ShipStation client polls every store with
 * contiguous windows, page 1 from one replica and later pages from the next. Then a catch-up poll of every store,
 * and the POS-side oracle (pos-testkit `PosOracle`): every version in the simulators' change logs must have been
 * served by a later poll with a newer LastModified. Prints the counts; exits 1 on a failed poll or a missed version.
 *
 *   pnpm restart:rolling [--stores 60] [--poll-seconds 10] [--settle-seconds 10]
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PosOracle, ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import * as Checks from "../src/ReplicaChecks.js"
import * as Replicas from "../src/Replicas.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const storeCount = arg("stores", 60)
const pollSeconds = arg("poll-seconds", 10)
const settleSeconds = arg("settle-seconds", 10)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const main = async () => {
  const started = Date.now()
  const set = await Replicas.start({
    replicas: 3,
    heartlandStores: Math.ceil(storeCount / 2),
    lightspeedStores: Math.floor(storeCount / 2),
    pullIdleSeconds: 2
  })
  const problems: Array<string> = []
  const served: Array<PosOracle.Served> = []
  const counts = { polls: 0, pages: 0, crossed: 0, failed: 0, changes: 0 }
  const restarts: Array<string> = []
  let versions: Array<PosOracle.Version> = []
  try {
    const settled = await Checks.settle(set, 120_000)
    if (settled.length > 0) throw new Error(`the stores did not sync:\n${settled.join("\n")}`)
    const firstSeq = new Map(
      await Promise.all(Checks.simulators(set).map(async (sim) => [sim, (await Checks.changes(sim)).last] as const))
    )
    const lastEnd = new Map<string, number>()
    let k = 0
    /** One poll of a store: the window since its last poll, page 1 from one replica in rotation, later pages from the next. */
    const poll = async (store: Replicas.Store) => {
      const live = set.live()
      const first = live[k % live.length]!
      const next = live[(k + 1) % live.length]!
      k++
      const now = Date.now()
      const end = PosOracle.floorMinute(now)
      const window = { start: lastEnd.get(store.id) ?? end - 60 * PosOracle.minute, end }
      const pageTimes = new Map<number, number>([[1, now]])
      const label = `poll of ${store.id} ${SS.formatDate(window.start)} – ${SS.formatDate(window.end)} (replicas ${first.index}, ${next.index})`
      counts.polls++
      const result = await Effect.runPromise(
        SS.poll(first.url, store.id, set.shipstation, window, {
          baseUrlFor: (page) => (page === 1 ? first : next).url,
          betweenPages: (page) => Effect.sync(() => void pageTimes.set(page + 1, Date.now()))
        })
      ).catch((e: unknown) => ({ status: 0, pages: 0, orders: [], pageCounts: [], body: String(e) }))
      if (result.status !== 200) {
        counts.failed++
        problems.push(`${label} failed: ${result.status} ${result.body.trim().slice(0, 200)}`)
        return
      }
      counts.pages += Math.max(1, result.pages)
      if (result.pages > 1 && first !== next) counts.crossed++
      problems.push(...SS.pagingProblems(label, result))
      for (const o of result.orders) {
        const at = pageTimes.get(o.page) ?? now
        served.push({ storeId: store.id, posRef: o.posRef, lastModified: o.lastModified, at, position: at })
      }
      lastEnd.set(store.id, end)
    }
    const pollAll = async () => {
      for (let i = 0; i < set.stores.length; i += 6) await Promise.all(set.stores.slice(i, i + 6).map(poll))
    }
    let running = true
    const client = (async () => {
      while (running) {
        const cycle = Date.now()
        await pollAll()
        await sleep(Math.max(0, pollSeconds * 1000 - (Date.now() - cycle)))
      }
    })()
    // The merchants: a new document or a re-save somewhere, twice a second.
    const merchants = (async () => {
      while (running) {
        const store = set.stores[Math.floor(Math.random() * set.stores.length)]!
        const base = `${store.simulator.url}/control/accounts/${store.account}/documents/${store.kind}`
        const log = (await Checks.changes(store.simulator)).changes.filter(
          (c) => c.account === store.account && c.kind === store.kind
        )
        const ref = log[Math.floor(Math.random() * log.length)]?.ref
        const r = await fetch(Math.random() < 0.5 || ref === undefined ? base : `${base}/${ref}/resave`, {
          method: "POST"
        })
        if (r.ok) counts.changes++
        await sleep(500)
      }
    })()
    await sleep(settleSeconds * 1000)
    for (const r of set.replicas) {
      const t = Date.now()
      set.rotate(r.index, false)
      await sleep(1000)
      await set.stop(r.index, "SIGTERM")
      await set.start(r.index)
      restarts.push(`replica ${r.index} in ${Checks.seconds(Date.now() - t)}`)
      console.log(`restarted replica ${r.index} (${Checks.seconds(Date.now() - t)} out of rotation)`)
      await sleep(settleSeconds * 1000)
    }
    running = false
    await Promise.all([client, merchants])
    const cutoff = Date.now()
    // The catch-up: once every change up to the cutoff could have been pulled and stamped, in a later minute.
    const ingested = cutoff + 3 * set.syncIntervalSeconds * 1000
    while (PosOracle.floorMinute(Date.now()) <= ingested) await sleep(1000)
    await pollAll()

    for (const sim of Checks.simulators(set)) {
      const isNew = PosOracle.newVersions()
      for (const c of (await Checks.changes(sim)).changes) {
        const fresh = isNew(c)
        const store = set.stores.find((s) => s.simulator === sim && s.account === c.account && s.kind === c.kind)
        if (!fresh || store === undefined || c.seq <= (firstSeq.get(sim) ?? 0) || c.at > cutoff) continue
        versions.push(PosOracle.remoteVersion(store.id, c))
      }
    }
    versions = versions.sort((a, b) => a.position - b.position)
    if (versions.length === 0) problems.push("the POS changed nothing during the run: nothing was judged")
    problems.push(
      ...PosOracle.missedVersions(versions, served, {
        held: new Set(),
        polled: new Set(set.stores.map((s) => s.id))
      })
    )
    problems.push(...(await Checks.overlapProblems(set)))
  } finally {
    if (problems.length > 0) {
      // The replicas' logs, to find out why (which runner pulled what, when shards moved).
      const dir = mkdtempSync(join(tmpdir(), "posbridge-rolling-"))
      for (const r of set.replicas) writeFileSync(join(dir, `replica-${r.index}.log`), r.output())
      console.log(`replica logs in ${dir}`)
    }
    await set.close()
  }
  const missed = problems.filter((p) => p.startsWith("missed version")).length
  console.log(
    [
      `rolling restart of 3 replicas (SIGTERM, one at a time) while polling ${storeCount} stores, ${Checks.seconds(Date.now() - started)} in all: ${restarts.join(", ")}`,
      `${counts.polls} polls, ${counts.pages} pages, ${counts.crossed} polls with pages from two replicas, ${counts.failed} failed polls`,
      `${counts.changes} POS changes made; ${versions.length} versions judged by the POS-side oracle, ${missed} missed`,
      `${problems.length} problem(s)`
    ].join("\n")
  )
  for (const p of problems.slice(0, 20)) console.log(`PROBLEM ${p}`)
  process.exit(problems.length === 0 ? 0 : 1)
}

await main()
