import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * `pb_stores.doc_generation`: a counter per store that every change to one of its documents raises, in the
 * same transaction. A later export page read at generation G is still exact while the store is at G, so it
 * can be served again without reading its members (`SqlOrderStore`, `exportPageCache`).
 *
 * The database raises it, with triggers on `pb_documents`, not the application: every writer is counted,
 * whatever its version (an older replica during a rolling upgrade, an older CLI on the same SQLite file),
 * and a writer added later cannot forget it. SQLite has row triggers only; on PostgreSQL statement triggers
 * with transition tables raise each store once per statement, not once per document of a batch.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`ALTER TABLE pb_stores ADD COLUMN doc_generation ${d.millis} NOT NULL DEFAULT 0`
  if (d.name === "sqlite") {
    for (const [event, row] of [
      ["INSERT", "NEW"],
      ["UPDATE", "NEW"],
      ["DELETE", "OLD"]
    ] as const) {
      yield* sql.unsafe(`CREATE TRIGGER pb_documents_generation_${event.toLowerCase()} AFTER ${event} ON pb_documents
        BEGIN UPDATE pb_stores SET doc_generation = doc_generation + 1 WHERE store_id = ${row}.store_id; END`)
    }
    return
  }
  for (const rows of ["new_rows", "old_rows"] as const) {
    yield* sql.unsafe(`CREATE FUNCTION pb_documents_generation_${rows}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE pb_stores SET doc_generation = doc_generation + 1
        WHERE store_id IN (SELECT DISTINCT store_id FROM ${rows});
        RETURN NULL;
      END $$`)
  }
  for (const [event, transition, rows] of [
    ["INSERT", "NEW", "new_rows"],
    ["UPDATE", "NEW", "new_rows"],
    ["DELETE", "OLD", "old_rows"]
  ] as const) {
    yield* sql.unsafe(`CREATE TRIGGER pb_documents_generation_${event.toLowerCase()} AFTER ${event} ON pb_documents
      REFERENCING ${transition} TABLE AS ${rows} FOR EACH STATEMENT
      EXECUTE FUNCTION pb_documents_generation_${rows}()`)
  }
})
