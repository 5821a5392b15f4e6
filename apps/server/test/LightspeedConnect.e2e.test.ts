import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { freePort, tempDir, waitFor } from "@posbridge/e2e/Processes"
import { gauge, runCli, startServer } from "@posbridge/e2e/ServerProcess"
import { lightspeedSimulator } from "@posbridge/e2e/Simulators"
import { Effect } from "effect"

describe("connecting a Lightspeed store", () => {
  it("prints the authorization URL, takes the callback, stores the tokens encrypted and syncs the store", async () => {
    const sim = await lightspeedSimulator({ sales: 12 })
    const dir = tempDir("lightspeed")
    const config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: dir,
        encryptionKey: { env: "TEST_ENCRYPTION_KEY" },
        stores: [
          {
            id: "ls",
            adapter: "lightspeed",
            documentKind: "invoices",
            shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
            settings: {
              accountId: "1000",
              clientId: "sim-client",
              clientSecret: { env: "TEST_LS_SECRET" },
              apiBaseUrl: sim.url,
              authBaseUrl: sim.url,
              currency: "USD"
            },
            syncIntervalSeconds: 5
          }
        ]
      })
    )
    const port = await freePort()
    const server = await startServer(config, port)
    try {
      const publicUrl = `http://127.0.0.1:${port}`
      const cli = await runCli([
        "stores",
        "add",
        "--adapter",
        "lightspeed",
        "--store",
        "ls",
        "--public-url",
        publicUrl,
        "--config",
        config
      ])
      expect(cli.status, cli.stderr).toBe(0)
      const authorizeUrl = /https?:\/\/\S+\/auth\/oauth\/authorize\S+/.exec(cli.stdout)?.[0]
      expect(authorizeUrl).toBeDefined()
      const url = new URL(authorizeUrl!)
      expect(url.searchParams.get("code_challenge_method")).toBe("S256")
      expect(url.searchParams.get("redirect_uri")).toBe(`${publicUrl}/oauth/lightspeed/ls/callback`)

      // The merchant approves; Lightspeed redirects the browser to posbridge's callback.
      const approval = await fetch(authorizeUrl!, { redirect: "manual" })
      expect(approval.status).toBe(302)
      const callback = approval.headers.get("location")!
      const forged = new URL(callback)
      forged.searchParams.set("state", "forged")
      const refused = await fetch(forged)
      expect(refused.status).toBe(400)
      expect(await refused.text()).toContain("unknown state")
      const done = await fetch(callback)
      expect(await done.text()).toContain('Lightspeed is connected to posbridge store "ls"')
      expect(done.status).toBe(200)
      // A callback cannot be replayed.
      expect((await fetch(callback)).status).toBe(400)

      await waitFor("the store's sales", async () => {
        const n = await gauge(server.metricsUrl, "posbridge_documents", "ls")
        return n !== undefined && n > 0 ? n : undefined
      })
      const database = readFileSync(join(dir, "posbridge.sqlite")).toString("latin1")
      const stats = await Effect.runPromise(sim.control.stats)
      expect(stats.tokenGrants).toBeGreaterThan(0)
      expect(database).not.toContain("sim-secret")
      expect(server.output()).not.toContain("sim-secret")
    } finally {
      await server.kill("SIGTERM")
      await sim.close()
    }
  }, 180_000)
})
