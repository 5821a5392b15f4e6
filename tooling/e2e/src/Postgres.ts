/**
 * PostgreSQL for tests that run posbridge as several processes on one database: a fresh database per run (dropped
 * afterwards, connections and all), queries as an administrator (`pg_stat_activity`), and whether a server answers.
 * The same server and rules as `packages/store-sql/test/support/Databases.ts`: `POSBRIDGE_TEST_PG`, default
 * `postgres://postgres@127.0.0.1:5432`; outside CI a missing server skips, in CI (`CI=true`) it fails.
 */
import pg from "pg"

export const pgServer = process.env.POSBRIDGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432"

/** `CI=true` (or `1`): a missing PostgreSQL fails instead of skipping. */
export const inCi = ["true", "1"].includes((process.env.CI ?? "").toLowerCase())

/** The server as shown in notices: without a password it may carry. */
export const shownServer = (() => {
  try {
    const url = new URL(pgServer)
    if (url.password !== "") url.password = "***"
    return url.toString()
  } catch {
    return "(POSBRIDGE_TEST_PG, unreadable)"
  }
})()

/** Runs `statement` on `database` (default the `postgres` database) and answers its rows. */
export const query = async <Row extends Record<string, unknown>>(
  statement: string,
  params: ReadonlyArray<unknown> = [],
  database = "postgres"
): Promise<ReadonlyArray<Row>> => {
  const client = new pg.Client({ connectionString: `${pgServer}/${database}`, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return (await client.query(statement, [...params])).rows as Array<Row>
  } finally {
    await client.end()
  }
}

export const pgReachable = async (): Promise<boolean> =>
  query("SELECT 1").then(
    () => true,
    () => false
  )

export interface Database {
  readonly name: string
  /** Its connection URL (carries the server's credentials: pass it to servers through the environment only). */
  readonly url: string
  readonly drop: () => Promise<void>
}

/** A fresh database `posbridge_e2e_<random>`; `drop` removes it, closing whatever is still connected. */
export const freshDatabase = async (): Promise<Database> => {
  const name = `posbridge_e2e_${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
  await query(`CREATE DATABASE ${name}`)
  return {
    name,
    url: `${pgServer}/${name}`,
    drop: async () => {
      await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  }
}

/** Connections to `database` as PostgreSQL lists them, per client port (the client's end of each socket). */
export const connections = async (database: string) =>
  query<{ pid: number; client_port: number | null; application_name: string; state: string | null }>(
    "SELECT pid, client_port, application_name, state FROM pg_stat_activity WHERE datname = $1",
    [database]
  )
