import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Each store's write-backs are claimed by that store's own loop (`claimWriteBacks({ storeId })`), about once a
 * second per store. `pb_outbox_store (store_id, seq)` would read every item the store ever had, done ones
 * included, to find the few due ones; this index holds only the items still to deliver, in the order they are
 * claimed. Its predicate is the claim's state list word for word: both planners use a partial index only when
 * they can prove the query's WHERE implies it.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE INDEX pb_outbox_store_due ON pb_outbox (store_id, next_attempt_ms, seq)
    WHERE state IN ('pending', 'in-flight')`
})
