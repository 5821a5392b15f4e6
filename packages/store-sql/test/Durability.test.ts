/**
 * A child process ingests batches into a SQLite file and acknowledges each commit; it is killed with SIGKILL
 * at random points, including during start-up and mid-transaction. After every kill the file must hold
 * exactly the committed batches: every acknowledged one, none half-written, and the cursor agreeing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { Effect, Option } from "effect"
import * as SqliteStore from "../src/SqliteStore.js"

const runs = Number(process.env.POSBRIDGE_KILL_RUNS ?? 20)
const batchSize = 50
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const childSource = path.join(packageDir, "test/fixtures/ingest-child.ts")
// Bundled once into one file next to the package's node_modules (so the native drivers resolve): loading
// thousands of module files made every restart take seconds on a busy machine.
const child = path.join(packageDir, "node_modules/.cache/posbridge-ingest-child.mjs")

beforeAll(async () => {
  const esbuild = await import("esbuild")
  await esbuild.build({
    entryPoints: [childSource],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: child,
    external: ["better-sqlite3", "pg", "pg-native"],
    // The code under test, from its sources (as the other tests read it), not a build that may be stale.
    conditions: ["source"],
    logLevel: "error"
  })
})

const exited = (proc: ChildProcess) => new Promise<void>((resolve) => proc.once("exit", () => resolve()))

/** Starts the child, kills it at a random point, and returns the batches it acknowledged. */
const runAndKill = async (filename: string): Promise<Array<number>> => {
  const proc = spawn(process.execPath, [child, filename, String(batchSize)], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const acks: Array<number> = []
  let stderr = ""
  let buffered = ""
  let firstAck: () => void = () => {}
  const acked = new Promise<void>((resolve) => {
    firstAck = resolve
  })
  proc.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split("\n")
    buffered = lines.pop() ?? ""
    for (const line of lines) {
      const m = /^ack (\d+)$/.exec(line)
      if (m) acks.push(Number(m[1]))
    }
    if (acks.length > 0) firstAck()
  })
  proc.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exit = exited(proc)
  // One run in five is killed during start-up (opening, migrating); the others while batches commit.
  if (Math.random() < 0.2) {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000))
  } else {
    await Promise.race([acked, exit])
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 150))
  }
  proc.kill("SIGKILL")
  await exit
  if (proc.exitCode !== null && proc.exitCode !== 0) throw new Error(`the child failed on its own:\n${stderr}`)
  return acks
}

const inspect = (filename: string) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const cursor = Option.match(yield* store.cursor("durable"), { onNone: () => 0, onSome: Number })
    const documents = (yield* store.stats("durable")).documents
    const lastOfLast = cursor === 0 ? true : Option.isSome(yield* store.find("durable", `b${cursor}-${batchSize - 1}`))
    const firstOfNext = Option.isSome(yield* store.find("durable", `b${cursor + 1}-0`))
    return { cursor, documents, lastOfLast, firstOfNext }
  }).pipe(Effect.provide(SqliteStore.layer({ filename })), Effect.runPromise)

it(`after ${runs} SIGKILLs at random points the SQLite file holds exactly the committed batches`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-durability-"))
  const filename = path.join(dir, "store.db")
  try {
    let acknowledged = 0
    let killedMidStream = 0
    for (let run = 0; run < runs; run++) {
      const acks = await runAndKill(filename)
      if (acks.length > 0) killedMidStream++
      acknowledged = Math.max(acknowledged, ...acks)
      const state = await inspect(filename)
      // Every acknowledged batch is there; a batch may have committed just before the kill, unacknowledged.
      expect(state.cursor).toBeGreaterThanOrEqual(acknowledged)
      // All or nothing: the documents are exactly batches 1..cursor, and nothing of the next one.
      expect(state.documents).toBe(state.cursor * batchSize)
      expect(state.lastOfLast).toBe(true)
      expect(state.firstOfNext).toBe(false)
      acknowledged = state.cursor
    }
    expect(killedMidStream).toBeGreaterThan(0)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 180_000)
