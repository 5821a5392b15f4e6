import { type ChildProcess, spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { type Finished, freePort, runNode } from "@posbridge/e2e/Processes"
import { env, runCli, serverEntry, tempConfig } from "@posbridge/e2e/ServerProcess"

const serverDir = new URL("../", import.meta.url).pathname

/** What a user sees: one sentence on standard error, nothing else, no stack frame, exit code 1. */
const oneSentence = (r: Finished) => {
  expect(r.status, r.all).toBe(1)
  expect(r.stdout).toBe("")
  const lines = r.stderr.trim().split("\n")
  expect(lines, r.all).toHaveLength(1)
  expect(r.all).not.toMatch(/^\s+at |FiberFailure|ERROR|\{\s*"_tag"|ELIFECYCLE/m)
  return lines[0]
}

/** A SQLite file held with an exclusive lock by another process until `release` (as a busy writer would). */
const holdLock = async (file: string) => {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-e",
      `const db = new (require("better-sqlite3"))(${JSON.stringify(file)}); db.pragma("locking_mode = EXCLUSIVE");` +
        `db.exec("BEGIN EXCLUSIVE"); db.exec("CREATE TABLE IF NOT EXISTS held (a)"); console.log("locked");` +
        `process.stdin.on("data", () => { db.exec("ROLLBACK"); db.close(); process.exit(0) })`
    ],
    { cwd: serverDir, stdio: ["pipe", "pipe", "inherit"] }
  )
  await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()))
  return {
    release: async () => {
      const exited = new Promise((r) => child.once("exit", r))
      child.stdin?.write("x")
      await exited
    }
  }
}

describe("every expected failure of the command line is one sentence and exit code 1", () => {
  const { dir, config } = tempConfig("cli-failures", [
    { id: "shop", simulatorUrl: "http://127.0.0.1:1", token: "hl-token", syncIntervalSeconds: 3600 }
  ])
  const explain = (...args: ReadonlyArray<string>) => runCli(["explain", "--config", config, ...args])

  it("an unknown store, an unknown order, a wrong argument", async () => {
    expect(oneSentence(await explain("--store", "nope", "--order", "1"))).toBe(
      `There is no store "nope" in ${config}. Known stores: shop.`
    )
    expect(oneSentence(await explain("--store", "shop", "--order", "1003"))).toBe(
      'Store "shop" has no order "1003" (looked up by POS id, then by order number).'
    )
    // @effect/cli's own words for a wrong argument, and no stack.
    expect(oneSentence(await explain("--store", "shop"))).toBe("Expected to find option: '--order'")
    expect(oneSentence(await explain("--store", "shop", "--order", "1", "--bogus"))).toBe(
      "Received unknown argument: '--bogus'"
    )
  }, 60_000)

  it("a configuration file that is missing or invalid", async () => {
    const missing = join(dir, "missing.json")
    expect(oneSentence(await runCli(["explain", "--config", missing, "--store", "shop", "--order", "1"]))).toBe(
      `The configuration ${missing} is invalid: the file cannot be read.`
    )
    const broken = join(dir, "broken.json")
    writeFileSync(broken, "{ not json")
    expect(oneSentence(await runCli(["explain", "--config", broken, "--store", "shop", "--order", "1"]))).toMatch(
      new RegExp(`^The configuration ${broken} is invalid: not valid JSON: `)
    )
  }, 60_000)

  it("a database that is locked, not a database, or unreachable", async () => {
    await explain("--store", "shop", "--order", "1") // creates the database
    const lock = await holdLock(join(dir, "posbridge.sqlite"))
    try {
      expect(oneSentence(await explain("--store", "shop", "--order", "1"))).toBe(
        `The database ${join(dir, "posbridge.sqlite")} is locked by another process (a running server holds it exclusively, or a long write); try again in a moment.`
      )
    } finally {
      await lock.release()
    }

    const garbage = tempConfig("cli-notadb", [{ id: "shop", simulatorUrl: "http://127.0.0.1:1", token: "t" }])
    writeFileSync(join(garbage.dir, "posbridge.sqlite"), "this is not a database ".repeat(20))
    expect(oneSentence(await runCli(["explain", "--config", garbage.config, "--store", "shop", "--order", "1"]))).toBe(
      `The database ${join(garbage.dir, "posbridge.sqlite")} is not a usable SQLite database (file is not a database).`
    )

    const port = await freePort()
    const pg = join(dir, "pg.json")
    writeFileSync(
      pg,
      JSON.stringify({
        dataDir: dir,
        database: { engine: "postgres", url: { env: "CLI_TEST_DATABASE_URL" } },
        stores: []
      })
    )
    const unreachable = await runNode([await serverEntry(), "stores", "list", "--config", pg], {
      cwd: serverDir,
      env: { ...process.env, ...env, CLI_TEST_DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/shop` }
    })
    const sentence = oneSentence(unreachable)
    expect(sentence).toBe(
      `The PostgreSQL database shop at 127.0.0.1:${port} did not answer: PgClient: Failed to connect (connect ECONNREFUSED 127.0.0.1:${port}).`
    )
    expect(unreachable.all).not.toContain("hunter2")
  }, 60_000)

  it("a port already taken, and a LOG_FORMAT posbridge does not know", async () => {
    const taken = createServer()
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, () => {
        const a = taken.address()
        resolve(typeof a === "object" && a ? a.port : 0)
      })
    )
    try {
      const serve = await runNode([await serverEntry(), "serve", "--config", config], {
        cwd: serverDir,
        env: { ...process.env, ...env, PORT: String(port) },
        timeoutMs: 60_000
      })
      expect(serve.status, serve.all).toBe(1)
      // The start-up lines before it are log entries on standard output; the failure is the one line on stderr.
      expect(serve.stderr.trim()).toBe(
        `Port ${port} is already in use by another program: stop it, or set PORT to a free port.`
      )
      expect(serve.all).not.toMatch(/^\s+at /m)
    } finally {
      taken.close()
    }

    const xml = await runNode([await serverEntry(), "explain", "--config", config, "--store", "shop", "--order", "1"], {
      cwd: serverDir,
      env: { ...process.env, ...env, LOG_FORMAT: "xml" }
    })
    expect(oneSentence(xml)).toBe('LOG_FORMAT must be "text" or "json", not "xml".')
  }, 90_000)
})
