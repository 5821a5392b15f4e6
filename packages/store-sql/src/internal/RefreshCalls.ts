/**
 * The calls posbridge made to ShipStation's refresh API (migration 0008): `recordRefresh` and `refreshCalls`.
 * A call is one row, inserted through the store's write transaction (on SQLite it joins the group commit) and
 * committed before `recordRefresh` returns. Rows past the history retention are dropped by `Retention`.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import type { OrderStore } from "@posbridge/core"
import { Effect, Schema } from "effect"
import type { HistoryBuffer } from "./HistoryBuffer.js"
import { RefreshCallRow, refreshCallColumns, refreshCallInsert, toRefreshCall } from "./Rows.js"
import { wrap } from "./Sql.js"

export const make = (
  sql: SqlClient.SqlClient,
  history: HistoryBuffer
): Pick<OrderStore.OrderStoreService, "recordRefresh" | "refreshCalls"> => {
  const recordRefresh = Effect.fn("SqlOrderStore.recordRefresh")(
    function* (call: OrderStore.RefreshCall) {
      yield* sql`INSERT INTO pb_refresh_calls ${sql.insert(refreshCallInsert(call))}`
    },
    history.writeTransaction,
    wrap("recordRefresh")
  )

  const newest = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, limit: Schema.Number }),
    Result: RefreshCallRow,
    // Newest first by the time of the call, then the later recorded: `pb_refresh_calls_store` read backwards.
    execute: ({ storeId, limit }) => sql`SELECT ${sql.literal(refreshCallColumns)} FROM pb_refresh_calls
      WHERE store_id = ${storeId} ORDER BY at_ms DESC, seq DESC LIMIT ${limit}`
  })

  const refreshCalls = Effect.fn("SqlOrderStore.refreshCalls")(function* (storeId: string, limit: number) {
    return (yield* newest({ storeId, limit: Math.max(0, Math.floor(limit)) })).map(toRefreshCall)
  }, wrap("refreshCalls"))

  return { recordRefresh, refreshCalls }
}
