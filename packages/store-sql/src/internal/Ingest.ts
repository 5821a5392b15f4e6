/**
 * Writing documents: `ingest` (a batch and its cursor in one transaction, under the store's lock, each
 * document through core's RefreshRule), `touch` (a bridge-side restamp) and reading the sync cursor.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { ContentHash, Order, OrderStore, RefreshRule, type SourceDocument } from "@posbridge/core"
import { Clock, DateTime, Effect, Option, Schema } from "effect"
import type * as Dialect from "./Dialect.js"
import type { Documents } from "./Documents.js"
import type { HistoryBuffer } from "./HistoryBuffer.js"
import { changeInsert, type HistoryInsert, KnownRow, millis, StoreRow, toKnown } from "./Rows.js"
import { chunks, lockStore, wrap } from "./Sql.js"

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  documents: Documents,
  history: HistoryBuffer,
  options: OrderStore.Options
): Pick<OrderStore.OrderStoreService, "ingest" | "cursor" | "touch"> => {
  const lock = lockStore(sql, d)

  const selectKnown = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, refs: Schema.Array(Schema.String) }),
    Result: KnownRow,
    execute: ({ storeId, refs }) => sql`SELECT pos_ref, pos_modified_ms, content_hash, stamp_ms FROM pb_documents
      WHERE store_id = ${storeId} AND pos_ref IN ${sql.in(refs)}`
  })

  const ingest = Effect.fn("SqlOrderStore.ingest")(
    function* (
      store: OrderStore.StoreRef,
      batch: ReadonlyArray<SourceDocument.SourceDocument>,
      cursor: Option.Option<string>
    ) {
      // Validate first, then apply: a bad batch changes nothing.
      const refused = OrderStore.checkBatch(store, batch)
      if (Option.isSome(refused)) return yield* refused.value
      const at = yield* Clock.currentTimeMillis
      const atUtc = DateTime.unsafeMake(at)
      const { watermark } = yield* lock(store.id)

      const known = new Map<string, RefreshRule.StoredState>()
      for (const refs of chunks(Array.from(new Set(batch.map((doc) => doc.order.posRef))))) {
        for (const row of yield* selectKnown({ storeId: store.id, refs })) known.set(row.pos_ref, toKnown(row))
      }

      const decisions: Array<RefreshRule.Decision> = []
      // The last decided version of each document (a batch may carry one document twice) and every event.
      const writes = new Map<string, Record<string, string | number>>()
      const events: Array<HistoryInsert> = []
      for (const doc of batch) {
        // One JSON form per document, for both the hash and the stored text.
        const encoded = Order.toJson(doc.order)
        const contentHash = ContentHash.ofEncoded(encoded)
        const decision = RefreshRule.decide(
          Option.fromNullable(known.get(doc.order.posRef)),
          { _tag: "Document", document: doc, contentHash },
          { storeKind: store.kind, now: atUtc, watermark, stampRule: options.stampRule }
        )
        decisions.push(decision)
        if (decision._tag === "Insert" || decision._tag === "Restamp") {
          const { posRef, posModifiedAt } = doc.order
          known.set(posRef, { posModifiedAt, contentHash, stamp: decision.stamp })
          writes.set(posRef, {
            store_id: store.id,
            pos_ref: posRef,
            kind: doc.order.kind,
            order_number: doc.order.orderNumber,
            order_json: JSON.stringify(encoded),
            pos_modified_ms: millis(posModifiedAt),
            content_hash: contentHash,
            stamp_ms: millis(decision.stamp),
            ingested_ms: at,
            held_reasons: "[]"
          })
          events.push(
            changeInsert(store.id, at, {
              event: decision._tag === "Insert" ? "Inserted" : "Restamped",
              reason: decision._tag === "Restamp" ? decision.reason : null,
              posModifiedAt,
              stamp: decision.stamp,
              contentHash,
              posRef
            })
          )
        }
      }

      for (const chunk of chunks(Array.from(writes.values()))) {
        yield* sql`INSERT INTO pb_documents ${sql.insert(chunk)}
          ON CONFLICT (store_id, pos_ref) DO UPDATE SET
            kind = excluded.kind, order_number = excluded.order_number, order_json = excluded.order_json,
            pos_modified_ms = excluded.pos_modified_ms, content_hash = excluded.content_hash,
            stamp_ms = excluded.stamp_ms, ingested_ms = excluded.ingested_ms, held_reasons = excluded.held_reasons`
      }
      yield* history.insertHistory(events)
      if (Option.isSome(cursor)) {
        yield* sql`UPDATE pb_stores SET sync_cursor = ${cursor.value} WHERE store_id = ${store.id}`
      }
      return OrderStore.summarize(decisions)
    },
    history.writeTransaction,
    wrap("ingest")
  )

  const selectStore = SqlSchema.findOne({
    Request: Schema.String,
    Result: StoreRow,
    execute: (storeId) => sql`SELECT sync_cursor, watermark_ms FROM pb_stores WHERE store_id = ${storeId}`
  })

  const cursor = Effect.fn("SqlOrderStore.cursor")(function* (storeId: string) {
    return Option.flatMap(yield* selectStore(storeId), (row) => Option.fromNullable(row.sync_cursor))
  }, wrap("cursor"))

  const touch = Effect.fn("SqlOrderStore.touch")(
    function* (storeId: string, order: string) {
      const at = yield* Clock.currentTimeMillis
      const { watermark } = yield* lock(storeId)
      const found = yield* documents.lookup(storeId, order)
      if (Option.isNone(found)) return yield* new OrderStore.OrderNotFound({ storeId, order })
      const current = found.value
      const decision = RefreshRule.decide(
        Option.some({
          posModifiedAt: current.order.posModifiedAt,
          contentHash: current.contentHash,
          stamp: current.stamp
        }),
        { _tag: "Touch" },
        { storeKind: current.order.kind, now: DateTime.unsafeMake(at), watermark, stampRule: options.stampRule }
      )
      if (decision._tag !== "Restamp") return yield* new OrderStore.OrderNotFound({ storeId, order })
      yield* sql`UPDATE pb_documents SET stamp_ms = ${millis(decision.stamp)}, ingested_ms = ${at}, held_reasons = '[]'
        WHERE store_id = ${storeId} AND pos_ref = ${current.order.posRef}`
      yield* history.insertHistory([
        changeInsert(storeId, at, {
          event: "Restamped",
          reason: "touched",
          posModifiedAt: current.order.posModifiedAt,
          stamp: decision.stamp,
          contentHash: current.contentHash,
          posRef: current.order.posRef
        })
      ])
      const touched: OrderStore.StoredOrder = {
        ...current,
        stamp: decision.stamp,
        ingestedAt: DateTime.unsafeMake(at),
        heldReasons: []
      }
      return touched
    },
    history.writeTransaction,
    wrap("touch")
  )

  return { ingest, cursor, touch }
}
