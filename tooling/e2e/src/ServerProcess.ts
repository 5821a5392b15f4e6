/**
 * The real posbridge server as a child process (`posbridge serve --config …`) that can be killed with SIGKILL
 * and started again, and its command line run to completion. The server is spawned by path: nothing here
 * imports its code.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { serverNodeFlags } from "../../node-flags.mjs"
import { capture, type Finished, freePort, runNode, tempDir } from "./Processes.js"

const serverDir = new URL("../../../apps/server/", import.meta.url).pathname

// What the tests run with node: the server's compiled JavaScript, as `pnpm start` runs it. The build is made once
// before any test starts (`test/globalSetup.ts` at the repository root, turbo-cached); the one place to change
// if the tests ever run something else.
const entry = join(serverDir, "dist/bin.js")
export const serverEntry = async (): Promise<string> => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` (vitest's global setup does).`)
  return entry
}

/** The V8 flags `pnpm start` runs the server with: every server process started here gets them. */
export { serverNodeFlags }

/** The environment every server and CLI process gets: the secrets `writeConfig`'s references name. */
export const env = {
  TEST_ADMIN_PASSWORD: "admin-secret",
  TEST_SS_PASSWORD: "ss-secret",
  TEST_HEARTLAND_TOKEN: "hl-token",
  TEST_LS_SECRET: "sim-secret",
  // 32 bytes, base64: the key the TokenVault encrypts POS tokens with.
  TEST_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64")
}

export interface StoreConfig {
  readonly id: string
  readonly simulatorUrl: string
  readonly token: string
  readonly syncIntervalSeconds?: number
}

/** A configuration file of Heartland stores (sending orders) fed by simulators, with secrets from `env`. */
export const writeConfig = (file: string, dataDir: string, stores: ReadonlyArray<StoreConfig>) =>
  writeFileSync(
    file,
    JSON.stringify(
      {
        dataDir,
        admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
        stores: stores.map((s) => ({
          id: s.id,
          adapter: "heartland",
          documentKind: "orders",
          shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
          settings: { baseUrl: s.simulatorUrl, apiToken: { env: "TEST_HEARTLAND_TOKEN" } },
          syncIntervalSeconds: s.syncIntervalSeconds ?? 5,
          lookbackDays: 30
        }))
      },
      null,
      2
    )
  )

/** A fresh data directory holding `config.json` for `stores` (see `writeConfig`). */
export const tempConfig = (prefix: string, stores: ReadonlyArray<StoreConfig>) => {
  const dir = tempDir(prefix)
  const config = join(dir, "config.json")
  writeConfig(config, dir, stores)
  return { dir, config }
}

export interface RunningServer {
  readonly url: string
  /** Its Prometheus listener (`POSBRIDGE_METRICS_ADDRESS`, a free port of its own): `${metricsUrl}/metrics`. */
  readonly metricsUrl: string
  readonly child: ChildProcess
  /** Its operating-system process id (RSS, its database connections). */
  readonly pid: number
  readonly output: () => string
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

/**
 * Starts `posbridge serve --config file` and waits until /readyz answers 200. `environment` adds to `env` (a
 * replica's own runner port, secrets the configuration names).
 */
export const startServer = async (
  configFile: string,
  port: number,
  timeoutMs = 60_000,
  environment: Readonly<Record<string, string>> = {}
): Promise<RunningServer> => {
  const metricsPort = await freePort()
  const child = spawn(process.execPath, [...serverNodeFlags, await serverEntry(), "serve", "--config", configFile], {
    cwd: serverDir,
    env: {
      ...process.env,
      ...env,
      POSBRIDGE_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      ...environment,
      PORT: String(port),
      INIT_CWD: serverDir
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const out = capture(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out.all()}`)
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`server did not become ready in ${timeoutMs} ms:\n${out.all()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    child,
    pid: child.pid ?? -1,
    output: out.all,
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null) child.kill(signal)
      await exited
    }
  }
}

/** Runs the server's command line (`posbridge …args`) to its end, with `env`. */
export const runCli = async (args: ReadonlyArray<string>, timeoutMs = 120_000): Promise<Finished> =>
  runNode([await serverEntry(), ...args], { cwd: serverDir, env: { ...process.env, ...env }, timeoutMs })

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

/** Reads a store's Prometheus gauge from the metrics listener at `metricsUrl` (other labels, e.g. runner, allowed). */
export const gauge = async (metricsUrl: string, name: string, store: string): Promise<number | undefined> => {
  const text = await fetch(`${metricsUrl}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name}\\{(?:[^}]*,)?store="${store}"(?:,[^}]*)?\\} (\\S+)$`, "m").exec(text)
  return m ? Number(m[1]) : undefined
}
