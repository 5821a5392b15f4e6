import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

/**
 * `pb_secrets.version`: raised by every write of a secret, so a rotating secret (Lightspeed's refresh token) is
 * replaced with one conditional UPDATE (`WHERE version = <the version read>`), a compare-and-set that two
 * replicas refreshing at once cannot both win (`SqlTokenVault.compareAndSet`). Secrets stored before it start
 * at version 0 and read exactly as before: the ciphertext and its additional data do not change.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)
  yield* sql`ALTER TABLE pb_secrets ADD COLUMN version ${d.millis} NOT NULL DEFAULT 0`
})
