/**
 * The processes the poll benchmark measures or talks to: the built server as `pnpm start` runs it
 * (`node dist/bin.js serve --config FILE`), the Heartland simulator (`node dist/bin.js simulate heartland`), and
 * a raw baseline server (this bundle again, `raw-server` mode); and what /proc says about a process.
 */
import { type ChildProcess, fork, spawn } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { capture, freePort, waitFor } from "@posbridge/e2e/Processes"
import { Schema } from "effect"
import { serverNodeFlags } from "../../../../tooling/node-flags.mjs"

/** `run-bench.mjs` runs the bench with the package directory (apps/server) as its working directory. */
const serverDir = process.cwd()
const entry = join(serverDir, "dist/bin.js")

export interface Child {
  readonly url: string
  readonly pid: number
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** The server also has its metrics listener. */
export interface ServerChild extends Child {
  readonly metricsUrl: string
}

const stopper = (child: ChildProcess) => {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return async () => {
    if (child.exitCode === null) child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(timer)
  }
}

const builtEntry = () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` (turbo's bench task does).`)
  return entry
}

export const startSimulator = async (accounts: number): Promise<Child> => {
  const port = await freePort()
  const args = ["simulate", "heartland", "--port", String(port), "--accounts", String(accounts), "--no-activity"]
  const child = spawn(process.execPath, [builtEntry(), ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const out = capture(child)
  const url = `http://127.0.0.1:${port}`
  await waitFor("the Heartland simulator", async () => ((await fetch(`${url}/control`)).ok ? true : undefined), 180_000)
  return { url, pid: child.pid ?? -1, output: out.all, stop: stopper(child) }
}

/** `posbridge serve --config file`, ready once /readyz answers 200. */
export const startServer = async (
  config: string,
  env: Readonly<Record<string, string>>,
  atPort?: number
): Promise<ServerChild> => {
  const port = atPort ?? (await freePort())
  const runnerPort = await freePort()
  const metricsPort = await freePort()
  // The V8 flags `pnpm start` runs the server with; POLLBENCH_SERVER_ARGS adds node options for the server only
  // (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const nodeArgs = [...serverNodeFlags, ...(process.env.POLLBENCH_SERVER_ARGS ?? "").split(" ").filter((a) => a !== "")]
  const child = spawn(process.execPath, [...nodeArgs, builtEntry(), "serve", "--config", config], {
    cwd: serverDir,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      POSBRIDGE_RUNNER_PORT: String(runnerPort),
      POSBRIDGE_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const out = capture(child)
  const url = `http://127.0.0.1:${port}`
  await waitFor(
    "the server's /readyz",
    async () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${out.all()}`)
      return (await fetch(`${url}/readyz`)).status === 200 ? true : undefined
    },
    300_000
  ).catch((e: Error) => {
    child.kill("SIGKILL")
    throw new Error(`${e.message}\n${out.all().slice(-4000)}`)
  })
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    pid: child.pid ?? -1,
    output: out.all,
    stop: stopper(child)
  }
}

/**
 * raw-server.ts bundled on its own, like the benchmark (tooling/node-bundle.mjs), next to the benchmark's bundle.
 * esbuild and the shared options are loaded at run time from the package: they are tools, not bundled.
 */
let rawBundle: Promise<string> | undefined
const bundleRaw = () => {
  rawBundle ??= (async () => {
    const esbuild = createRequire(join(serverDir, "package.json"))("esbuild") as typeof import("esbuild")
    const shared = join(serverDir, "../../tooling/node-bundle.mjs")
    const { nodeBundle } = (await import(pathToFileURL(shared).href)) as { nodeBundle: import("esbuild").BuildOptions }
    // One file per benchmark process: two runs at once never rebuild each other's server under it.
    const outfile = join(serverDir, `node_modules/.cache/run-bench/raw-server-${process.pid}.mjs`)
    await esbuild.build({
      ...nodeBundle,
      entryPoints: [join(serverDir, "bench/polls/raw-server.ts")],
      outfile,
      logLevel: "error"
    })
    return outfile
  })()
  return rawBundle
}

const Listening = Schema.Struct({ port: Schema.Number })

/** Removes the raw server's bundle, if one was built. */
export const removeRawBundle = async () => {
  if (rawBundle !== undefined) rmSync(await rawBundle, { force: true })
}

/** A raw baseline server process (raw-server.ts); it reports its port over IPC. */
export const startRaw = async (args: ReadonlyArray<string>): Promise<Child> => {
  const child = fork(await bundleRaw(), [...args], { stdio: ["ignore", "pipe", "pipe", "ipc"] })
  const out = capture(child)
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m) => resolve(Schema.decodeUnknownSync(Listening)(m).port))
    child.once("exit", (code) => reject(new Error(`the raw server exited with ${code}:\n${out.all()}`)))
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid ?? -1, output: out.all, stop: stopper(child) }
}

/** Resident memory in bytes (`VmRSS`), 0 once the process has gone. */
export const rss = (pid: number): number => {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** CPU time the process has used (user + system), in ms: `/proc/PID/stat` fields 14 and 15, in clock ticks. */
export const cpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // Fields after the command: state is field 3, so utime (14) and stime (15) are at 11 and 12. 100 ticks/s.
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Samples a process's RSS every 250 ms until stopped: the largest and the last. */
export const sampleRss = (pid: number) => {
  let max = rss(pid)
  let last = max
  const timer = setInterval(() => {
    const v = rss(pid)
    if (v > 0) {
      last = v
      max = Math.max(max, v)
    }
  }, 250)
  return {
    stop: () => {
      clearInterval(timer)
      const v = rss(pid)
      if (v > 0) last = v
      return { max: Math.max(max, last), last }
    }
  }
}
