/**
 * The embedded default: one SQLite file (WAL) for one merchant. The SQLite client has a single connection,
 * so transactions inside the process queue behind each other; another process on the same file waits on the
 * busy timeout instead of failing.
 */

import { SqlClient } from "@effect/sql"
import type { MigrationError } from "@effect/sql/Migrator"
import type { SqlError } from "@effect/sql/SqlError"
import { SqliteClient } from "@effect/sql-sqlite-node"
import type { OrderStore } from "@posbridge/core"
import { Duration, Effect, Layer } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as Migrations from "./Migrations.js"
import * as SqlOrderStore from "./SqlOrderStore.js"

export interface Options extends SqlOrderStore.Options {
  /** Path of the database file (`:memory:` works, but is not durable). */
  readonly filename: string
  /** How long a statement waits for another connection's write lock. Default 5 seconds. */
  readonly busyTimeout?: Duration.DurationInput | undefined
  /**
   * `full` (default): a commit survives power loss. `normal`: a commit survives a crash of the process but
   * the last ones may be lost on power loss; much faster on slow disks (tests use it).
   */
  readonly synchronous?: "full" | "normal" | undefined
}

export type Error = SqlError | MigrationError | ConfigError

/** The SQLite client (WAL, busy timeout, full fsync on commit) with the schema migrated. */
export const layerClient = (
  options: Pick<Options, "filename" | "busyTimeout" | "synchronous">
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, Error> => {
  const pragmas = Layer.effectDiscard(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const busy = Duration.toMillis(Duration.decode(options.busyTimeout ?? Duration.seconds(5)))
      yield* sql.unsafe(`PRAGMA busy_timeout = ${Math.round(busy)}`)
      // With NORMAL, WAL may lose the last commits on power loss; by default an acknowledged ingest or ship
      // notice survives that too.
      yield* sql.unsafe(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`)
    })
  )
  return Layer.provideMerge(Layer.merge(pragmas, Migrations.layer), SqliteClient.layer({ filename: options.filename }))
}

/** `OrderStore` on a SQLite file. */
export const layer = (options: Options): Layer.Layer<OrderStore.OrderStore, Error> =>
  SqlOrderStore.layer(options).pipe(Layer.provide(layerClient(options)))
