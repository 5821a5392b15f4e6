import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { freePort, tempDir } from "../src/Processes.js"
import { startServer } from "../src/ServerProcess.js"
import { heartlandSimulator } from "../src/Simulators.js"
const sim = await heartlandSimulator({ orders: 40, token: "hl-token" })
const dir = tempDir("hl2")
const config = join(dir, "config.json")
writeFileSync(config, JSON.stringify({ dataDir: dir, stores: [{ id: "s", adapter: "heartland", documentKind: "orders",
  shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
  settings: { baseUrl: sim.url, apiToken: { env: "TEST_HEARTLAND_TOKEN" }, perPage: 10 }, syncIntervalSeconds: 5 }] }))
const server = await startServer(config, await freePort())
await new Promise((r) => setTimeout(r, 4000))
await server.kill("SIGTERM")
for (const r of sim.requests().filter((r) => r.url.includes("/api/sales/orders?"))) console.log(decodeURIComponent(r.url).slice(0, 220))
console.log(JSON.stringify(sim.control ? await Effect.runPromise((sim.control as any).changes ?? Effect.succeed([])).then((c: any) => c.length) : 0))
await sim.close()
