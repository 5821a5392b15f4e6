import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { basic, gauge, runCli, serverEntry, startServer, tempConfig, writeConfig } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator, type RunningSimulator } from "@posbridge/e2e/Simulators"
import { SqliteStore } from "@posbridge/store-sql"
import { Effect } from "effect"

const serverDir = new URL("..", import.meta.url).pathname

const readStore = <A>(file: string, f: (store: OrderStore.OrderStoreService) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.flatMap(OrderStore.OrderStore, f).pipe(Effect.provide(SqliteStore.layer({ filename: file })), Effect.scoped)
  )

const shipNotice = (orderNumber: string, tracking: string) => `<?xml version="1.0" encoding="utf-8"?>
<ShipNotice><OrderNumber>${orderNumber}</OrderNumber><Carrier>USPS</Carrier><Service>Priority</Service>
<TrackingNumber>${tracking}</TrackingNumber><ShipDate>11/27/2026</ShipDate><Items/></ShipNotice>`

describe("the server as a process", () => {
  let sim: RunningSimulator
  beforeAll(async () => {
    sim = await heartlandSimulator({ orders: 30, token: "hl-token" })
  })
  afterAll(async () => {
    await sim.close()
  })
  /** Heartland stores fed by the shared simulator. */
  const stores = (...ids: ReadonlyArray<string>) => ids.map((id) => ({ id, simulatorUrl: sim.url, token: "hl-token" }))
  const exportStatus = async (url: string, storeId: string) =>
    (
      await fetch(`${url}/shipstation/${storeId}?action=export`, {
        headers: { authorization: basic("ss", "ss-secret") }
      })
    ).status

  it("keeps an idle keep-alive connection open past Node's 5 s default, so a reused connection is never reset", async () => {
    // A load balancer (60 s idle by default) or ShipStation's client reusing a connection the server is closing
    // at that moment gets ECONNRESET; the server must outlast such idle periods.
    const { config } = tempConfig("keepalive", stores("shop"))
    const server = await startServer(config, await freePort())
    try {
      const socket = connect(Number(new URL(server.url).port), "127.0.0.1")
      let received = ""
      let closed = false
      socket.on("data", (d) => {
        received += d.toString("latin1")
      })
      socket.on("close", () => {
        closed = true
      })
      const ask = () => socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n")
      ask()
      await waitFor("the first answer", async () => received.includes("\r\n\r\nok") || undefined, 10_000)
      await new Promise((r) => setTimeout(r, 7_000))
      expect(closed).toBe(false)
      ask()
      await waitFor("the second answer", async () => received.split("HTTP/1.1 200").length === 3 || undefined, 10_000)
      socket.destroy()
    } finally {
      await server.kill()
    }
  }, 40_000)

  it("refuses a configuration with a bad field, naming its path, and exits non-zero", async () => {
    const dir = tempDir("badconfig")
    const file = join(dir, "config.json")
    writeFileSync(
      file,
      JSON.stringify({
        stores: [
          {
            id: "shop",
            adapter: "heartland",
            documentKind: "sales",
            shipstation: { username: "u", password: "pasted-secret-123" }
          }
        ]
      })
    )
    const r = spawnSync(process.execPath, [await serverEntry(), "serve", "--config", file], {
      cwd: serverDir,
      encoding: "utf8",
      timeout: 60_000
    })
    expect(r.status).not.toBe(0)
    const output = r.stdout + r.stderr
    expect(output).toContain("stores[0].documentKind")
    expect(output).toContain("stores[0].shipstation.password")
    expect(output).toContain("never inline")
    expect(output).not.toContain("pasted-secret-123")
  }, 90_000)

  it("answers a ship notice 200 only once it is durable: killed right after the answer, the notice is there", async () => {
    const { dir, config } = tempConfig("durable", stores("shop"))
    const port = await freePort()
    for (let round = 0; round < 3; round++) {
      const server = await startServer(config, port)
      const response = await fetch(
        `${server.url}/shipstation/shop?action=shipnotify&order_number=SO-1001&carrier=USPS&tracking_number=T${round}`,
        {
          method: "POST",
          headers: { authorization: basic("ss", "ss-secret"), "content-type": "text/xml" },
          body: shipNotice("SO-1001", `T${round}`)
        }
      )
      // SIGKILL as soon as the status line arrives: no graceful shutdown, no flush.
      server.child.kill("SIGKILL")
      expect(response.status).toBe(200)
      await server.kill()
    }
    const notices = await readStore(join(dir, "posbridge.sqlite"), (store) => store.outbox("shop"))
    expect(notices.map((n) => n.notice.trackingNumber).sort()).toEqual(["T0", "T1", "T2"])
  }, 240_000)

  it("finishes a ship notice that is in flight when it is asked to stop (SIGTERM)", async () => {
    const { dir, config } = tempConfig("graceful", stores("shop"))
    const server = await startServer(config, await freePort())
    const body = shipNotice("SO-1002", "GRACE1")
    const { request } = await import("node:http")
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/shipstation/shop?action=shipnotify&order_number=SO-1002&carrier=USPS&tracking_number=GRACE1`,
        {
          method: "POST",
          headers: {
            authorization: basic("ss", "ss-secret"),
            "content-type": "text/xml",
            "content-length": Buffer.byteLength(body)
          }
        },
        (res) => {
          let text = ""
          res.on("data", (d) => {
            text += d
          })
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        }
      )
      req.on("error", reject)
      // Half the body now, SIGTERM, the rest shortly after.
      req.write(body.slice(0, 40))
      setTimeout(() => {
        server.child.kill("SIGTERM")
        setTimeout(() => req.end(body.slice(40)), 300)
      }, 200)
    })
    const response = await answered
    expect(response.status).toBe(200)
    expect(response.text).toContain("received")
    await server.kill("SIGTERM")
    const notices = await readStore(join(dir, "posbridge.sqlite"), (store) => store.outbox("shop"))
    expect(notices.map((n) => n.notice.trackingNumber)).toEqual(["GRACE1"])
  }, 120_000)

  it("warns about a Heartland store that sends invoices, at start-up and in stores list", async () => {
    const { config } = tempConfig("invoices", stores("inv"))
    const text = readFileSync(config, "utf8").replace('"documentKind": "orders"', '"documentKind": "invoices"')
    writeFileSync(config, text)
    const server = await startServer(config, await freePort())
    await server.kill("SIGTERM")
    expect(server.output()).toContain("store inv: Heartland invoices cannot be re-saved")
    const list = await runCli(["stores", "list", "--config", config])
    expect(list.status, list.stderr).toBe(0)
    expect(list.stdout).toContain("inv\n  POS: heartland, sends invoices")
    expect(list.stdout).toContain("WARNING: Heartland invoices cannot be re-saved")
  }, 120_000)

  it("syncs one store from the command line, through the running server", async () => {
    const { dir, config } = tempConfig("cli-sync", [
      { id: "shop", simulatorUrl: sim.url, token: "hl-token", syncIntervalSeconds: 3600 }
    ])
    const server = await startServer(config, await freePort())
    try {
      const r = await runCli(["sync", "--store", "shop", "--config", config, "--server", server.url])
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toContain("shop: succeeded, 30 documents")
    } finally {
      await server.kill("SIGTERM")
    }
    const stored = await readStore(join(dir, "posbridge.sqlite"), (store) => store.stats("shop"))
    expect(stored.documents).toBe(30)
  }, 120_000)

  it("prints an expected command-line failure as its one sentence and exits 1", async () => {
    const { config } = tempConfig("cli-failure", stores("shop"))
    const r = await runCli(["touch", "--store", "nope", "--order", "1", "--config", config])
    expect(r.status).toBe(1)
    expect(r.stderr).toBe(`There is no store "nope" in ${config}. Known stores: shop.\n`)
  }, 120_000)

  it("starts a store added to the configuration file within one interval and stops a removed one", async () => {
    const { dir, config } = tempConfig("reload", stores("first"))
    const server = await startServer(config, await freePort())
    try {
      await waitFor("the first store's documents", async () =>
        (await gauge(server.metricsUrl, "posbridge_documents", "first")) === 30 ? true : undefined
      )
      // An unknown store answers like wrong credentials (401), so store ids cannot be listed.
      expect(await exportStatus(server.url, "second")).toBe(401)
      writeConfig(config, dir, stores("first", "second"))
      // The file is re-read every 5 s and the store's interval is 5 s: its documents arrive within ~10 s.
      const started = Date.now()
      await waitFor(
        "the added store's documents",
        async () => ((await gauge(server.metricsUrl, "posbridge_documents", "second")) === 30 ? true : undefined),
        20_000
      )
      expect(Date.now() - started).toBeLessThan(20_000)
      writeConfig(config, dir, stores("first"))
      await waitFor("the removed store to be gone", async () =>
        (await exportStatus(server.url, "second")) === 401 ? true : undefined
      )
      expect(server.output()).toContain("store second: removed from the configuration, stopped")
      // Its gauges go with it: this runner reports only the stores it runs.
      expect(await gauge(server.metricsUrl, "posbridge_documents", "second")).toBeUndefined()
      expect(await gauge(server.metricsUrl, "posbridge_documents", "first")).toBe(30)
      expect(server.output()).not.toContain("hl-token")
      expect(server.output()).not.toContain("ss-secret")
    } finally {
      await server.kill("SIGTERM")
    }
  }, 120_000)
})
