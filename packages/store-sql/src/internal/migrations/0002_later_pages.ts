import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * What a later export page reads first, made cheap:
 * - `doc_generation`, a counter per store raised in the same transaction as every change to that store's
 *   documents (content, stamp or hold reasons). A page read at generation G is still exact while the store
 *   is at G, so it can be served again without reading its members; on every replica, because the counter
 *   is in the database.
 * - an index finding a window's snapshot, which was found by scanning the store's snapshots.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`ALTER TABLE pb_stores ADD COLUMN doc_generation ${d.millis} NOT NULL DEFAULT 0`
  yield* sql`CREATE INDEX pb_snapshots_window ON pb_snapshots (store_id, window_start_ms, window_end_ms)`
})
