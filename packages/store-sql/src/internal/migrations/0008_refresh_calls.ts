import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * `pb_refresh_calls`: every call posbridge made to ShipStation's refresh API (`POST /stores/refreshstore`), for
 * `explain` ("asked ShipStation to refresh at T") and the time until the poll came.
 *
 * Several runners may record calls for one store at the same instant: the surrogate key is the only unique
 * column, so no two inserts can collide. `pb_refresh_calls_store` serves "a store's newest N" (read backwards,
 * no sort); `pb_refresh_calls_at` serves the history retention's delete by age, as `pb_polls_at` does for the
 * poll log. Reason and outcome are plain text, checked by the row Schema when read: a value added later needs
 * no table rebuild on SQLite.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`CREATE TABLE pb_refresh_calls (
    seq ${d.serialPrimaryKey},
    store_id ${d.keyText} NOT NULL,
    at_ms ${d.millis} NOT NULL,
    reason TEXT NOT NULL,
    pos_ref ${d.keyText},
    outcome TEXT NOT NULL,
    message TEXT
  )`
  yield* sql`CREATE INDEX pb_refresh_calls_store ON pb_refresh_calls (store_id, at_ms, seq)`
  yield* sql`CREATE INDEX pb_refresh_calls_at ON pb_refresh_calls (at_ms)`
})
