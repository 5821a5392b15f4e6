/** Throwaway databases for the suites: a temp SQLite file, a fresh PostgreSQL database. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
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

/**
 * Registers PostgreSQL suites. In CI a missing server is a failure (a test that fails, and suites whose
 * layers fail); elsewhere the suites are not registered and a notice is printed.
 */
export const withPostgres = async (register: () => void, it: (name: string, f: () => void) => void) => {
  const reachable = await pgReachable()
  if (!reachable && !process.env.CI) {
    console.warn(`PostgreSQL is not reachable at ${pgServer}: its suites are not registered (set CI to require it).`)
    return
  }
  it("PostgreSQL is reachable", () => {
    if (!reachable) throw new Error(`no PostgreSQL answers at ${pgServer}; CI requires it`)
  })
  register()
}
