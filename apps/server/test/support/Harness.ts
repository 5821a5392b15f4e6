/**
 * End-to-end helpers: a POS simulator listening on a random local port, and the real server started as a
 * child process (`tsx src/bin.ts serve --config …`) that can be killed with SIGKILL and started again.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Simulator as Heartland } from "@posbridge/source-heartland/testing"
import { Simulator as Lightspeed } from "@posbridge/source-lightspeed/testing"
import { Context, Effect, Exit, Layer, Scope } from "effect"

const serverDir = new URL("../..", import.meta.url).pathname
// The server is bundled once into one file beside the package's node_modules (so the native drivers resolve):
// loading thousands of TypeScript modules through tsx made every restart take seconds on a busy machine.
const bundle = join(serverDir, "node_modules/.cache/posbridge-server-bin.mjs")
let bundled: Promise<void> | undefined
export const serverBundle = async (): Promise<string> => {
  bundled ??= import("esbuild").then((esbuild) =>
    esbuild
      .build({
        entryPoints: [join(serverDir, "src/bin.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        // The native SQLite driver stays a real module; pg is plain JavaScript and bundles.
        external: ["better-sqlite3", "pg-native"],
        // CommonJS dependencies bundled into ESM still call require().
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        logLevel: "error"
      })
      .then(() => undefined)
  )
  await bundled
  return bundle
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `posbridge-${prefix}-`))

export interface RunningSimulator {
  readonly url: string
  readonly control: Heartland.Control
  readonly close: () => Promise<void>
}

/** A Heartland simulator on 127.0.0.1 with `orders` seeded orders, accepting `token`. */
export const heartlandSimulator = async (options: { orders: number; token: string; seed?: number }) => {
  const scope = await Effect.runPromise(Scope.make())
  const sim = await Effect.runPromise(Heartland.make({ token: options.token }))
  await Effect.runPromise(Heartland.seedDemo(sim.control, { seed: options.seed ?? 1, orders: options.orders }))
  const layer = HttpServer.serve(sim.app).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )
  const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  const address = Context.get(context, HttpServer.HttpServer).address
  const port = address._tag === "TcpAddress" ? address.port : 0
  const running: RunningSimulator = {
    url: `http://127.0.0.1:${port}`,
    control: sim.control,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
  return running
}

/** A Lightspeed simulator (OAuth endpoints included) on 127.0.0.1 with `sales` seeded sales. */
export const lightspeedSimulator = async (options: { sales: number }) => {
  const port = await freePort()
  const sim = await Effect.runPromise(Lightspeed.make({ accountId: "1000", apiBaseUrl: `http://127.0.0.1:${port}` }))
  await Effect.runPromise(Lightspeed.seedDemo(sim.control, { sales: options.sales, seed: 3, days: 2 }))
  const scope = await Effect.runPromise(Scope.make())
  const layer = HttpServer.serve(sim.app).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port, host: "127.0.0.1" }))
  )
  await Effect.runPromise(Layer.buildWithScope(layer, scope))
  return {
    url: `http://127.0.0.1:${port}`,
    control: sim.control,
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

export const freePort = async (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })

export interface StoreConfig {
  readonly id: string
  readonly simulatorUrl: string
  readonly token: string
  readonly syncIntervalSeconds?: number
}

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

export const env = {
  TEST_ADMIN_PASSWORD: "admin-secret",
  TEST_SS_PASSWORD: "ss-secret",
  TEST_HEARTLAND_TOKEN: "hl-token",
  TEST_LS_SECRET: "sim-secret",
  // 32 bytes, base64: the key the TokenVault encrypts POS tokens with.
  TEST_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64")
}

export interface RunningServer {
  readonly url: string
  readonly child: ChildProcess
  readonly output: () => string
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

/** Starts `posbridge serve --config file` and waits until /readyz answers 200. */
export const startServer = async (configFile: string, port: number, timeoutMs = 60_000): Promise<RunningServer> => {
  const child = spawn(process.execPath, [await serverBundle(), "serve", "--config", configFile], {
    cwd: serverDir,
    env: { ...process.env, ...env, PORT: String(port), INIT_CWD: serverDir },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  child.stdout?.on("data", (d) => {
    out += d
  })
  child.stderr?.on("data", (d) => {
    out += d
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`)
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false)
    if (ok) break
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`server did not become ready in ${timeoutMs} ms:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    child,
    output: () => out,
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null) child.kill(signal)
      await exited
    }
  }
}

/**
 * Runs the bundled CLI without blocking this process's event loop (the simulators answering it live here,
 * so `spawnSync` would deadlock them).
 */
export const runCli = async (
  args: ReadonlyArray<string>,
  timeoutMs = 120_000
): Promise<{ status: number | null; stdout: string; stderr: string }> => {
  const child = spawn(process.execPath, [await serverBundle(), ...args], {
    cwd: serverDir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout?.on("data", (d) => {
    stdout += d
  })
  child.stderr?.on("data", (d) => {
    stderr += d
  })
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const status = await new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  clearTimeout(timer)
  return { status, stdout, stderr }
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`

export const waitFor = async <A>(what: string, f: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Reads a Prometheus gauge for a store from /metrics. */
export const gauge = async (url: string, name: string, store: string): Promise<number | undefined> => {
  const text = await fetch(`${url}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name}\\{store="${store}"\\} (\\S+)$`, "m").exec(text)
  return m ? Number(m[1]) : undefined
}
