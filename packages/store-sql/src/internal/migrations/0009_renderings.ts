import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `pb_documents.rendered`: each version's rendering for export pages, made when the version is stored or restamped
 * by a store given a `Rendering` (the server gives ShipStation's): the rendering's id, a line break, then the markup
 * sent for that version with its stamp. Null when there is none: a version the consumer's rules hold back, a store
 * with no rendering, and every row written before this migration. Export pages send a stored rendering only when
 * its id is the one they ask for; a null or other one is rendered on demand, as before.
 *
 * Nullable with no default: adding it rewrites no row on either engine.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE pb_documents ADD COLUMN rendered TEXT`
})
