/**
 * PostgreSQL, for a provider running several replicas on one database. Per-store serialization is a row
 * lock (`SELECT … FOR UPDATE` on the store's row), outbox claims use `FOR UPDATE SKIP LOCKED`, and snapshots
 * live in the database, so page 2 of a poll may be served by another replica.
 */

import { SqlClient } from "@effect/sql"
import type { MigrationError } from "@effect/sql/Migrator"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import type { OrderStore } from "@posbridge/core"
import { Effect, Layer, Redacted } from "effect"
import * as Migrations from "./Migrations.js"
import * as SqlOrderStore from "./SqlOrderStore.js"

export interface Options extends SqlOrderStore.Options {
  /** e.g. `postgres://user@host:5432/posbridge`; it may carry a password, hence `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  readonly maxConnections?: number | undefined
}

export type Error = SqlError | MigrationError

/** An arbitrary constant naming posbridge's migration lock among the database's advisory locks. */
const migrationLockKey = 7_262_024_001

/**
 * Runs the migrations under a session advisory lock. The migrator locks its own table, but it creates that
 * table first, unlocked: replicas starting together on a new database race on CREATE TABLE and one fails.
 * The lock is held on a reserved connection while the migrator uses others from the pool.
 */
const migrate = Effect.scoped(
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    yield* connection.executeRaw(`SELECT pg_advisory_lock(${migrationLockKey})`, [])
    yield* Effect.addFinalizer(() =>
      Effect.ignore(connection.executeRaw(`SELECT pg_advisory_unlock(${migrationLockKey})`, []))
    )
    yield* Migrations.run
  })
)

/** The PostgreSQL client with the schema migrated. */
export const layerClient = (
  options: Pick<Options, "url" | "maxConnections">
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, Error> =>
  Layer.provideMerge(
    Layer.effectDiscard(migrate),
    PgClient.layer({
      url: Redacted.isRedacted(options.url) ? options.url : Redacted.make(options.url),
      maxConnections: options.maxConnections,
      applicationName: "posbridge",
      // Rows are read as stored (JSON is kept as text); no driver-side JSON or name transforms.
      transformJson: false
    })
  )

/** `OrderStore` on PostgreSQL. */
export const layer = (options: Options): Layer.Layer<OrderStore.OrderStore, Error> =>
  SqlOrderStore.layer(options).pipe(Layer.provide(layerClient(options)))
