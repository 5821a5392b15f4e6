/**
 * What the operator reads: `find`, `explain` (an order's history, ship notices and write-backs), the poll
 * log and `stats`. History still in the write-behind buffer is written first, so they show every page served.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { OrderStore } from "@posbridge/core"
import { Effect, Option, Schema } from "effect"
import type * as Dialect from "./Dialect.js"
import type { Documents } from "./Documents.js"
import type { HistoryBuffer } from "./HistoryBuffer.js"
import {
  DocumentCountsRow,
  DocumentRow,
  documentColumns,
  HistoryRow,
  historyColumns,
  listsRef,
  millis,
  NoticeRow,
  OutboxCountRow,
  OutboxRow,
  PollRow,
  StoreRow,
  toHistory,
  toNotice,
  toOutbox,
  toPoll
} from "./Rows.js"
import { wrap } from "./Sql.js"

const OrderRequest = Schema.Struct({ storeId: Schema.String, posRef: Schema.String })

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  documents: Documents,
  history: HistoryBuffer
): Pick<OrderStore.OrderStoreService, "find" | "explain" | "polls" | "stats" | "held"> => {
  const find = Effect.fn("SqlOrderStore.find")(function* (storeId: string, order: string) {
    return yield* documents.lookup(storeId, order)
  }, wrap("find"))

  const ownHistory = SqlSchema.findAll({
    Request: OrderRequest,
    Result: HistoryRow,
    execute: ({ storeId, posRef }) => sql`SELECT ${sql.literal(historyColumns)} FROM pb_history
      WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
  })
  /** The store's page rows whose POS id list mentions this one: a text match, confirmed once decoded. */
  const pageHistory = SqlSchema.findAll({
    Request: OrderRequest,
    Result: HistoryRow,
    execute: ({ storeId, posRef }) => sql`SELECT ${sql.literal(historyColumns)} FROM pb_history
      WHERE store_id = ${storeId} AND pos_ref = '' AND event = 'ExportedPage'
        AND ${d.contains(sql`detail`, JSON.stringify(posRef))} ORDER BY seq`
  })
  const notices = SqlSchema.findAll({
    Request: OrderRequest,
    Result: NoticeRow,
    execute: ({ storeId, posRef }) => sql`SELECT * FROM pb_ship_notices
      WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
  })
  const writeBacks = SqlSchema.findAll({
    Request: OrderRequest,
    Result: OutboxRow,
    execute: ({ storeId, posRef }) => sql`SELECT * FROM pb_outbox
      WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
  })

  const explain = Effect.fn("SqlOrderStore.explain")(
    function* (storeId: string, order: string) {
      const found = yield* documents.lookup(storeId, order)
      if (Option.isNone(found)) return yield* new OrderStore.OrderNotFound({ storeId, order })
      const current = found.value
      const request = { storeId, posRef: current.order.posRef }
      const own = yield* ownHistory(request)
      const pages = (yield* pageHistory(request)).filter((row) => listsRef(row, request.posRef))
      const explanation: OrderStore.Explanation = {
        storeId,
        current,
        history: [...own, ...pages].sort((a, b) => a.seq - b.seq).map(toHistory),
        shipNotices: (yield* notices(request)).map(toNotice),
        writeBacks: (yield* writeBacks(request)).map(toOutbox)
      }
      return explanation
    },
    // One read transaction: the history, notices and write-backs agree with each other.
    (effect) => Effect.zipRight(history.flush, sql.withTransaction(effect)),
    wrap("explain")
  )

  const recentPolls = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, limit: Schema.Number }),
    Result: PollRow,
    // The reference store returns every poll for a limit of 0 (`slice(-0)`); keep that.
    execute: ({ storeId, limit }) =>
      limit > 0
        ? sql`SELECT * FROM pb_polls WHERE store_id = ${storeId} ORDER BY seq DESC LIMIT ${limit}`
        : sql`SELECT * FROM pb_polls WHERE store_id = ${storeId} ORDER BY seq DESC`
  })

  const polls = Effect.fn("SqlOrderStore.polls")(function* (storeId: string, limit: number) {
    yield* history.flush
    return (yield* recentPolls({ storeId, limit })).map(toPoll)
  }, wrap("polls"))

  const storeRow = SqlSchema.findOne({
    Request: Schema.String,
    Result: StoreRow,
    execute: (storeId) => sql`SELECT sync_cursor, watermark_ms FROM pb_stores WHERE store_id = ${storeId}`
  })
  const documentCounts = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, since: Schema.Number }),
    Result: DocumentCountsRow,
    execute: ({ storeId, since }) => sql`SELECT COUNT(*) AS documents,
        COALESCE(SUM(CASE WHEN stamp_ms >= ${since} THEN 1 ELSE 0 END), 0) AS waiting,
        COALESCE(SUM(CASE WHEN held_reasons <> '[]' THEN 1 ELSE 0 END), 0) AS held
      FROM pb_documents WHERE store_id = ${storeId}`
  })
  const outboxCounts = SqlSchema.findAll({
    Request: Schema.String,
    Result: OutboxCountRow,
    execute: (storeId) => sql`SELECT state, COUNT(*) AS n FROM pb_outbox WHERE store_id = ${storeId} GROUP BY state`
  })

  const stats = Effect.fn("SqlOrderStore.stats")(
    function* (storeId: string) {
      const watermark = Option.flatMap(yield* storeRow(storeId), (row) => Option.fromNullable(row.watermark_ms))
      const since = Option.match(watermark, { onNone: () => Number.MIN_SAFE_INTEGER, onSome: millis })
      const counts = Option.getOrElse(yield* documentCounts({ storeId, since }), () => ({
        documents: 0,
        waiting: 0,
        held: 0
      }))
      const last = yield* recentPolls({ storeId, limit: 1 })
      const outbox = OrderStore.emptyOutboxCounts()
      for (const row of yield* outboxCounts(storeId)) outbox[row.state] = row.n
      const result: OrderStore.OrderStats = {
        documents: counts.documents,
        waitingForPoll: counts.waiting,
        held: counts.held,
        watermark,
        lastPoll: Option.map(Option.fromNullable(last[0]), toPoll),
        outbox
      }
      return result
    },
    // Buffered poll-log rows are written first: `lastPoll` is the last page served.
    (effect) => Effect.zipRight(history.flush, sql.withTransaction(effect)),
    wrap("stats")
  )

  const heldRows = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, limit: Schema.Number }),
    Result: DocumentRow,
    execute: ({ storeId, limit }) => sql`SELECT ${sql.literal(documentColumns())} FROM pb_documents
      WHERE store_id = ${storeId} AND held_reasons <> '[]' ORDER BY stamp_ms DESC, pos_ref LIMIT ${limit}`
  })
  const held = Effect.fn("SqlOrderStore.held")(function* (storeId: string, limit: number) {
    const rows = yield* heldRows({ storeId, limit: Math.max(0, Math.floor(limit)) })
    return yield* Effect.forEach(rows, documents.toStored(storeId))
  }, wrap("held"))

  return { find, explain, polls, stats, held }
}
