import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { freePort, runNode, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { gauge, type RunningServer, startServer } from "@posbridge/e2e/ServerProcess"
import { type RunningSimulatorProcess, startSimulator } from "@posbridge/e2e/SimulatorProcess"

const conformanceDir = new URL("..", import.meta.url).pathname

/** Runs the conformance CLI as a process without blocking this event loop (the simulator answers from here). */
const runConformance = (args: ReadonlyArray<string>) =>
  runNode(["--conditions=source", "--import", "tsx", "src/bin.ts", ...args], {
    cwd: conformanceDir,
    timeoutMs: 200_000
  })

describe("conformance --url against the real server started as a process, fed by posbridge simulate", () => {
  let sim: RunningSimulatorProcess
  let server: RunningServer
  beforeAll(async () => {
    // Two Heartland accounts with the demo's data and merchant activity, in their own process.
    sim = await startSimulator({ adapter: "heartland", accounts: 2, activity: true })
    const dir = tempDir("conformance-url")
    const config = join(dir, "config.json")
    // The second store has its own ShipStation login, so cross-store credentials can be refused.
    process.env.CONFORMANCE_SS2_PASSWORD = "second-secret"
    process.env.SIM_HEARTLAND_TOKEN = "sim-token"
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
        stores: ["shop", "shop2"].map((id, i) => ({
          id,
          adapter: "heartland",
          documentKind: "orders",
          // Small pages, so the paging check reads several.
          pageSize: 5,
          shipstation:
            i === 0
              ? { username: "ss", password: { env: "TEST_SS_PASSWORD" } }
              : { username: "ss2", password: { env: "CONFORMANCE_SS2_PASSWORD" } },
          settings: { baseUrl: `${sim.url}/${sim.accounts[i]}`, apiToken: { env: "SIM_HEARTLAND_TOKEN" } },
          syncIntervalSeconds: 5,
          lookbackDays: 30
        }))
      })
    )
    server = await startServer(config, await freePort())
    await waitFor("the first sync", async () =>
      ((await gauge(server.metricsUrl, "posbridge_documents", "shop")) ?? 0) >= 40 ? true : undefined
    )
  }, 120_000)
  afterAll(async () => {
    await server?.kill("SIGTERM")
    await sim?.kill()
  })

  it("passes every protocol scenario and the POS change-log check over HTTP, and lists the ones needing the bridge as skipped", async () => {
    const login = ["--store", "shop", "--user", "ss", "--password", "ss-secret"]
    const second = ["--store2", "shop2", "--user2", "ss2", "--password2", "second-secret"]
    const oracle = ["--simulator", sim.url, "--account", sim.accounts[0]!, "--sync-seconds", "10"]
    const r = await runConformance(["--url", server.url, ...login, ...second, ...oracle])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    const lines = r.stdout.trim().split("\n")
    expect(lines.at(-1)).toBe("11 passed, 0 failed")
    expect(lines).toContain("ok   scenario pos-change-log")
    for (const name of [
      "both-credential-forms",
      "bad-credentials",
      "credentials-of-another-store",
      "malformed-dates",
      "start-after-end",
      "page-beyond-last",
      "empty-window",
      "paging-stability",
      "duplicate-ship-notice-over-http"
    ]) {
      expect(lines).toContain(`ok   scenario ${name}`)
    }
    expect(lines).toContain("n/a  scenario late-arriving-resave: skipped (needs the in-process bridge)")
    // A second run against the same server is not mistaken for a retry of the first one's notice.
    const again = await runConformance(["--url", server.url, ...login, "--scenario", "duplicate-ship-notice-over-http"])
    expect(again.stdout.trim().split("\n").at(-1), again.stdout).toBe("1 passed, 0 failed")
  }, 240_000)

  it("fails, naming the scenario, when the password is wrong", async () => {
    const r = await runConformance(["--url", server.url, "--store", "shop", "--user", "ss", "--password", "nope"])
    expect(r.status).toBe(1)
    expect(r.stdout).toMatch(/FAIL scenario both-credential-forms: basic credentials: expected 200 .* got 401/)
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/)
  }, 120_000)
})
