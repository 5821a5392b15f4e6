import { SqlClient, SqlSchema } from "@effect/sql"
import { ShipNotice } from "@posbridge/core"
import { Effect, Schema } from "effect"

const Row = Schema.Struct({
  notice_id: Schema.String,
  pos_ref: Schema.NullOr(Schema.String),
  notice: Schema.parseJson(ShipNotice.ShipNotice)
})

/**
 * Ship notices are recognized by a new key (`ShipNotice.idempotencyKey`): one without a tracking number is keyed
 * by its shipment's content as well, so a second shipment of the same order is no longer mistaken for a retry
 * of the first. Notices already stored get the key they would get today, so a retry of one that arrives after
 * the upgrade is still recognized. Keys with a tracking number do not change. The new key refines the old one
 * (same parts, one more), so two stored notices cannot end up with the same key.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const stored = yield* SqlSchema.findAll({
    Request: Schema.Void,
    Result: Row,
    execute: () => sql`SELECT notice_id, pos_ref, notice_json AS notice FROM pb_ship_notices`
  })(undefined)
  for (const row of stored) {
    // Matched notices were keyed by the order's POS id, unmatched ones by the order number they named.
    const key = ShipNotice.idempotencyKey(row.notice, row.pos_ref ?? row.notice.orderNumber)
    yield* sql`UPDATE pb_ship_notices SET idempotency_key = ${key} WHERE notice_id = ${row.notice_id}`
  }
})
