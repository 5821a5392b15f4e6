/** Throwaway databases for the suites: a temp SQLite file, a fresh PostgreSQL database. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, it } from "@effect/vitest"
import type { OrderStore } from "@posbridge/core"
import { Effect, Layer } from "effect"
import pg from "pg"
import * as PgStore from "../../src/PgStore.js"
import * as SqliteStore from "../../src/SqliteStore.js"
import type * as SqlOrderStore from "../../src/SqlOrderStore.js"

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-store-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** SQLite on a file in a temp directory removed afterwards. */
export const sqliteLayer = (
  options: Omit<SqliteStore.Options, "filename"> = {}
): Layer.Layer<OrderStore.OrderStore, unknown> =>
  Layer.unwrapScoped(
    Effect.map(tempDir, (dir) => SqliteStore.layer({ filename: path.join(dir, "store.db"), ...options }))
  )

export const pgServer = process.env.POSBRIDGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432"

const admin = async (statement: string): Promise<void> => {
  const client = new pg.Client({ connectionString: `${pgServer}/postgres`, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

export const pgReachable = async (): Promise<boolean> => {
  try {
    await admin("SELECT 1")
    return true
  } catch {
    return false
  }
}

/** A fresh database `posbridge_test_<random>`, dropped (connections and all) when the scope closes. */
export const pgDatabase = Effect.acquireRelease(
  Effect.promise(async () => {
    const name = `posbridge_test_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
    await admin(`CREATE DATABASE ${name}`)
    return { name, url: `${pgServer}/${name}` }
  }),
  ({ name }) => Effect.promise(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
)

export const pgLayer = (options: SqlOrderStore.Options = {}): Layer.Layer<OrderStore.OrderStore, unknown> =>
  Layer.unwrapScoped(Effect.map(pgDatabase, ({ url }) => PgStore.layer({ url, ...options })))

/** `CI=true` (or `1`): a missing PostgreSQL fails its suites instead of skipping them. */
const inCi = ["true", "1"].includes((process.env.CI ?? "").toLowerCase())

/** The server as shown in notices: without a password it may carry. */
const shown = (() => {
  try {
    const url = new URL(pgServer)
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "(POSBRIDGE_TEST_PG, unreadable)"
  }
})()

/**
 * Registers a test file's PostgreSQL suites (`register` declares them). Outside CI with no server answering at
 * `pgServer` (`POSBRIDGE_TEST_PG`), they are skipped as a whole, reported as skipped, with a notice, so the run
 * still passes; a file holding only PostgreSQL suites then still has a suite (vitest fails an empty file). In CI a
 * missing server fails: one test says so, and the suites fail on their layers.
 */
export const withPostgres = async (register: () => void): Promise<void> => {
  const reachable = await pgReachable()
  if (!reachable && !inCi) {
    console.warn(`PostgreSQL is not reachable at ${shown}: its suites are skipped (set CI=true to require it).`)
    describe.skip(`PostgreSQL (no server at ${shown})`, register)
    return
  }
  if (!reachable) {
    it("PostgreSQL is reachable", () => {
      throw new Error(`no PostgreSQL answers at ${shown}; CI requires it`)
    })
  }
  register()
}
