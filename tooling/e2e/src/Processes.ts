/**
 * Process-level helpers for end-to-end tests: child processes whose output is collected, free ports,
 * temporary directories and polling until something holds.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `posbridge-${prefix}-`))

/** Ports this process has handed out: the OS may give a just-closed port again, and two picks must differ. */
const handedOut = new Set<number>()

const anyPort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a ? a.port : 0
      s.close(() => resolve(port))
    })
  })

/** A port free now and never handed out before by this process (a server's HTTP, runner and metrics ports differ). */
export const freePort = async (): Promise<number> => {
  for (;;) {
    const port = await anyPort()
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

export const waitFor = async <A>(what: string, f: () => Promise<A | undefined>, timeoutMs = 30_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await f().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export interface Output {
  readonly stdout: () => string
  readonly stderr: () => string
  /** Both streams in the order their chunks arrived. */
  readonly all: () => string
}

/** Output kept per stream: the latest 4 MiB (a server logging for minutes must not fill this process). */
const keep = 4 * 1024 * 1024
const tail = (text: string) => (text.length > keep ? text.slice(text.length - keep) : text)

/** Collects a child's stdout and stderr as they arrive (the latest 4 MiB of each). */
export const capture = (child: ChildProcess): Output => {
  let stdout = ""
  let stderr = ""
  let all = ""
  child.stdout?.on("data", (d) => {
    stdout = tail(stdout + d)
    all = tail(all + d)
  })
  child.stderr?.on("data", (d) => {
    stderr = tail(stderr + d)
    all = tail(all + d)
  })
  return { stdout: () => stdout, stderr: () => stderr, all: () => all }
}

export interface Finished {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  readonly all: string
}

/**
 * Runs `node args…` to its end without blocking this process's event loop (simulators answering the child
 * often live in this process, so `spawnSync` would deadlock them). Killed with SIGKILL after `timeoutMs`.
 */
export const runNode = async (
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv | undefined; readonly timeoutMs?: number }
): Promise<Finished> => {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const output = capture(child)
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000)
  const status = await new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  clearTimeout(timer)
  return { status, stdout: output.stdout(), stderr: output.stderr(), all: output.all() }
}

/** A process's resident memory in bytes (Linux `/proc`); undefined once it has gone. */
export const rssBytes = (pid: number): number | undefined => {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * The local ports of a process's TCP sockets (Linux `/proc`): its socket inodes from `/proc/PID/fd`, their ports
 * from `/proc/net/tcp{,6}`. With `pg_stat_activity.client_port` it says which process holds which connection.
 */
export const tcpPortsOf = (pid: number): ReadonlySet<number> => {
  const inodes = new Set<string>()
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkOr(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    }
  } catch {
    return new Set()
  }
  const ports = new Set<number>()
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = ""
    try {
      text = readFileSync(table, "utf8")
    } catch {
      continue
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      const local = cols[1]
      const inode = cols[9]
      if (local !== undefined && inode !== undefined && inodes.has(inode)) {
        ports.add(Number.parseInt(local.split(":").at(-1) ?? "0", 16))
      }
    }
  }
  return ports
}

const readlinkOr = (path: string) => {
  try {
    return readlinkSync(path)
  } catch {
    return ""
  }
}
