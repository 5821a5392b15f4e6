import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * Every store's counts without reading its documents, for `/metrics` and `/admin/status` (`statsAll`):
 *
 * - `pb_stores.doc_count`: how many documents the store holds, kept by the database in the same commit as the
 *   insert or delete, by the triggers that already raise `doc_generation` (migration 0002), so every writer is
 *   counted whatever its version. Counting them instead read every row of `pb_documents` (9 s at 1M documents
 *   on SQLite).
 * - `pb_documents_held`: a partial index of held documents, so counting them reads only those.
 *
 * "Waiting for a poll" still counts, per store, the versions stamped at or after its watermark, through the
 * stamp index: few rows once ShipStation polls.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`ALTER TABLE pb_stores ADD COLUMN doc_count ${d.millis} NOT NULL DEFAULT 0`
  yield* sql`UPDATE pb_stores SET doc_count = (SELECT COUNT(*) FROM pb_documents d WHERE d.store_id = pb_stores.store_id)`
  yield* sql`CREATE INDEX pb_documents_held ON pb_documents (store_id) WHERE held_reasons <> '[]'`
  if (d.name === "sqlite") {
    for (const [event, row, change] of [
      ["insert", "NEW", ", doc_count = doc_count + 1"],
      ["delete", "OLD", ", doc_count = doc_count - 1"]
    ] as const) {
      yield* sql.unsafe(`DROP TRIGGER pb_documents_generation_${event}`)
      yield* sql.unsafe(`CREATE TRIGGER pb_documents_generation_${event} AFTER ${event.toUpperCase()} ON pb_documents
        BEGIN UPDATE pb_stores SET doc_generation = doc_generation + 1${change} WHERE store_id = ${row}.store_id; END`)
    }
    return
  }
  // PostgreSQL: 0002's statement triggers share one function per transition table; inserts and deletes get
  // functions of their own that also count the rows of each store in the statement.
  for (const [event, transition, rows, sign] of [
    ["insert", "NEW", "new_rows", "+"],
    ["delete", "OLD", "old_rows", "-"]
  ] as const) {
    yield* sql.unsafe(`CREATE FUNCTION pb_documents_count_${event}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE pb_stores s SET doc_generation = s.doc_generation + 1, doc_count = s.doc_count ${sign} c.n
        FROM (SELECT store_id, COUNT(*) AS n FROM ${rows} GROUP BY store_id) c WHERE s.store_id = c.store_id;
        RETURN NULL;
      END $$`)
    yield* sql.unsafe(`DROP TRIGGER pb_documents_generation_${event} ON pb_documents`)
    yield* sql.unsafe(`CREATE TRIGGER pb_documents_generation_${event} AFTER ${event.toUpperCase()} ON pb_documents
      REFERENCING ${transition} TABLE AS ${rows} FOR EACH STATEMENT EXECUTE FUNCTION pb_documents_count_${event}()`)
  }
  // Deletes were its only trigger.
  yield* sql.unsafe("DROP FUNCTION pb_documents_generation_old_rows()")
})
