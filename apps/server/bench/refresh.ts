/**
 * Save-to-poll benchmark (issue 18): the time from a POS save to the ShipStation poll that carries the order,
 * without and with posbridge asking ShipStation to refresh the store, side by side, on what `pnpm start` runs.
 *
 * Each run: the built server (`node dist/bin.js serve --config …`) with REFRESHBENCH_STORES Heartland stores
 * syncing every REFRESHBENCH_SYNC_SECONDS against a `posbridge simulate heartland` process, and the ShipStation
 * API simulator (`@posbridge/shipstation/testing`) on a real port. ShipStation's own schedule is played by this
 * process: every store is polled every REFRESHBENCH_SCHEDULE_SECONDS (page 1, then each later page, contiguous
 * windows with a minute of overlap). While it runs (REFRESHBENCH_SECONDS), the merchant re-saves one order
 * (never the same twice) in one store after the other, each store about once. A save's latency is the time to the first poll after it — scheduled, or started
 * by a refresh — that carries the order. "Auto-refresh" runs the same with `shipstationApi.autoRefresh` on
 * (refresh at most every REFRESHBENCH_MIN_INTERVAL_SECONDS per store; the simulator polls as soon as it is asked,
 * REFRESHBENCH_POLL_DELAY_SECONDS later: ShipStation's real delay is not confirmed).
 *
 *   pnpm --filter @posbridge/server bench:refresh
 */
import { writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { join } from "node:path"
import { NodeHttpServer } from "@effect/platform-node"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { ShipStationClient } from "@posbridge/pos-testkit"
import { ApiSimulator } from "@posbridge/shipstation/testing"
import { Context, Duration, Effect, Exit, Layer, Scope } from "effect"
import { startServer, startSimulator } from "./polls/Procs.js"

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name])
  return Number.isFinite(v) && v > 0 ? v : fallback
}
const stores = num("REFRESHBENCH_STORES", 10)
const seconds = num("REFRESHBENCH_SECONDS", 120)
const schedule = num("REFRESHBENCH_SCHEDULE_SECONDS", 120)
const syncSeconds = num("REFRESHBENCH_SYNC_SECONDS", 10)
const minInterval = num("REFRESHBENCH_MIN_INTERVAL_SECONDS", 30)
const pollDelay = Number(process.env.REFRESHBENCH_POLL_DELAY_SECONDS ?? 0)
/** Re-saves start after this: the first sync's stamps must be out of every poll's minute of overlap. */
const warmUp = 70

const credentials = { username: "ss", password: "ss-bench-secret" }
const key = { apiKey: "bench-key", apiSecret: "bench-secret" }
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`)
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const json = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const r = await fetch(url, init)
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}
const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN)
}

interface Seen {
  readonly store: string
  readonly at: number
  readonly refs: ReadonlySet<string>
}

interface Result {
  readonly label: string
  readonly latencies: ReadonlyArray<number>
  readonly unpolled: number
  readonly refreshCalls: number
  readonly tooMany: number
  /** posbridge's own `posbridge_save_to_poll_seconds` mean, from /metrics (a cross-check). */
  readonly metricMean: number
}

const once = async (label: string, autoRefresh: boolean): Promise<Result> => {
  log(`${label}: ${stores} stores, sync every ${syncSeconds} s, ShipStation's schedule every ${schedule} s`)
  const sim = await startSimulator(stores)
  const port = await freePort()
  const serverUrl = `http://127.0.0.1:${port}`
  const ids = Array.from({ length: stores }, (_, i) => `bench-${i}`)
  const scope = await run(Scope.make())
  try {
    const context = await run(
      Layer.buildWithScope(
        ApiSimulator.ApiSimulator.layerServer({
          accounts: [
            {
              ...key,
              stores: ids.map((id, i) => ({
                storeId: i + 1,
                storeName: id,
                integrationUrl: `${serverUrl}/shipstation/${id}`,
                ...credentials
              }))
            }
          ],
          pollDelay: Duration.seconds(pollDelay)
        }).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))),
        scope
      )
    )
    const api = Context.get(context, ApiSimulator.ApiSimulator)
    const apiUrl = await run(ApiSimulator.baseUrl.pipe(Effect.provide(context)))
    const { accounts } = await json<{ accounts: ReadonlyArray<string> }>(`${sim.url}/control`)
    const dir = tempDir("refresh-bench")
    const config = join(dir, "config.json")
    const entries = await Promise.all(
      ids.map(async (id, i) => {
        const { settings } = await json<{ settings: Record<string, unknown> }>(
          `${sim.url}/control/accounts/${accounts[i]}/settings?kind=orders`
        )
        return {
          id,
          adapter: "heartland",
          documentKind: "orders",
          shipstation: { username: credentials.username, password: { env: "BENCH_SS_PASSWORD" } },
          settings: { ...settings, apiToken: { env: "BENCH_HL_TOKEN" } },
          syncIntervalSeconds: syncSeconds,
          shipstationApi: {
            apiKey: { env: "BENCH_API_KEY" },
            apiSecret: { env: "BENCH_API_SECRET" },
            storeId: i + 1,
            baseUrl: apiUrl,
            autoRefresh,
            minIntervalSeconds: minInterval
          }
        }
      })
    )
    const token = String(
      (
        await json<{ settings: Record<string, unknown> }>(
          `${sim.url}/control/accounts/${accounts[0]}/settings?kind=orders`
        )
      ).settings.apiToken
    )
    writeFileSync(
      config,
      JSON.stringify({ dataDir: dir, admin: { username: "admin", password: { env: "BENCH_ADMIN" } }, stores: entries })
    )
    const server = await startServer(
      config,
      {
        BENCH_SS_PASSWORD: credentials.password,
        BENCH_HL_TOKEN: token,
        BENCH_API_KEY: key.apiKey,
        BENCH_API_SECRET: key.apiSecret,
        BENCH_ADMIN: "bench-admin"
      },
      port
    )
    try {
      // ShipStation's schedule, staggered over the interval: page 1, then each later page, contiguous windows.
      const seen: Array<Seen> = []
      let running = true
      const lastEnd = new Map<string, number>()
      const scheduled = ids.map(async (id, i) => {
        await sleep((i * schedule * 1000) / stores)
        while (running) {
          const end = Date.now()
          const start = (lastEnd.get(id) ?? end - 86_400_000) - 60_000
          const p = await run(ShipStationClient.poll(server.url, id, credentials, { start, end }))
          if (p.status === 200) {
            lastEnd.set(id, end)
            seen.push({ store: id, at: end, refs: new Set(p.orders.map((o) => o.posRef)) })
          }
          await sleep(schedule * 1000)
        }
      })
      await waitFor(
        "every store's first sync",
        async () => {
          const body = await json<{ stores: ReadonlyArray<{ documents: number }> }>(`${server.url}/admin/api/stores`, {
            headers: { authorization: `Basic ${Buffer.from("admin:bench-admin").toString("base64")}` }
          })
          return body.stores.every((s) => s.documents > 0) ? true : undefined
        },
        120_000
      )
      log(`${label}: synced; warming up ${warmUp} s`)
      await sleep(warmUp * 1000)
      // The merchant: one re-save every `every` ms, store after store (each store about once per run, so the
      // refresh interval is not what is measured), never the same order twice.
      const saves: Array<{ store: string; storeId: number; ref: string; at: number }> = []
      const used = new Set<string>()
      const every = Math.max(1, Math.floor((seconds * 1000) / stores))
      const until = Date.now() + seconds * 1000
      let k = 0
      while (Date.now() < until) {
        // Stores in a scrambled order (7 is prime to the usual counts), so a save does not keep the same phase
        // against its store's staggered schedule from one store to the next.
        const i = (k * 7 + 3) % stores
        k++
        const account = accounts[i] ?? ""
        const { changes } = await json<{ changes: ReadonlyArray<{ ref: string }> }>(
          `${sim.url}/control/changes?account=${account}&kind=orders`
        )
        const ref = changes.map((c) => c.ref).find((r) => !used.has(`${i}:${r}`))
        if (ref !== undefined) {
          used.add(`${i}:${ref}`)
          const at = Date.now()
          await json(`${sim.url}/control/accounts/${account}/documents/orders/${ref}/resave`, { method: "POST" })
          saves.push({ store: ids[i] ?? "", storeId: i + 1, ref, at })
        }
        await sleep(every)
      }
      // ShipStation's dates are whole minutes: a poll's end minute may stop short of a version stamped in it.
      log(`${label}: ${saves.length} re-saves; waiting one schedule interval (and a minute) for the last polls`)
      await sleep((schedule + syncSeconds + 65) * 1000)
      running = false
      const refreshPolls = (await run(api.polls)).filter((p) => p.status === 200)
      const latencies: Array<number> = []
      let unpolled = 0
      for (const s of saves) {
        const byRefresh = refreshPolls
          .filter((p) => p.storeId === s.storeId && p.startedAt >= s.at && p.orders.includes(s.ref))
          .map((p) => p.startedAt)
        const bySchedule = seen.filter((p) => p.store === s.store && p.at >= s.at && p.refs.has(s.ref)).map((p) => p.at)
        const first = Math.min(...byRefresh, ...bySchedule)
        if (Number.isFinite(first)) latencies.push((first - s.at) / 1000)
        else unpolled++
      }
      const metrics = await (await fetch(`${server.metricsUrl}/metrics`)).text()
      const metric = (name: string) =>
        [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "gm"))].reduce((n, m) => n + Number(m[1]), 0)
      const calls = (await run(api.calls)).filter((c) => c.endpoint === "refreshStore")
      // The scheduled pollers stop at their next turn; their answers are no longer counted.
      void Promise.allSettled(scheduled)
      return {
        label,
        latencies,
        unpolled,
        refreshCalls: calls.length,
        tooMany: await run(api.tooManyRequests),
        metricMean: metric("posbridge_save_to_poll_seconds_sum") / metric("posbridge_save_to_poll_seconds_count")
      }
    } finally {
      await server.stop()
    }
  } finally {
    await run(Scope.close(scope, Exit.void))
    await sim.stop()
  }
}

const main = async () => {
  const results = [await once("schedule only", false), await once("schedule + auto-refresh", true)]
  const s = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} s` : "—")
  const rows: ReadonlyArray<readonly [string, (r: Result) => string]> = [
    ["re-saves measured", (r) => String(r.latencies.length)],
    ["never polled", (r) => String(r.unpolled)],
    ["save → poll p50", (r) => s(quantile(r.latencies, 0.5))],
    ["save → poll p95", (r) => s(quantile(r.latencies, 0.95))],
    ["save → poll max", (r) => s(Math.max(...r.latencies))],
    ["posbridge_save_to_poll_seconds mean", (r) => s(r.metricMean)],
    ["refresh calls", (r) => String(r.refreshCalls)],
    ["429s from ShipStation", (r) => String(r.tooMany)]
  ]
  console.log(
    `\nsave → ShipStation poll: ${stores} Heartland stores, sync every ${syncSeconds} s, ShipStation's own poll every ${schedule} s per store (a parameter: ShipStation's real interval depends on the account), refresh at most every ${minInterval} s per store, ShipStation polling ${pollDelay} s after a refresh call (its real delay is not confirmed)\n`
  )
  const width = 38
  console.log(`${"".padEnd(width)}${results.map((r) => r.label.padStart(26)).join("")}`)
  for (const [name, f] of rows) console.log(`${name.padEnd(width)}${results.map((r) => f(r).padStart(26)).join("")}`)
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
