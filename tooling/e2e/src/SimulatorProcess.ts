/**
 * A simulated POS as its own process (`posbridge simulate ADAPTER --port N --accounts K`), as an operator runs one:
 * started from the server's compiled JavaScript, ready once its control API answers. Many stores can point at one
 * of these (one account each); its control API (pos-testkit `SimControl`) is the POS side's oracle.
 */
import { spawn } from "node:child_process"
import { capture, freePort, waitFor } from "./Processes.js"
import { serverEntry } from "./ServerProcess.js"

export interface RunningSimulatorProcess {
  /** Its address: the POS API and, under `/control`, the control API. */
  readonly url: string
  readonly accounts: ReadonlyArray<string>
  readonly output: () => string
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
}

export const startSimulator = async (options: {
  readonly adapter: "lightspeed" | "heartland"
  readonly accounts?: number
  /** The demo's background merchant activity (default off: only the control API changes anything). */
  readonly activity?: boolean
  readonly pullIdleSeconds?: number
  /** Documents seeded per account (default: the demo's). */
  readonly documents?: number
  /** How long it may take to seed its accounts and answer. Default 30 s. */
  readonly readyTimeoutMs?: number
}): Promise<RunningSimulatorProcess> => {
  const port = await freePort()
  const args = ["simulate", options.adapter, "--port", String(port), "--accounts", String(options.accounts ?? 1)]
  if (!options.activity) args.push("--no-activity")
  if (options.documents !== undefined) args.push("--documents", String(options.documents))
  if (options.pullIdleSeconds !== undefined) args.push("--pull-idle-seconds", String(options.pullIdleSeconds))
  const child = spawn(process.execPath, [await serverEntry(), ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const out = capture(child)
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const described = await waitFor(
    `the ${options.adapter} simulator`,
    async () => {
      if (child.exitCode !== null) return { exited: child.exitCode, accounts: [] }
      const r = await fetch(`${url}/control`)
      return r.ok ? ((await r.json()) as { exited?: number; accounts: ReadonlyArray<string> }) : undefined
    },
    options.readyTimeoutMs
  ).catch((e: Error) => {
    child.kill("SIGKILL")
    throw new Error(`${e.message}:\n${out.all()}`)
  })
  if (described.exited !== undefined) throw new Error(`the simulator exited with ${described.exited}:\n${out.all()}`)
  return {
    url,
    accounts: described.accounts,
    output: out.all,
    kill: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal)
      await exited
    }
  }
}
