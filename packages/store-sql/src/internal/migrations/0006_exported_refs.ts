import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * `pb_exported_refs`: which export pages listed which POS id. A served page writes one `ExportedPage` history
 * row whose detail lists the page's POS ids; `explain` used to find an order's pages by a text match over all
 * of the store's page rows, slower the more pages the store served. This table is the index of those lists:
 * (store, POS id) → the page rows' `seq`, written in the same statement batch as the page row.
 *
 * Rows written before this migration are backfilled here from their detail, so `explain` needs no fallback.
 * It has no other index: pruning finds the refs of page rows past the history retention by expanding those rows'
 * lists again (primary-key lookups), so a page writes one b-tree entry per POS id. On SQLite the table is
 * WITHOUT ROWID: its primary key is the table.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`CREATE TABLE pb_exported_refs (
    store_id ${d.keyText} NOT NULL,
    pos_ref ${d.keyText} NOT NULL,
    history_seq ${d.millis} NOT NULL,
    PRIMARY KEY (store_id, pos_ref, history_seq)
  ) ${d.name === "sqlite" ? sql.literal("WITHOUT ROWID") : sql.literal("")}`
  yield* sql`INSERT INTO pb_exported_refs (store_id, pos_ref, history_seq)
    SELECT DISTINCT h.store_id, j.value, h.seq FROM pb_history h, ${d.listedRefs(sql`h.detail`)}
    WHERE h.event = 'ExportedPage'`
})
