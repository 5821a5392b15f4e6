/**
 * Loading and re-saving, on both sides of the comparison with the same content and the same stamps:
 *
 * - posbridge's database through the real store code (`SqliteStore` / `PgStore` `ingest`), with `TestClock`
 *   stamps (the export stamp is the ingest time), and each store's Heartland cursor set on its last batch so the
 *   server's sync pulls only new changes;
 * - the raw baselines' own table (`raw_orders`: store, POS id, stamp, the POS document as JSON), with the driver.
 */
import { Order, OrderStore } from "@posbridge/core"
import { PgStore, SqliteStore } from "@posbridge/store-sql"
import Database from "better-sqlite3"
import { Effect, ManagedRuntime, Option, TestClock, TestContext } from "effect"
import pg from "pg"
import * as W from "./Workload.js"

export type Target =
  | { readonly engine: "sqlite"; readonly file: string }
  | { readonly engine: "postgres"; readonly url: string }

/** posbridge's store, in this process, on the server's database. */
export const posbridge = (target: Target) => {
  const runtime = ManagedRuntime.make(
    target.engine === "sqlite"
      ? SqliteStore.layer({ filename: target.file, synchronous: "normal", busyTimeout: "30 seconds" })
      : PgStore.layer({ url: target.url, maxConnections: 4 })
  )
  /**
   * A Heartland cursor (source-heartland Cursor.ts) past everything the simulator's accounts hold: its demo
   * orders are stamped when it starts, and a resumed pull re-reads 5 minutes before the cursor, so 10 minutes
   * ahead. Sync then pulls only changes made after that.
   */
  const cursor = Option.some(JSON.stringify({ v: 1, at: new Date(Date.now() + 600_000).toISOString(), ids: [] }))
  const ingestAt = (store: string, docs: ReadonlyArray<W.OrderInput>, at: number) =>
    runtime.runPromise(
      Effect.flatMap(OrderStore.OrderStore, (s) =>
        TestClock.setTime(at).pipe(
          Effect.zipRight(
            s.ingest(
              { id: store, kind: "orders" },
              docs.map((d) => ({ order: Order.decodeSync(d) })),
              cursor
            )
          ),
          Effect.provide(TestContext.TestContext)
        )
      )
    )
  return {
    /** Every store's history, one batch per (store, preload hour). */
    load: async (stores: ReadonlyArray<string>, concurrency: number) => {
      let next = 0
      const worker = async () => {
        for (let i = next++; i < stores.length; i = next++) {
          const store = stores[i] ?? ""
          for (let h = 0; h < W.preloadHours; h++) {
            const at = W.preloadStamp(h)
            const docs: Array<W.OrderInput> = []
            for (let k = 0; k < W.ordersPerStore; k++) {
              if (W.preloadHourOf(k) === h) docs.push(W.orderInput(store, k, 0, at))
            }
            if (docs.length > 0) await ingestAt(store, docs, at)
          }
        }
      }
      await Promise.all(Array.from({ length: concurrency }, worker))
    },
    /** Hour r's re-saves of every store, as sync would commit them (one batch per store). */
    resave: async (stores: ReadonlyArray<string>, r: number) => {
      const at = W.resaveStamp(r)
      for (const store of stores) {
        await ingestAt(
          store,
          W.resavedIn(r).map((k) => W.orderInput(store, k, r, at)),
          at
        )
      }
    },
    close: () => runtime.dispose()
  }
}

export interface Raw {
  readonly load: (stores: ReadonlyArray<string>) => Promise<void>
  readonly resave: (stores: ReadonlyArray<string>, r: number) => Promise<void>
  readonly close: () => Promise<void>
}

const ddl = [
  "CREATE TABLE raw_orders (store_id TEXT NOT NULL, pos_ref TEXT NOT NULL, modified_ms BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (store_id, pos_ref))",
  "CREATE INDEX raw_orders_window ON raw_orders (store_id, modified_ms, pos_ref)"
]

const storeRows = (store: string) =>
  Array.from({ length: W.ordersPerStore }, (_, k) => {
    const at = W.preloadStamp(W.preloadHourOf(k))
    return [store, W.posRef(k), at, JSON.stringify(W.orderInput(store, k, 0, at))] as const
  })

const resaveRows = (store: string, r: number) => {
  const at = W.resaveStamp(r)
  return W.resavedIn(r).map((k) => [at, JSON.stringify(W.orderInput(store, k, r, at)), store, W.posRef(k)] as const)
}

/** The raw baselines' table in its own SQLite file (WAL; the raw server reads it while this process writes). */
export const rawSqlite = (file: string): Raw => {
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.pragma("busy_timeout = 30000")
  return {
    load: async (stores) => {
      for (const s of ddl) db.exec(s)
      const insert = db.prepare("INSERT INTO raw_orders VALUES (?, ?, ?, ?)")
      const many = db.transaction((rows: ReadonlyArray<ReturnType<typeof storeRows>[number]>) => {
        for (const row of rows) insert.run(...row)
      })
      for (const store of stores) many(storeRows(store))
      db.exec("ANALYZE")
    },
    resave: async (stores, r) => {
      const update = db.prepare("UPDATE raw_orders SET modified_ms = ?, body = ? WHERE store_id = ? AND pos_ref = ?")
      const many = db.transaction((rows: ReturnType<typeof resaveRows>) => {
        for (const row of rows) update.run(...row)
      })
      for (const store of stores) many(resaveRows(store, r))
    },
    close: async () => {
      db.close()
    }
  }
}

/** The same table in its own PostgreSQL database. */
export const rawPg = (url: string): Raw => {
  const client = new pg.Client({ connectionString: url })
  const connected = client.connect()
  return {
    load: async (stores) => {
      await connected
      for (const s of ddl) await client.query(s)
      for (const store of stores) {
        const rows = storeRows(store)
        await client.query(
          "INSERT INTO raw_orders SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])",
          [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])]
        )
      }
      await client.query("ANALYZE raw_orders")
    },
    resave: async (stores, r) => {
      await connected
      for (const store of stores) {
        const rows = resaveRows(store, r)
        await client.query(
          `UPDATE raw_orders o SET modified_ms = u.at, body = u.body
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(at, body, store_id, pos_ref)
           WHERE o.store_id = u.store_id AND o.pos_ref = u.pos_ref`,
          [rows.map((x) => x[0]), rows.map((x) => x[1]), rows.map((x) => x[2]), rows.map((x) => x[3])]
        )
      }
    },
    close: async () => {
      await connected
      await client.end()
    }
  }
}

/** A fresh PostgreSQL database named `name` on `server` (dropped first if a crashed run left it). */
export const pgDatabase = async (server: string, name: string) => {
  const admin = new pg.Client({ connectionString: `${server}/postgres` })
  await admin.connect()
  const run = async (statement: string) => {
    await admin.query(statement)
  }
  await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await run(`CREATE DATABASE ${name}`)
  return {
    url: `${server}/${name}`,
    /** The size on disk (`pg_database_size`) of this database or of a copy of it. */
    size: async (of = name) => Number((await admin.query("SELECT pg_database_size($1) AS n", [of])).rows[0]?.n ?? 0),
    /** A copy of it under `copy` (no connection may be open on it). */
    copyTo: async (copy: string) => {
      await run(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`)
      await run(`CREATE DATABASE ${copy} TEMPLATE ${name}`)
    },
    drop: async (...others: ReadonlyArray<string>) => {
      for (const n of [name, ...others]) await run(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`)
      await admin.end()
    }
  }
}
