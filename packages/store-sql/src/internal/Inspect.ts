/**
 * What the operator reads: `find`, `explain` (an order's history, ship notices and write-backs), the poll
 * log, `stats` and `statsAll`. History still in the write-behind buffer is written first, so they show every
 * page served.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { OrderStore } from "@posbridge/core"
import { DateTime, Effect, Option, Schema } from "effect"
import type * as Dialect from "./Dialect.js"
import type { Documents } from "./Documents.js"
import type { HistoryBuffer } from "./HistoryBuffer.js"
import {
  DocumentCountsRow,
  DocumentRow,
  documentColumns,
  HistoryRow,
  historyColumns,
  Int,
  integer,
  NoticeRow,
  OutboxCountRow,
  OutboxRow,
  PollRow,
  toHistory,
  toNotice,
  toOutbox,
  toPoll
} from "./Rows.js"
import { wrap } from "./Sql.js"

const OrderRequest = Schema.Struct({ storeId: Schema.String, posRef: Schema.String })

const StoreCountsRow = Schema.Struct({
  store_id: Schema.String,
  watermark_ms: Schema.NullOr(Int),
  documents: Int,
  waiting: Int
})
const StoreHeldRow = Schema.Struct({ store_id: Schema.String, held: Int })
const StoreOutboxCountRow = Schema.extend(OutboxCountRow, Schema.Struct({ store_id: Schema.String }))

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  documents: Documents,
  history: HistoryBuffer
): Pick<OrderStore.OrderStoreService, "find" | "explain" | "polls" | "stats" | "statsAll" | "held"> => {
  const find = Effect.fn("SqlOrderStore.find")(function* (storeId: string, order: string) {
    return yield* documents.lookup(storeId, order)
  }, wrap("find"))

  const ownHistory = SqlSchema.findAll({
    Request: OrderRequest,
    Result: HistoryRow,
    execute: ({ storeId, posRef }) => sql`SELECT ${sql.literal(historyColumns)} FROM pb_history
      WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
  })
  /**
   * The store's page rows that listed this POS id, through their index `pb_exported_refs` (migration 0006), as
   * `Exported` events with their history `seq`. The rows are read as flat numbers and mapped by hand: an order
   * exported by a thousand pages decoded a thousand JSON documents through a schema union before (most of
   * `explain`'s time), and its POS id lists stay in the database.
   */
  const pageHistory = (request: typeof OrderRequest.Type) =>
    Effect.flatMap(
      sql<Record<string, unknown>>`SELECT h.seq, h.at_ms, ${d.pageFields}
        FROM pb_exported_refs r JOIN pb_history h ON h.seq = r.history_seq ${d.pageFrom}
        WHERE r.store_id = ${request.storeId} AND r.pos_ref = ${request.posRef} ORDER BY r.history_seq`,
      (rows) => {
        const events: Array<{ readonly seq: number; readonly event: OrderStore.HistoryEvent }> = []
        for (const row of rows) {
          const [seq, at, start, end, page, pages] = [
            row.seq,
            row.at_ms,
            row.w_start,
            row.w_end,
            row.page,
            row.pages
          ].map(integer)
          if ([seq, at, start, end, page, pages].some((n) => n === undefined)) {
            return Effect.fail(
              new OrderStore.OrderStoreError({
                operation: "explain",
                message: `stored data does not decode: export page row ${String(row.seq)} has no window or page`
              })
            )
          }
          events.push({
            seq: seq!,
            event: {
              _tag: "Exported",
              at: DateTime.unsafeMake(at!),
              window: { start: DateTime.unsafeMake(start!), end: DateTime.unsafeMake(end!) },
              page: page!,
              pages: pages!
            }
          })
        }
        return Effect.succeed(events)
      }
    )
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
      const own = (yield* ownHistory(request)).map((row) => ({ seq: row.seq, event: toHistory(row) }))
      const pages = yield* pageHistory(request)
      const explanation: OrderStore.Explanation = {
        storeId,
        current,
        history: [...own, ...pages].sort((a, b) => a.seq - b.seq).map((e) => e.event),
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

  /**
   * The versions of store row `s` waiting for a poll: those stamped at or after its watermark, a stamp-index range;
   * a store without a watermark has every version waiting. Shared by `stats` and `statsAll`.
   */
  const waitingOf = sql.literal(`CASE WHEN s.watermark_ms IS NULL THEN s.doc_count
      ELSE (SELECT COUNT(*) FROM pb_documents d WHERE d.store_id = s.store_id AND d.stamp_ms >= s.watermark_ms) END`)

  // One store's watermark and counts, in one read of its row, counted as `statsAll` counts: the row's count
  // (migration 0007), `waitingOf`, the partial index of held documents. Counting its documents instead read every one
  // of them, after every sync of every store (3 ms per sync at 1,000 documents).
  const documentCounts = SqlSchema.findOne({
    Request: Schema.String,
    Result: DocumentCountsRow,
    execute: (storeId) => sql`SELECT s.watermark_ms, s.doc_count AS documents, ${waitingOf} AS waiting,
        (SELECT COUNT(*) FROM pb_documents d WHERE d.store_id = s.store_id AND d.held_reasons <> '[]') AS held
      FROM pb_stores s WHERE s.store_id = ${storeId}`
  })
  const outboxCounts = SqlSchema.findAll({
    Request: Schema.String,
    Result: OutboxCountRow,
    execute: (storeId) => sql`SELECT state, COUNT(*) AS n FROM pb_outbox WHERE store_id = ${storeId} GROUP BY state`
  })

  const stats = Effect.fn("SqlOrderStore.stats")(
    function* (storeId: string) {
      const row = yield* documentCounts(storeId)
      const watermark = Option.flatMap(row, (r) => Option.fromNullable(r.watermark_ms))
      const counts = Option.getOrElse(row, () => ({ documents: 0, waiting: 0, held: 0 }))
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

  // statsAll: the same figures for every store in four statements, whatever the number of stores, none reading
  // every document: the count is the store row's (migration 0007), waiting versions are a stamp-index range per
  // store, held ones the partial index `pb_documents_held`.
  const allStoreCounts = SqlSchema.findAll({
    Request: Schema.Void,
    Result: StoreCountsRow,
    execute: () => sql`SELECT s.store_id, s.watermark_ms, s.doc_count AS documents, ${waitingOf} AS waiting
      FROM pb_stores s`
  })
  const allHeldCounts = SqlSchema.findAll({
    Request: Schema.Void,
    Result: StoreHeldRow,
    execute: () => sql`SELECT store_id, COUNT(*) AS held FROM pb_documents WHERE held_reasons <> '[]' GROUP BY store_id`
  })
  const allLastPolls = SqlSchema.findAll({
    Request: Schema.Void,
    Result: PollRow,
    // Each store's newest poll by one index probe of pb_polls_store, not a scan of the whole poll log. Every
    // store that was polled has a store row: page 1 creates it in the transaction that logs the poll.
    execute: () => sql`SELECT p.* FROM pb_stores s
      JOIN pb_polls p ON p.seq = (SELECT MAX(q.seq) FROM pb_polls q WHERE q.store_id = s.store_id)`
  })
  const allOutboxCounts = SqlSchema.findAll({
    Request: Schema.Void,
    Result: StoreOutboxCountRow,
    execute: () => sql`SELECT store_id, state, COUNT(*) AS n FROM pb_outbox GROUP BY store_id, state`
  })

  const statsAll = Effect.fn("SqlOrderStore.statsAll")(
    function* (storeIds: ReadonlyArray<string>) {
      const counts = new Map((yield* allStoreCounts()).map((row) => [row.store_id, row] as const))
      const held = new Map((yield* allHeldCounts()).map((row) => [row.store_id, row.held] as const))
      const lastPolls = new Map((yield* allLastPolls()).map((row) => [row.store_id, toPoll(row)] as const))
      const outboxes = new Map<string, ReturnType<typeof OrderStore.emptyOutboxCounts>>()
      for (const row of yield* allOutboxCounts()) {
        const outbox = outboxes.get(row.store_id) ?? OrderStore.emptyOutboxCounts()
        outbox[row.state] = row.n
        outboxes.set(row.store_id, outbox)
      }
      const result = new Map<string, OrderStore.OrderStats>()
      for (const storeId of storeIds) {
        const count = counts.get(storeId)
        result.set(storeId, {
          documents: count?.documents ?? 0,
          waitingForPoll: count?.waiting ?? 0,
          held: held.get(storeId) ?? 0,
          watermark: Option.map(Option.fromNullable(count?.watermark_ms), (ms) => DateTime.unsafeMake(ms)),
          lastPoll: Option.fromNullable(lastPolls.get(storeId)),
          outbox: outboxes.get(storeId) ?? OrderStore.emptyOutboxCounts()
        })
      }
      return result
    },
    (effect) => Effect.zipRight(history.flush, sql.withTransaction(effect)),
    wrap("statsAll")
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

  return { find, explain, polls, stats, statsAll, held }
}
