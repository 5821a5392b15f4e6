/**
 * What `historyRetention` drops, run by `pruneSnapshots` in its write transaction.
 *
 * Older than the retention go: the poll log, export pages (`ExportedPage`, with their index rows in
 * `pb_exported_refs`), holds, and the ingest and restamp events of versions since replaced. Kept whatever their
 * age: each document's latest `Inserted`/`Restamped` event (how its current version came to be and when it was
 * stamped: `explain` still tells it for an order that has not changed in months), the documents themselves,
 * ship notices and the outbox (they are not history: a write-back may still be due).
 */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const pruneHistory = (sql: SqlClient.SqlClient, before: number) =>
  Effect.gen(function* () {
    yield* sql`DELETE FROM pb_exported_refs WHERE history_seq IN
      (SELECT seq FROM pb_history WHERE at_ms < ${before} AND event = 'ExportedPage')`
    yield* sql`DELETE FROM pb_history WHERE at_ms < ${before} AND NOT (
      event IN ('Inserted', 'Restamped') AND seq = (SELECT MAX(h.seq) FROM pb_history h
        WHERE h.store_id = pb_history.store_id AND h.pos_ref = pb_history.pos_ref
          AND h.event IN ('Inserted', 'Restamped')))`
    yield* sql`DELETE FROM pb_polls WHERE at_ms < ${before}`
  })
