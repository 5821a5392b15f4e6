/**
 * PostgreSQL, for a provider running several replicas on one database. Per-store serialization is a row
 * lock (`SELECT … FOR UPDATE` on the store's row), outbox claims use `FOR UPDATE SKIP LOCKED`, and snapshots
 * live in the database, so page 2 of a poll may be served by another replica.
 */

import type { SqlClient } from "@effect/sql"
import type { MigrationError } from "@effect/sql/Migrator"
import type { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import type { OrderStore } from "@posbridge/core"
import { Layer, Redacted } from "effect"
import * as Migrations from "./Migrations.js"
import * as SqlOrderStore from "./SqlOrderStore.js"

export interface Options extends SqlOrderStore.Options {
  /** e.g. `postgres://user@host:5432/posbridge`; it may carry a password, hence `Redacted`. */
  readonly url: string | Redacted.Redacted<string>
  readonly maxConnections?: number | undefined
}

export type Error = SqlError | MigrationError

/** The PostgreSQL client with the schema migrated. */
export const layerClient = (
  options: Pick<Options, "url" | "maxConnections">
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, Error> =>
  Layer.provideMerge(
    Migrations.layer,
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
