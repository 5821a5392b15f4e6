/**
 * What `historyRetention` drops, run by `pruneSnapshots` in its write transaction.
 *
 * Older than the retention go: the poll log, the calls to ShipStation's refresh API (`pb_refresh_calls`, by the
 * time of the call), export pages (`ExportedPage`, with their index rows in `pb_exported_refs`), holds, and the
 * ingest and restamp events of versions since replaced. Kept whatever their
 * age: each document's latest `Inserted`/`Restamped` event (how its current version came to be and when it was
 * stamped: `explain` still tells it for an order that has not changed in months), the documents themselves,
 * ship notices and the outbox (they are not history: a write-back may still be due).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "./Dialect.js"

export const pruneHistory = (sql: SqlClient.SqlClient, before: number) =>
  Effect.gen(function* () {
    const d = Dialect.of(sql)
    // Found by their page rows' own lists, through the primary key: the table has no index on history_seq.
    yield* sql`DELETE FROM pb_exported_refs WHERE (store_id, pos_ref, history_seq) IN
      (SELECT h.store_id, j.value, h.seq FROM pb_history h, ${d.listedRefs(sql`h.detail`)}
        WHERE h.at_ms < ${before} AND h.event = 'ExportedPage')`
    yield* sql`DELETE FROM pb_history WHERE at_ms < ${before} AND NOT (
      event IN ('Inserted', 'Restamped') AND seq = (SELECT MAX(h.seq) FROM pb_history h
        WHERE h.store_id = pb_history.store_id AND h.pos_ref = pb_history.pos_ref
          AND h.event IN ('Inserted', 'Restamped')))`
    yield* sql`DELETE FROM pb_polls WHERE at_ms < ${before}`
    yield* sql`DELETE FROM pb_refresh_calls WHERE at_ms < ${before}`
  })
