/**
 * Plumbing every part of the store shares: errors mapped to the port's, multi-row statements in chunks, ids,
 * read-only transactions and the store's lock.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { OrderStore } from "@posbridge/core"
import { type DateTime, Effect, Option, ParseResult, Schema } from "effect"
import type * as Dialect from "./Dialect.js"
import { CountRow, StoreRow } from "./Rows.js"

const storeError = (operation: string, e: SqlError | ParseResult.ParseError) =>
  new OrderStore.OrderStoreError({
    operation,
    message:
      e instanceof SqlError
        ? `${e.message}: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}`
        : `stored data does not decode: ${e.message}`
  })

/** Database and decoding errors become the port's `OrderStoreError`; the port's own errors pass through. */
export const wrap =
  (operation: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.catchIf(
      self,
      (e): e is Extract<E, SqlError | ParseResult.ParseError> => e instanceof SqlError || ParseResult.isParseError(e),
      (e) => Effect.fail(storeError(operation, e))
    )

/** Rows per multi-row statement: well under both engines' bound-parameter limits. */
const chunkSize = 500

export const chunks = <A>(items: ReadonlyArray<A>, size = chunkSize): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const decodeCount = Schema.decodeUnknown(CountRow)

/** The `n` of a `SELECT COUNT(*) AS n` statement. */
export const countOf = <E, R>(statement: Effect.Effect<ReadonlyArray<unknown>, E, R>) =>
  Effect.flatMap(statement, (rows) => Effect.map(decodeCount(rows[0]), (row) => row.n))

export const newId = (prefix: string): string => `${prefix}-${globalThis.crypto.randomUUID()}`

/**
 * A read-only transaction: one consistent view across its statements. SQLite's deferred BEGIN reads one
 * WAL snapshot and commits without a sync; PostgreSQL needs REPEATABLE READ for one snapshot across
 * statements (READ COMMITTED takes one per statement).
 */
export const readTransaction =
  (sql: SqlClient.SqlClient, d: Dialect.Dialect) =>
  <A, E, R>(body: Effect.Effect<A, E, R>) =>
    sql.withTransaction(
      d.name === "pg" ? Effect.zipRight(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`, body) : body
    )

/**
 * Creates the store's row if needed and locks it for the rest of the transaction, and reads its watermark.
 * The INSERT comes first on purpose: on SQLite it takes the write lock before anything is read.
 */
export const lockStore = (sql: SqlClient.SqlClient, d: Dialect.Dialect) => {
  const select = SqlSchema.findOne({
    Request: Schema.String,
    Result: StoreRow,
    execute: (storeId) => sql`SELECT sync_cursor, watermark_ms FROM pb_stores WHERE store_id = ${storeId} ${d.lockRow}`
  })
  return (storeId: string) =>
    Effect.gen(function* () {
      yield* sql`INSERT INTO pb_stores (store_id) VALUES (${storeId}) ON CONFLICT (store_id) DO NOTHING`
      const row = yield* select(storeId)
      return {
        watermark: Option.flatMap(row, (r): Option.Option<DateTime.Utc> => Option.fromNullable(r.watermark_ms))
      }
    })
}
