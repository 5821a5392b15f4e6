/**
 * The OrderStore port on `@effect/sql`, one implementation for SQLite and PostgreSQL. It follows core's
 * in-memory reference store decision for decision (RefreshRule, ExportStamp, ExportSnapshot come from core);
 * what it adds is durability and serialization across connections and replicas:
 *
 * - every store-scoped write (ingest, export, touch, hold) runs in one transaction that first takes the
 *   store's lock: on PostgreSQL `SELECT … FOR UPDATE` on the store's row, on SQLite the database write lock
 *   (the transaction starts with a write). Ingest and snapshot creation for one store therefore never
 *   interleave, so no version can be stamped behind a window that was just served (DESIGN.md invariant 1);
 * - a batch of documents and its cursor commit in that one transaction, or not at all;
 * - outbox items are claimed with `FOR UPDATE SKIP LOCKED`, so two replicas never claim the same item.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import {
  ContentHash,
  ExportSnapshot,
  ExportStamp,
  Order,
  OrderStore,
  OrderWindow,
  RefreshRule,
  ShipNotice,
  type SourceDocument
} from "@posbridge/core"
import { Clock, DateTime, Duration, Effect, Layer, Option, ParseResult, Schema } from "effect"
import * as Dialect from "./internal/Dialect.js"

export interface Options extends OrderStore.Options {
  /**
   * How long document history and the poll log are kept; older entries are dropped by `pruneSnapshots`.
   * Unset (the default): kept forever. Current documents are never dropped.
   */
  readonly historyRetention?: Duration.DurationInput | undefined
}

interface DocumentRow {
  readonly pos_ref: string
  readonly order_json: string
  readonly content_hash: string
  readonly stamp_ms: unknown
  readonly ingested_ms: unknown
  readonly held_reasons: string
}

const documentColumns = "pos_ref, order_json, content_hash, stamp_ms, ingested_ms, held_reasons"

interface HistoryRow {
  readonly event: string
  readonly at_ms: unknown
  readonly reason: string | null
  readonly pos_modified_ms: unknown
  readonly stamp_ms: unknown
  readonly content_hash: string | null
  readonly detail: string | null
}

interface PollRow {
  readonly store_id: string
  readonly at_ms: unknown
  readonly window_start_ms: unknown
  readonly window_end_ms: unknown
  readonly page: unknown
  readonly pages: unknown
  readonly count: unknown
  readonly snapshot_id: string
}

interface OutboxRow {
  readonly outbox_id: string
  readonly store_id: string
  readonly notice_id: string
  readonly pos_ref: string | null
  readonly notice_json: string
  readonly state: string
  readonly attempts: unknown
  readonly next_attempt_ms: unknown
  readonly last_error: string | null
  readonly result: string | null
  readonly updated_ms: unknown
}

interface NoticeRow {
  readonly notice_id: string
  readonly idempotency_key: string
  readonly store_id: string
  readonly pos_ref: string | null
  readonly notice_json: string
  readonly received_ms: unknown
}

/** Rows per multi-row statement: well under both engines' bound-parameter limits. */
const chunkSize = 500

const chunks = <A>(items: ReadonlyArray<A>, size = chunkSize): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const utc = (ms: unknown): DateTime.Utc => DateTime.unsafeMake(Dialect.num(ms))
const millis = (t: DateTime.Utc): number => DateTime.toEpochMillis(t)
const nowMs = Clock.currentTimeMillis
const newId = (prefix: string): string => `${prefix}-${globalThis.crypto.randomUUID()}`

const decodeNotice = Schema.decodeUnknown(Schema.parseJson(ShipNotice.ShipNotice))
const encodeNotice = Schema.encodeSync(ShipNotice.ShipNotice)

/** Database and decoding errors become the port's `StoreFailure`; the port's own errors pass through. */
const wrap =
  (operation: string) =>
  <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError> | OrderStore.StoreFailure, R> =>
    Effect.mapError(self, (e) => {
      if (e instanceof SqlError) {
        const cause = e.cause instanceof Error ? e.cause.message : String(e.cause)
        return new OrderStore.StoreFailure({ operation, message: `${e.message}: ${cause}` })
      }
      if (ParseResult.isParseError(e)) {
        return new OrderStore.StoreFailure({ operation, message: `stored data does not decode: ${e.message}` })
      }
      return e as Exclude<E, SqlError | ParseResult.ParseError>
    })

export const make = (options: Options = {}): Effect.Effect<OrderStore.OrderStoreService, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const d = Dialect.of(sql)
    const tolerance = options.watermarkTolerance ?? ExportStamp.defaultTolerance
    const ttl = options.snapshotTtl ?? ExportSnapshot.defaultTtl
    const pagingMode = options.pagingMode ?? "snapshot"
    const retention = options.historyRetention === undefined ? undefined : Duration.decode(options.historyRetention)

    /**
     * Creates the store's row if needed and locks it for the rest of the transaction. The INSERT comes first
     * on purpose: on SQLite it takes the write lock before anything is read.
     */
    const lockStore = (storeId: string) =>
      Effect.gen(function* () {
        yield* sql`INSERT INTO pb_stores (store_id) VALUES (${storeId}) ON CONFLICT (store_id) DO NOTHING`
        const rows = yield* sql<{ sync_cursor: string | null; watermark_ms: unknown }>`
          SELECT sync_cursor, watermark_ms FROM pb_stores WHERE store_id = ${storeId} ${d.lockRow}`
        const row = rows[0]
        return {
          watermark: row?.watermark_ms == null ? Option.none<DateTime.Utc>() : Option.some(utc(row.watermark_ms))
        }
      })

    const toStored = (row: DocumentRow) =>
      Effect.map(
        Order.decode(JSON.parse(row.order_json)),
        (order): OrderStore.StoredOrder => ({
          order,
          stamp: utc(row.stamp_ms),
          ingestedAt: utc(row.ingested_ms),
          contentHash: row.content_hash,
          heldReasons: JSON.parse(row.held_reasons) as Array<string>
        })
      )

    /** By POS id first, then by order number (the most recently stamped one), like the reference store. */
    const lookup = (storeId: string, key: string) =>
      Effect.gen(function* () {
        const byRef = yield* sql<DocumentRow>`SELECT ${sql.literal(documentColumns)} FROM pb_documents
          WHERE store_id = ${storeId} AND pos_ref = ${key}`
        if (byRef[0]) return Option.some(byRef[0])
        const byNumber = yield* sql<DocumentRow>`SELECT ${sql.literal(documentColumns)} FROM pb_documents
          WHERE store_id = ${storeId} AND order_number = ${key} ORDER BY stamp_ms DESC, pos_ref LIMIT 1`
        return Option.fromNullable(byNumber[0])
      })

    const toHistory = (row: HistoryRow): OrderStore.HistoryEvent => {
      const at = utc(row.at_ms)
      switch (row.event) {
        case "HeldBack":
          return { _tag: "HeldBack", at, reasons: JSON.parse(row.detail ?? "[]") as Array<string> }
        case "Exported": {
          const e = JSON.parse(row.detail ?? "{}") as { start: number; end: number; page: number; pages: number }
          return {
            _tag: "Exported",
            at,
            window: { start: utc(e.start), end: utc(e.end) },
            page: e.page,
            pages: e.pages
          }
        }
        default:
          return {
            _tag: row.event === "Inserted" ? "Inserted" : "Restamped",
            at,
            reason: (row.reason ?? undefined) as RefreshRule.RestampReason | undefined,
            posModifiedAt: utc(row.pos_modified_ms),
            stamp: utc(row.stamp_ms),
            contentHash: row.content_hash ?? ""
          }
      }
    }

    const toPoll = (row: PollRow): OrderStore.PollRecord => ({
      at: utc(row.at_ms),
      storeId: row.store_id,
      window: { start: utc(row.window_start_ms), end: utc(row.window_end_ms) },
      page: Dialect.num(row.page),
      pages: Dialect.num(row.pages),
      count: Dialect.num(row.count),
      snapshotId: row.snapshot_id
    })

    const toOutbox = (row: OutboxRow) =>
      Effect.map(
        decodeNotice(row.notice_json),
        (notice): OrderStore.OutboxItem => ({
          id: row.outbox_id,
          storeId: row.store_id,
          noticeId: row.notice_id,
          posRef: Option.fromNullable(row.pos_ref),
          notice,
          state: row.state as OrderStore.OutboxState,
          attempts: Dialect.num(row.attempts),
          nextAttemptAt: utc(row.next_attempt_ms),
          lastError: Option.fromNullable(row.last_error),
          result: Option.fromNullable(row.result),
          updatedAt: utc(row.updated_ms)
        })
      )

    const toNotice = (row: NoticeRow) =>
      Effect.map(
        decodeNotice(row.notice_json),
        (notice): OrderStore.StoredShipNotice => ({
          id: row.notice_id,
          key: row.idempotency_key,
          storeId: row.store_id,
          posRef: Option.fromNullable(row.pos_ref),
          notice,
          receivedAt: utc(row.received_ms)
        })
      )

    type HistoryInsert = {
      store_id: string
      pos_ref: string
      at_ms: number
      event: string
      reason: string | null
      pos_modified_ms: number | null
      stamp_ms: number | null
      content_hash: string | null
      detail: string | null
    }
    const insertHistory = (rows: ReadonlyArray<HistoryInsert>) =>
      Effect.forEach(chunks(rows), (chunk) => sql`INSERT INTO pb_history ${sql.insert(chunk)}`, { discard: true })

    const ingest = Effect.fn("SqlOrderStore.ingest")(
      function* (
        store: OrderStore.StoreRef,
        documents: ReadonlyArray<SourceDocument.SourceDocument>,
        cursor: Option.Option<string>
      ) {
        // Validate first, then apply: a bad batch changes nothing.
        for (const doc of documents) {
          if (doc.order.storeId !== store.id) {
            return yield* new OrderStore.StoreFailure({
              operation: "ingest",
              message: `a document of store "${doc.order.storeId}" was given to store "${store.id}"; nothing was written`
            })
          }
        }
        const at = yield* nowMs
        const atUtc = utc(at)
        const { watermark } = yield* lockStore(store.id)

        const known = new Map<string, RefreshRule.StoredState>()
        const refs = Array.from(new Set(documents.map((doc) => doc.order.posRef)))
        for (const chunk of chunks(refs)) {
          const rows = yield* sql<{
            pos_ref: string
            pos_modified_ms: unknown
            content_hash: string
            stamp_ms: unknown
          }>`
            SELECT pos_ref, pos_modified_ms, content_hash, stamp_ms FROM pb_documents
            WHERE store_id = ${store.id} AND pos_ref IN ${sql.in(chunk)}`
          for (const row of rows) {
            known.set(row.pos_ref, {
              posModifiedAt: utc(row.pos_modified_ms),
              contentHash: row.content_hash,
              stamp: utc(row.stamp_ms)
            })
          }
        }

        const summary = OrderStore.emptySummary()
        const restamped = { ...summary.restamped }
        const ignored = { ...summary.ignored }
        let inserted = 0
        let unchanged = 0
        // The last decided version of each document (a batch may carry one document twice) and every event.
        const writes = new Map<string, Record<string, string | number>>()
        const history: Array<HistoryInsert> = []
        for (const doc of documents) {
          const contentHash = ContentHash.ofOrder(doc.order)
          const decision = RefreshRule.decide(
            Option.fromNullable(known.get(doc.order.posRef)),
            { _tag: "Document", document: doc, contentHash },
            { storeKind: store.kind, now: atUtc, watermark, stampRule: options.stampRule }
          )
          switch (decision._tag) {
            case "Insert":
            case "Restamp": {
              const posModified = millis(doc.order.posModifiedAt)
              const stamp = millis(decision.stamp)
              known.set(doc.order.posRef, {
                posModifiedAt: doc.order.posModifiedAt,
                contentHash,
                stamp: decision.stamp
              })
              writes.set(doc.order.posRef, {
                store_id: store.id,
                pos_ref: doc.order.posRef,
                kind: doc.order.kind,
                order_number: doc.order.orderNumber,
                order_json: JSON.stringify(Order.encode(doc.order)),
                pos_modified_ms: posModified,
                content_hash: contentHash,
                stamp_ms: stamp,
                ingested_ms: at,
                held_reasons: "[]"
              })
              history.push({
                store_id: store.id,
                pos_ref: doc.order.posRef,
                at_ms: at,
                event: decision._tag === "Insert" ? "Inserted" : "Restamped",
                reason: decision._tag === "Restamp" ? decision.reason : null,
                pos_modified_ms: posModified,
                stamp_ms: stamp,
                content_hash: contentHash,
                detail: null
              })
              if (decision._tag === "Insert") inserted++
              else restamped[decision.reason]++
              break
            }
            case "Unchanged":
              unchanged++
              break
            case "Ignore":
              ignored[decision.reason]++
              break
          }
        }

        for (const chunk of chunks(Array.from(writes.values()))) {
          yield* sql`INSERT INTO pb_documents ${sql.insert(chunk)}
            ON CONFLICT (store_id, pos_ref) DO UPDATE SET
              kind = excluded.kind, order_number = excluded.order_number, order_json = excluded.order_json,
              pos_modified_ms = excluded.pos_modified_ms, content_hash = excluded.content_hash,
              stamp_ms = excluded.stamp_ms, ingested_ms = excluded.ingested_ms, held_reasons = excluded.held_reasons`
        }
        yield* insertHistory(history)
        if (Option.isSome(cursor)) {
          yield* sql`UPDATE pb_stores SET sync_cursor = ${cursor.value} WHERE store_id = ${store.id}`
        }
        const result: OrderStore.IngestSummary = { inserted, restamped, unchanged, ignored }
        return result
      },
      (effect) => sql.withTransaction(effect),
      wrap("ingest")
    )

    const cursorOf = Effect.fn("SqlOrderStore.cursor")(function* (storeId: string) {
      const rows = yield* sql<{ sync_cursor: string | null }>`
          SELECT sync_cursor FROM pb_stores WHERE store_id = ${storeId}`
      return Option.fromNullable(rows[0]?.sync_cursor)
    }, wrap("cursor"))

    const exportPage = Effect.fn("SqlOrderStore.exportPage")(
      function* (request: OrderStore.ExportRequest) {
        const at = yield* nowMs
        const { storeId, window, page, pageSize } = request
        const { watermark } = yield* lockStore(storeId)
        const startMs = millis(window.start)
        const endMs = millis(window.end)
        const endExclusiveMs = millis(OrderWindow.endExclusive(window))

        let snapshot: { readonly id: string; readonly total: number } | undefined
        if (page > 1 && pagingMode === "snapshot") {
          // Locked so a concurrent prune cannot delete the members while this page reads them.
          const rows = yield* sql<{ snapshot_id: string; total: unknown; expires_ms: unknown }>`
            SELECT snapshot_id, total, expires_ms FROM pb_snapshots
            WHERE store_id = ${storeId} AND window_start_ms = ${startMs} AND window_end_ms = ${endMs} ${d.lockRow}`
          const row = rows[0]
          if (row && !(Dialect.num(row.expires_ms) < at)) {
            snapshot = { id: row.snapshot_id, total: Dialect.num(row.total) }
          }
        }
        const created = snapshot === undefined
        if (snapshot === undefined) {
          const id = newId("snap")
          if (pagingMode === "snapshot") {
            // Page 1 (or an expired snapshot) replaces any earlier snapshot of the same window.
            const old = yield* sql<{ snapshot_id: string }>`
              DELETE FROM pb_snapshots
              WHERE store_id = ${storeId} AND window_start_ms = ${startMs} AND window_end_ms = ${endMs}
              RETURNING snapshot_id`
            for (const row of old) yield* sql`DELETE FROM pb_snapshot_members WHERE snapshot_id = ${row.snapshot_id}`
            yield* sql`INSERT INTO pb_snapshot_members (snapshot_id, position, pos_ref)
              SELECT ${id}, ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM pb_documents
              WHERE store_id = ${storeId} AND stamp_ms >= ${startMs} AND stamp_ms < ${endExclusiveMs}`
            const counted = yield* sql<{ n: unknown }>`
              SELECT COUNT(*) AS n FROM pb_snapshot_members WHERE snapshot_id = ${id}`
            const total = Dialect.num(counted[0]?.n ?? 0)
            yield* sql`INSERT INTO pb_snapshots ${sql.insert({
              snapshot_id: id,
              store_id: storeId,
              window_start_ms: startMs,
              window_end_ms: endMs,
              total,
              created_ms: at,
              expires_ms: at + Duration.toMillis(ttl)
            })}`
            snapshot = { id, total }
          } else {
            const counted = yield* sql<{ n: unknown }>`SELECT COUNT(*) AS n FROM pb_documents
              WHERE store_id = ${storeId} AND stamp_ms >= ${startMs} AND stamp_ms < ${endExclusiveMs}`
            snapshot = { id, total: Dialect.num(counted[0]?.n ?? 0) }
          }
        }

        const advance = ExportStamp.advanceWatermark(watermark, window, utc(at), tolerance)
        if (Option.isSome(advance.watermark)) {
          yield* sql`UPDATE pb_stores SET watermark_ms = ${millis(advance.watermark.value)} WHERE store_id = ${storeId}`
        }

        const pages = ExportSnapshot.pageCount(snapshot.total, pageSize)
        const offset = (page - 1) * pageSize
        const rows =
          page < 1
            ? []
            : pagingMode === "snapshot"
              ? yield* sql<DocumentRow>`SELECT ${sql.literal(
                  documentColumns
                    .split(", ")
                    .map((c) => `d.${c}`)
                    .join(", ")
                )}
                FROM pb_snapshot_members m JOIN pb_documents d ON d.store_id = ${storeId} AND d.pos_ref = m.pos_ref
                WHERE m.snapshot_id = ${snapshot.id} AND m.position >= ${offset} AND m.position < ${offset + pageSize}
                ORDER BY m.position`
              : yield* sql<DocumentRow>`SELECT ${sql.literal(documentColumns)} FROM pb_documents
                WHERE store_id = ${storeId} AND stamp_ms >= ${startMs} AND stamp_ms < ${endExclusiveMs}
                ORDER BY stamp_ms, pos_ref LIMIT ${pageSize} OFFSET ${offset}`
        const orders = yield* Effect.forEach(rows, toStored)

        const detail = JSON.stringify({ start: startMs, end: endMs, page, pages })
        yield* insertHistory(
          rows.map((row) => ({
            store_id: storeId,
            pos_ref: row.pos_ref,
            at_ms: at,
            event: "Exported",
            reason: null,
            pos_modified_ms: null,
            stamp_ms: null,
            content_hash: null,
            detail
          }))
        )
        yield* sql`INSERT INTO pb_polls ${sql.insert({
          store_id: storeId,
          at_ms: at,
          window_start_ms: startMs,
          window_end_ms: endMs,
          page,
          pages,
          count: orders.length,
          snapshot_id: snapshot.id
        })}`
        const result: OrderStore.ExportPage = {
          page,
          pages,
          total: snapshot.total,
          orders,
          snapshotId: snapshot.id,
          snapshotCreated: created,
          watermarkClamped: advance.clamped
        }
        return result
      },
      (effect) => sql.withTransaction(effect),
      wrap("exportPage")
    )

    const recordHeld = Effect.fn("SqlOrderStore.recordHeld")(
      function* (storeId: string, posRef: string, reasons: ReadonlyArray<string>) {
        const at = yield* nowMs
        yield* lockStore(storeId)
        const updated = yield* sql<{
          pos_ref: string
        }>`UPDATE pb_documents SET held_reasons = ${JSON.stringify(reasons)}
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} RETURNING pos_ref`
        if (updated.length === 0) return
        // Record a hold once per version: again only when the reasons differ or the document changed since.
        const lastHeld = yield* sql<{ at_ms: unknown; detail: string | null }>`SELECT at_ms, detail FROM pb_history
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} AND event = 'HeldBack' ORDER BY seq DESC LIMIT 1`
        const lastChange = yield* sql<{ at_ms: unknown }>`SELECT at_ms FROM pb_history
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} AND event IN ('Inserted', 'Restamped')
          ORDER BY seq DESC LIMIT 1`
        const last = lastHeld[0]
        const same =
          last !== undefined && (JSON.parse(last.detail ?? "[]") as Array<string>).join("\n") === reasons.join("\n")
        const changedSince =
          last !== undefined &&
          lastChange[0] !== undefined &&
          Dialect.num(lastChange[0].at_ms) > Dialect.num(last.at_ms)
        if (!same || changedSince) {
          yield* insertHistory([
            {
              store_id: storeId,
              pos_ref: posRef,
              at_ms: at,
              event: "HeldBack",
              reason: null,
              pos_modified_ms: null,
              stamp_ms: null,
              content_hash: null,
              detail: JSON.stringify(reasons)
            }
          ])
        }
      },
      (effect) => sql.withTransaction(effect),
      wrap("recordHeld")
    )

    const touch = Effect.fn("SqlOrderStore.touch")(
      function* (storeId: string, order: string) {
        const at = yield* nowMs
        const { watermark } = yield* lockStore(storeId)
        const row = yield* lookup(storeId, order)
        if (Option.isNone(row)) return yield* new OrderStore.OrderNotFound({ storeId, order })
        const current = yield* toStored(row.value)
        const decision = RefreshRule.decide(
          Option.some({
            posModifiedAt: current.order.posModifiedAt,
            contentHash: current.contentHash,
            stamp: current.stamp
          }),
          { _tag: "Touch" },
          { storeKind: current.order.kind, now: utc(at), watermark, stampRule: options.stampRule }
        )
        if (decision._tag !== "Restamp") return yield* new OrderStore.OrderNotFound({ storeId, order })
        const stamp = millis(decision.stamp)
        yield* sql`UPDATE pb_documents SET stamp_ms = ${stamp}, ingested_ms = ${at}, held_reasons = '[]'
          WHERE store_id = ${storeId} AND pos_ref = ${current.order.posRef}`
        yield* insertHistory([
          {
            store_id: storeId,
            pos_ref: current.order.posRef,
            at_ms: at,
            event: "Restamped",
            reason: "touched",
            pos_modified_ms: millis(current.order.posModifiedAt),
            stamp_ms: stamp,
            content_hash: current.contentHash,
            detail: null
          }
        ])
        const touched: OrderStore.StoredOrder = {
          ...current,
          stamp: decision.stamp,
          ingestedAt: utc(at),
          heldReasons: []
        }
        return touched
      },
      (effect) => sql.withTransaction(effect),
      wrap("touch")
    )

    const find = Effect.fn("SqlOrderStore.find")(function* (storeId: string, order: string) {
      const row = yield* lookup(storeId, order)
      if (Option.isNone(row)) return Option.none<OrderStore.StoredOrder>()
      return Option.some(yield* toStored(row.value))
    }, wrap("find"))

    const explain = Effect.fn("SqlOrderStore.explain")(
      function* (storeId: string, order: string) {
        const row = yield* lookup(storeId, order)
        if (Option.isNone(row)) return yield* new OrderStore.OrderNotFound({ storeId, order })
        const current = yield* toStored(row.value)
        const posRef = current.order.posRef
        const history = yield* sql<HistoryRow>`
          SELECT event, at_ms, reason, pos_modified_ms, stamp_ms, content_hash, detail FROM pb_history
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
        const notices = yield* sql<NoticeRow>`SELECT * FROM pb_ship_notices
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
        const writeBacks = yield* sql<OutboxRow>`SELECT * FROM pb_outbox
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
        const explanation: OrderStore.Explanation = {
          storeId,
          current,
          history: history.map(toHistory),
          shipNotices: yield* Effect.forEach(notices, toNotice),
          writeBacks: yield* Effect.forEach(writeBacks, toOutbox)
        }
        return explanation
      },
      // One read transaction: the history, notices and write-backs agree with each other.
      (effect) => sql.withTransaction(effect),
      wrap("explain")
    )

    const polls = Effect.fn("SqlOrderStore.polls")(function* (storeId: string, limit: number) {
      // The reference store returns every poll for a limit of 0 (`slice(-0)`); keep that.
      const rows =
        limit > 0
          ? yield* sql<PollRow>`SELECT * FROM pb_polls WHERE store_id = ${storeId} ORDER BY seq DESC LIMIT ${limit}`
          : yield* sql<PollRow>`SELECT * FROM pb_polls WHERE store_id = ${storeId} ORDER BY seq DESC`
      return rows.map(toPoll)
    }, wrap("polls"))

    const stats = Effect.fn("SqlOrderStore.stats")(
      function* (storeId: string) {
        const storeRows = yield* sql<{ watermark_ms: unknown }>`
          SELECT watermark_ms FROM pb_stores WHERE store_id = ${storeId}`
        const w = storeRows[0]?.watermark_ms
        const watermark = w == null ? Option.none<DateTime.Utc>() : Option.some(utc(w))
        const since = Option.match(watermark, { onNone: () => Number.MIN_SAFE_INTEGER, onSome: millis })
        const counts = yield* sql<{ documents: unknown; waiting: unknown; held: unknown }>`
          SELECT COUNT(*) AS documents,
            COALESCE(SUM(CASE WHEN stamp_ms >= ${since} THEN 1 ELSE 0 END), 0) AS waiting,
            COALESCE(SUM(CASE WHEN held_reasons <> '[]' THEN 1 ELSE 0 END), 0) AS held
          FROM pb_documents WHERE store_id = ${storeId}`
        const last = yield* sql<PollRow>`SELECT * FROM pb_polls WHERE store_id = ${storeId} ORDER BY seq DESC LIMIT 1`
        const outboxRows = yield* sql<{ state: string; n: unknown }>`
          SELECT state, COUNT(*) AS n FROM pb_outbox WHERE store_id = ${storeId} GROUP BY state`
        const outbox: Record<OrderStore.OutboxState, number> = { pending: 0, "in-flight": 0, done: 0, dead: 0 }
        for (const row of outboxRows) outbox[row.state as OrderStore.OutboxState] = Dialect.num(row.n)
        const result: OrderStore.StoreStats = {
          documents: Dialect.num(counts[0]?.documents ?? 0),
          waitingForPoll: Dialect.num(counts[0]?.waiting ?? 0),
          held: Dialect.num(counts[0]?.held ?? 0),
          watermark,
          lastPoll: Option.map(Option.fromNullable(last[0]), toPoll),
          outbox
        }
        return result
      },
      (effect) => sql.withTransaction(effect),
      wrap("stats")
    )

    const recordShipNotice = Effect.fn("SqlOrderStore.recordShipNotice")(
      function* (
        notice: ShipNotice.ShipNotice,
        match: { readonly key: string; readonly posRef: Option.Option<string> }
      ) {
        const at = yield* nowMs
        const noticeId = newId("notice")
        const noticeJson = JSON.stringify(encodeNotice(notice))
        const posRef = Option.getOrNull(match.posRef)
        // The unique key decides, not a prior read: two replicas receiving the same retry store it once.
        const stored = yield* sql<{ notice_id: string }>`INSERT INTO pb_ship_notices ${sql.insert({
          notice_id: noticeId,
          idempotency_key: match.key,
          store_id: notice.storeId,
          pos_ref: posRef,
          notice_json: noticeJson,
          received_ms: at
        })} ON CONFLICT (idempotency_key) DO NOTHING RETURNING notice_id`
        if (stored.length === 0) {
          const existing = yield* sql<{ notice_id: string; outbox_id: string | null }>`
            SELECT n.notice_id, o.outbox_id FROM pb_ship_notices n LEFT JOIN pb_outbox o ON o.notice_id = n.notice_id
            WHERE n.idempotency_key = ${match.key} ORDER BY o.seq LIMIT 1`
          return {
            _tag: "Duplicate" as const,
            noticeId: existing[0]?.notice_id ?? "",
            outboxId: existing[0]?.outbox_id ?? ""
          }
        }
        const outboxId = newId("outbox")
        yield* sql`INSERT INTO pb_outbox ${sql.insert({
          outbox_id: outboxId,
          store_id: notice.storeId,
          notice_id: noticeId,
          pos_ref: posRef,
          notice_json: noticeJson,
          state: "pending",
          attempts: 0,
          next_attempt_ms: at,
          last_error: null,
          result: null,
          updated_ms: at
        })}`
        return { _tag: "Stored" as const, noticeId, outboxId }
      },
      (effect) => sql.withTransaction(effect),
      wrap("recordShipNotice")
    )

    const claimWriteBacks = Effect.fn("SqlOrderStore.claimWriteBacks")(
      function* (claim: { readonly limit: number; readonly leaseFor: Duration.Duration }) {
        const at = yield* nowMs
        yield* Dialect.takeWriteLock(sql, d)
        // In flight past its lease means the claimer died: the item is due again.
        const due = yield* sql<OutboxRow>`SELECT * FROM pb_outbox
          WHERE state IN ('pending', 'in-flight') AND next_attempt_ms <= ${at}
          ORDER BY next_attempt_ms, seq LIMIT ${claim.limit} ${d.claimLock}`
        if (due.length === 0) return []
        const until = at + Duration.toMillis(Duration.decode(claim.leaseFor))
        yield* sql`UPDATE pb_outbox SET state = 'in-flight', attempts = attempts + 1, next_attempt_ms = ${until},
          updated_ms = ${at} WHERE outbox_id IN ${sql.in(due.map((row) => row.outbox_id))}`
        return yield* Effect.forEach(due, (row) =>
          toOutbox({
            ...row,
            state: "in-flight",
            attempts: Dialect.num(row.attempts) + 1,
            next_attempt_ms: until,
            updated_ms: at
          })
        )
      },
      (effect) => sql.withTransaction(effect),
      wrap("claimWriteBacks")
    )

    const missing = (id: string) =>
      new OrderStore.StoreFailure({ operation: "outbox", message: `no outbox item "${id}"` })

    const completeWriteBack = Effect.fn("SqlOrderStore.completeWriteBack")(function* (id: string, result: string) {
      const at = yield* nowMs
      const rows = yield* sql<{ outbox_id: string }>`UPDATE pb_outbox
          SET state = 'done', result = ${result}, last_error = NULL, updated_ms = ${at}
          WHERE outbox_id = ${id} RETURNING outbox_id`
      if (rows.length === 0) return yield* missing(id)
    }, wrap("completeWriteBack"))

    const failWriteBack = Effect.fn("SqlOrderStore.failWriteBack")(function* (
      id: string,
      error: string,
      retryAt: Option.Option<DateTime.Utc>
    ) {
      const at = yield* nowMs
      const rows = Option.isSome(retryAt)
        ? yield* sql<{ outbox_id: string }>`UPDATE pb_outbox
              SET state = 'pending', next_attempt_ms = ${millis(retryAt.value)}, last_error = ${error}, updated_ms = ${at}
              WHERE outbox_id = ${id} RETURNING outbox_id`
        : yield* sql<{ outbox_id: string }>`UPDATE pb_outbox
              SET state = 'dead', last_error = ${error}, updated_ms = ${at}
              WHERE outbox_id = ${id} RETURNING outbox_id`
      if (rows.length === 0) return yield* missing(id)
    }, wrap("failWriteBack"))

    const outboxOf = Effect.fn("SqlOrderStore.outbox")(function* (
      storeId: string,
      states?: ReadonlyArray<OrderStore.OutboxState>
    ) {
      if (states !== undefined && states.length === 0) return []
      const rows =
        states === undefined
          ? yield* sql<OutboxRow>`SELECT * FROM pb_outbox WHERE store_id = ${storeId} ORDER BY seq`
          : yield* sql<OutboxRow>`SELECT * FROM pb_outbox WHERE store_id = ${storeId} AND state IN ${sql.in(states)}
                ORDER BY seq`
      return yield* Effect.forEach(rows, toOutbox)
    }, wrap("outbox"))

    const pruneSnapshots = Effect.gen(function* () {
      const at = yield* nowMs
      const expired = yield* sql<{ snapshot_id: string }>`
        DELETE FROM pb_snapshots WHERE expires_ms < ${at} RETURNING snapshot_id`
      for (const chunk of chunks(expired.map((row) => row.snapshot_id))) {
        yield* sql`DELETE FROM pb_snapshot_members WHERE snapshot_id IN ${sql.in(chunk)}`
      }
      if (retention !== undefined) {
        const before = at - Duration.toMillis(retention)
        yield* sql`DELETE FROM pb_history WHERE at_ms < ${before}`
        yield* sql`DELETE FROM pb_polls WHERE at_ms < ${before}`
      }
      return expired.length
    }).pipe(sql.withTransaction, wrap("pruneSnapshots"), Effect.withSpan("SqlOrderStore.pruneSnapshots"))

    const service: OrderStore.OrderStoreService = {
      ingest,
      cursor: cursorOf,
      exportPage,
      recordHeld,
      touch,
      find,
      explain,
      polls,
      stats,
      recordShipNotice,
      claimWriteBacks,
      completeWriteBack,
      failWriteBack,
      outbox: outboxOf,
      pruneSnapshots
    }
    return service
  })

/** The OrderStore on whatever `SqlClient` is provided; run `Migrations` first (the engine layers do). */
export const layer = (options: Options = {}): Layer.Layer<OrderStore.OrderStore, never, SqlClient.SqlClient> =>
  Layer.effect(OrderStore.OrderStore, make(options))
