/**
 * Every difference between SQLite and PostgreSQL that posbridge relies on, in one place. Everything else
 * (upserts with ON CONFLICT, RETURNING, window functions) is written once in the common subset.
 */
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"

export interface Dialect {
  readonly name: "sqlite" | "pg"
  /** Column type of a surrogate key that orders rows by insertion. */
  readonly serialPrimaryKey: Fragment
  /** Text compared byte-wise, so SQL ordering of POS refs matches core's `Ord.string` whatever the locale. */
  readonly keyText: Fragment
  /** 64-bit integer for epoch milliseconds. */
  readonly millis: Fragment
  /**
   * Appended to the SELECT of the store's row at the start of every store transaction. PostgreSQL takes a
   * row lock; SQLite needs none, because the preceding INSERT already took the database write lock.
   */
  readonly lockRow: Fragment
  /** Appended to the outbox claim: replicas skip items another replica is claiming right now. */
  readonly claimLock: Fragment
  /**
   * A FROM item of one row per POS id listed in the `refs` array of the JSON text `detail` (an ExportedPage
   * row's), its column `value`; none when there is no such array.
   */
  readonly listedRefs: (detail: Fragment) => Fragment
  /**
   * The window and page of an ExportedPage row's JSON text `detail` as columns `w_start`, `w_end`, `page` and
   * `pages` (what `explain` shows of a page: its POS id list stays in the database): `pageFields` in the select
   * list of a query over `pb_history h`, `pageFrom` after its FROM items (PostgreSQL parses each row's JSON once
   * there; SQLite needs nothing).
   */
  readonly pageFields: Fragment
  readonly pageFrom: Fragment
}

export const of = (sql: SqlClient): Dialect =>
  sql.onDialectOrElse({
    pg: (): Dialect => ({
      name: "pg",
      serialPrimaryKey: sql.literal("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
      keyText: sql.literal(`TEXT COLLATE "C"`),
      millis: sql.literal("BIGINT"),
      lockRow: sql.literal("FOR UPDATE"),
      claimLock: sql.literal("FOR UPDATE SKIP LOCKED"),
      listedRefs: (detail) => sql`jsonb_array_elements_text((${detail})::jsonb -> 'refs') AS j (value)`,
      pageFields: sql.literal(`x.start AS w_start, x."end" AS w_end, x.page AS page, x.pages AS pages`),
      pageFrom: sql.literal(
        `CROSS JOIN LATERAL jsonb_to_record(h.detail::jsonb) AS x (start BIGINT, "end" BIGINT, page BIGINT, pages BIGINT)`
      )
    }),
    orElse: (): Dialect => ({
      name: "sqlite",
      serialPrimaryKey: sql.literal("INTEGER PRIMARY KEY AUTOINCREMENT"),
      keyText: sql.literal("TEXT"),
      millis: sql.literal("INTEGER"),
      lockRow: sql.literal(""),
      claimLock: sql.literal(""),
      listedRefs: (detail) => sql`json_each(${detail}, '$.refs') AS j`,
      pageFields: sql.literal(`json_extract(h.detail, '$.start') AS w_start, json_extract(h.detail, '$.end') AS w_end,
        json_extract(h.detail, '$.page') AS page, json_extract(h.detail, '$.pages') AS pages`),
      pageFrom: sql.literal("")
    })
  })

/**
 * Takes SQLite's write lock at the start of a transaction whose first statement is a read, so the
 * transaction never has to upgrade a read lock (which fails with SQLITE_BUSY without waiting). A no-op
 * write is enough: SQLite locks for writing when a write statement starts, not when a row changes.
 * PostgreSQL needs nothing: its locks are per row.
 */
export const takeWriteLock = (sql: SqlClient, dialect: Dialect): Effect.Effect<void, SqlError> =>
  dialect.name === "sqlite" ? Effect.asVoid(sql`DELETE FROM pb_stores WHERE 1 = 0`) : Effect.void
