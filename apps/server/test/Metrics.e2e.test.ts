/**
 * Issue 17, acceptance 3: `/metrics` of the server as users run it, on its own listener, holds each metric with
 * the right type and labels — polls by store and outcome, export latency histograms (page 1 and later pages, no
 * store label), documents ingested, sync duration and outcome, POS requests by status (a 429 visible),
 * write-backs by outcome, held orders and the other per-store gauges — each series with the runner's label.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { basic, env, type RunningServer, startServer } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator, type RunningSimulator } from "@posbridge/e2e/Simulators"
import { Faults, ShipStationClient } from "@posbridge/pos-testkit"
import { Effect } from "effect"

const token = "metrics-bearer-7d2c"
const orders = 12

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Prometheus text exposition: `# TYPE` per metric family, and every sample with its labels. */
const parse = (text: string) => {
  const types = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) types.set(type[1] ?? "", type[2] ?? "")
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!sample || line.startsWith("#")) continue
    const labels: Record<string, string> = {}
    for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1] ?? ""] = m[2] ?? ""
    samples.push({ name: sample[1] ?? "", labels, value: Number(sample[3]) })
  }
  return { types, samples }
}

describe("/metrics of a running server, on its own listener", () => {
  let sim: RunningSimulator
  let server: RunningServer
  const runner = "localhost:34431"

  beforeAll(async () => {
    sim = await heartlandSimulator({ orders, token: "hl-token", seed: 5 })
    // The POS's first answer is a 429 (the adapter waits as told and asks again).
    await Effect.runPromise(sim.control.setFaults(Faults.scripted([Faults.rateLimited(1)])))
    const dir = tempDir("metrics")
    const config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
        metrics: { token: { env: "TEST_METRICS_TOKEN" } },
        outbox: { initialBackoffSeconds: 1 },
        stores: [
          {
            id: "shop",
            adapter: "heartland",
            documentKind: "orders",
            pageSize: 5,
            shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
            settings: { baseUrl: sim.url, apiToken: { env: "TEST_HEARTLAND_TOKEN" } },
            syncIntervalSeconds: 5
          }
        ]
      })
    )
    server = await startServer(config, await freePort(), 60_000, { TEST_METRICS_TOKEN: token })
  }, 90_000)
  afterAll(async () => {
    await server?.kill("SIGTERM")
    await sim?.close()
  })

  const scrape = async (authorization = `Bearer ${token}`) => {
    const r = await fetch(`${server.metricsUrl}/metrics`, { headers: { authorization } })
    return { status: r.status, text: await r.text() }
  }

  it("has every metric with its type and labels, counters and gauges naming their store, histograms not", async () => {
    // ShipStation polls the store once (page 1, then each later page once) when all its orders are in.
    const poll = await waitFor(
      "all orders exported",
      async () => {
        const p = await Effect.runPromise(
          ShipStationClient.poll(
            server.url,
            "shop",
            { username: "ss", password: env.TEST_SS_PASSWORD },
            {
              start: Date.UTC(2020, 0, 1),
              end: Date.UTC(2099, 0, 1)
            }
          )
        )
        return p.status === 200 && p.orders.length >= 10 ? p : undefined
      },
      60_000
    )
    expect(poll.pages).toBeGreaterThan(1)
    // A ship notice for one of them is written back to the POS.
    const number = (await Effect.runPromise(sim.control.orders))[0]?.public_id ?? "missing"
    const posted = await fetch(
      `${server.url}/shipstation/shop?action=shipnotify&order_number=${number}&carrier=USPS&tracking_number=1Z999`,
      {
        method: "POST",
        headers: { authorization: basic("ss", env.TEST_SS_PASSWORD), "content-type": "text/xml" },
        body: `<?xml version="1.0" encoding="utf-8"?><ShipNotice><OrderNumber>${number}</OrderNumber><Carrier>USPS</Carrier><Service>Priority</Service><TrackingNumber>1Z999</TrackingNumber><ShipDate>11/27/2026</ShipDate><Items/></ShipNotice>`
      }
    )
    expect(posted.status).toBe(200)
    const counter = (samples: ReadonlyArray<Sample>, name: string, labels: Record<string, string>) =>
      samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((n, s) => n + s.value, 0)
    const { types, samples } = await waitFor(
      "the write-back, the 429 and the gauges in /metrics",
      async () => {
        const m = parse((await scrape()).text)
        return counter(m.samples, "posbridge_write_backs_total", { store: "shop", outcome: "delivered" }) === 1 &&
          counter(m.samples, "posbridge_sync_runs_total", { store: "shop", outcome: "succeeded" }) >= 1 &&
          counter(m.samples, "posbridge_outbox_items", { store: "shop", state: "done" }) === 1
          ? m
          : undefined
      },
      60_000
    )

    const expectFamily = (
      name: string,
      type: string,
      labels: ReadonlyArray<string>,
      notLabels: ReadonlyArray<string>
    ) => {
      expect(types.get(name), `# TYPE of ${name}`).toBe(type)
      const series = samples.filter((s) => s.name === name || s.name.startsWith(`${name}_`))
      expect(series.length, `${name} has series`).toBeGreaterThan(0)
      for (const s of series) {
        for (const l of [...labels, "runner"]) expect(s.labels, `${s.name} label ${l}`).toHaveProperty(l)
        for (const l of notLabels) expect(s.labels, `${s.name} without ${l}`).not.toHaveProperty(l)
        expect(s.labels.runner).toBe(runner)
      }
    }
    expectFamily("posbridge_polls_total", "counter", ["store", "outcome"], [])
    expectFamily("posbridge_export_page_seconds", "histogram", ["page"], ["store"])
    expectFamily("posbridge_documents_ingested_total", "counter", ["store"], [])
    expectFamily("posbridge_sync_runs_total", "counter", ["store", "outcome"], [])
    expectFamily("posbridge_sync_duration_seconds", "histogram", ["outcome"], ["store"])
    expectFamily("posbridge_pos_requests_total", "counter", ["store", "adapter", "status"], [])
    expectFamily("posbridge_write_backs_total", "counter", ["store", "outcome"], [])
    expectFamily("posbridge_ship_notices_total", "counter", ["store", "result"], [])
    for (const gauge of ["posbridge_documents", "posbridge_waiting_for_poll", "posbridge_held_orders"]) {
      expectFamily(gauge, "gauge", ["store"], [])
    }
    expectFamily("posbridge_outbox_items", "gauge", ["store", "state"], [])
    expectFamily("posbridge_last_poll_timestamp_seconds", "gauge", ["store"], [])

    // The values say what happened.
    expect(counter(samples, "posbridge_polls_total", { store: "shop", outcome: "served" })).toBeGreaterThanOrEqual(1)
    const pages = (page: string) => counter(samples, "posbridge_export_page_seconds_count", { page })
    expect(pages("first")).toBeGreaterThanOrEqual(1)
    expect(pages("later")).toBeGreaterThanOrEqual(poll.pages - 1)
    expect(counter(samples, "posbridge_pos_requests_total", { store: "shop", status: "429" })).toBe(1)
    expect(counter(samples, "posbridge_pos_requests_total", { store: "shop", status: "200" })).toBeGreaterThan(1)
    expect(counter(samples, "posbridge_documents_ingested_total", { store: "shop" })).toBeGreaterThanOrEqual(orders)
    expect(counter(samples, "posbridge_ship_notices_total", { store: "shop", result: "accepted" })).toBe(1)
    const status = (await (
      await fetch(`${server.url}/admin/api/stores`, {
        headers: { authorization: basic("admin", env.TEST_ADMIN_PASSWORD) }
      })
    ).json()) as { stores: ReadonlyArray<{ id: string; documents: number; held: number }> }
    const shop = status.stores.find((s) => s.id === "shop")
    expect(counter(samples, "posbridge_documents", { store: "shop" })).toBe(shop?.documents)
    expect(counter(samples, "posbridge_held_orders", { store: "shop" })).toBe(shop?.held)
  }, 150_000)

  it("wants the bearer token, answers only /metrics, and is not on the port ShipStation reaches", async () => {
    expect((await scrape("")).status).toBe(401)
    expect((await scrape("Bearer wrong-token-of-same-size")).status).toBe(401)
    expect((await scrape()).status).toBe(200)
    expect((await fetch(`${server.metricsUrl}/admin/status`)).status).toBe(404)
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404)
    expect((await scrape()).text).not.toContain(token)
  })
})
