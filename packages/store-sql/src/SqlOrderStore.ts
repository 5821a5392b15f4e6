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
 * - outbox items are claimed with `FOR UPDATE SKIP LOCKED`, so two replicas never claim the same item;
 * - a later page of a live snapshot moves nothing durable, so it is a read transaction; its poll-log row and
 *   export history go through a write-behind buffer (see `writeTransaction`): a crash can lose up to one
 *   flush interval of that diagnostic history, never a watermark, snapshot, document, cursor or notice.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import {
  ContentHash,
  ExportSnapshot,
  ExportStamp,
  Lru,
  Order,
  OrderStore,
  OrderWindow,
  RefreshRule,
  ShipNotice,
  type SourceDocument
} from "@posbridge/core"
import { Clock, DateTime, Duration, Effect, Layer, Option, ParseResult, Schedule, Schema, type Scope } from "effect"
import * as Dialect from "./internal/Dialect.js"

export interface Options extends OrderStore.Options {
  /**
   * How long document history and the poll log are kept; older entries are dropped by `pruneSnapshots`.
   * Unset (the default): kept forever. Current documents are never dropped.
   */
  readonly historyRetention?: Duration.DurationInput | undefined
  /**
   * Later pages of a poll write their poll-log row and `Exported` history events through a write-behind
   * buffer, flushed in one transaction this often (default 250 ms), when it holds `historyBufferRows` rows
   * (default 500), before any other write transaction of this store, before `explain`/`polls`/`stats`
   * read, and when the layer's scope closes. A crash can lose what is buffered: diagnostic history only.
   */
  readonly historyFlushInterval?: Duration.DurationInput | undefined
  readonly historyBufferRows?: number | undefined
  /** How many decoded orders are kept, keyed by (store, POS id) and checked against the stored JSON. Default 10,000. */
  readonly decodedOrderCache?: number | undefined
  /**
   * How many later export pages are kept, with the generation of the store's documents they were read at
   * (see `readLaterPage`). Default 64; 0 reads every page from the database. A kept page holds its decoded
   * orders: at most this × the page size of them, beside the `decodedOrderCache`.
   */
  readonly exportPageCache?: number | undefined
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

/** `detail` of an `ExportedPage` history row. Older databases also hold one `Exported` row per order. */
interface ExportedPageDetail {
  readonly start: number
  readonly end: number
  readonly page: number
  readonly pages: number
  readonly refs: ReadonlyArray<string>
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

/** Database and decoding errors become the port's `OrderStoreError`; the port's own errors pass through. */
const wrap =
  (operation: string) =>
  <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError> | OrderStore.OrderStoreError, R> =>
    Effect.mapError(self, (e) => {
      if (e instanceof SqlError) {
        const cause = e.cause instanceof Error ? e.cause.message : String(e.cause)
        return new OrderStore.OrderStoreError({ operation, message: `${e.message}: ${cause}` })
      }
      if (ParseResult.isParseError(e)) {
        return new OrderStore.OrderStoreError({ operation, message: `stored data does not decode: ${e.message}` })
      }
      return e as Exclude<E, SqlError | ParseResult.ParseError>
    })

/**
 * The store on the provided `SqlClient`. Scoped: it runs the history write-behind flusher and flushes what is
 * buffered when the scope closes.
 */
export const make = (
  options: Options = {}
): Effect.Effect<OrderStore.OrderStoreService, never, SqlClient.SqlClient | Scope.Scope> =>
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

    /**
     * Decoded orders by (store, POS id), least recently used first. Schema-decoding an order costs tens of
     * microseconds, most of a later page's time; a hit must match the stored JSON exactly, so a changed
     * document is never served from the cache.
     */
    const decoded = new Lru.Lru<string, { readonly json: string; readonly order: Order.Order }>(
      Math.max(0, options.decodedOrderCache ?? 10_000)
    )
    const decodeOrder = (row: DocumentRow, storeId: string) => {
      const key = `${storeId}\u0000${row.pos_ref}`
      const hit = decoded.get(key)
      if (hit !== undefined && hit.json === row.order_json) return Effect.succeed(hit.order)
      return Effect.map(Order.decode(JSON.parse(row.order_json)), (order) => {
        decoded.set(key, { json: row.order_json, order })
        return order
      })
    }

    const toStored = (storeId: string) => (row: DocumentRow) =>
      Effect.map(
        decodeOrder(row, storeId),
        (order): OrderStore.StoredOrder => ({
          order,
          stamp: utc(row.stamp_ms),
          ingestedAt: utc(row.ingested_ms),
          contentHash: row.content_hash,
          heldReasons: row.held_reasons === "[]" ? [] : (JSON.parse(row.held_reasons) as Array<string>)
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

    const pageIncludes = (row: HistoryRow, posRef: string) =>
      (JSON.parse(row.detail ?? "{}") as Partial<ExportedPageDetail>).refs?.includes(posRef) === true

    const toHistory = (row: HistoryRow): OrderStore.HistoryEvent => {
      const at = utc(row.at_ms)
      switch (row.event) {
        case "HeldBack":
          return { _tag: "HeldBack", at, reasons: JSON.parse(row.detail ?? "[]") as Array<string> }
        case "Exported":
        case "ExportedPage": {
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

    /**
     * One history row per page served, not one per order: `pos_ref` is empty (no POS id is) and `detail`
     * lists the page's POS ids. `explain` expands it into an `Exported` event for each of them. Writing a
     * hundred rows per page cost more than everything else a later page does.
     */
    const exportedPage = (
      storeId: string,
      at: number,
      request: OrderStore.ExportRequest,
      pages: number,
      refs: ReadonlyArray<string>
    ): Array<HistoryInsert> =>
      refs.length === 0
        ? []
        : [
            {
              store_id: storeId,
              pos_ref: "",
              at_ms: at,
              event: "ExportedPage",
              reason: null,
              pos_modified_ms: null,
              stamp_ms: null,
              content_hash: null,
              detail: JSON.stringify({
                start: millis(request.window.start),
                end: millis(request.window.end),
                page: request.page,
                pages,
                refs
              } satisfies ExportedPageDetail)
            }
          ]

    type PollInsert = {
      store_id: string
      at_ms: number
      window_start_ms: number
      window_end_ms: number
      page: number
      pages: number
      count: number
      snapshot_id: string
    }
    const insertPolls = (rows: ReadonlyArray<PollInsert>) =>
      Effect.forEach(chunks(rows), (chunk) => sql`INSERT INTO pb_polls ${sql.insert(chunk)}`, { discard: true })

    /** What serving a page answers and writes to the poll log, whichever path served it. */
    const servedPage = (
      request: OrderStore.ExportRequest,
      at: number,
      snapshot: { readonly id: string; readonly total: number },
      split: ReturnType<typeof splitHeld>,
      snapshotCreated: boolean,
      watermarkClamped: boolean
    ) => {
      const pages = ExportSnapshot.pageCount(snapshot.total, request.pageSize)
      const poll: PollInsert = {
        store_id: request.storeId,
        at_ms: at,
        window_start_ms: millis(request.window.start),
        window_end_ms: millis(request.window.end),
        page: request.page,
        pages,
        count: split.orders.length,
        snapshot_id: snapshot.id
      }
      const result: OrderStore.ExportPage = {
        page: request.page,
        pages,
        total: snapshot.total,
        orders: split.orders,
        held: split.held,
        snapshotId: snapshot.id,
        snapshotCreated,
        watermarkClamped
      }
      return { poll, result, history: exportedPage(request.storeId, at, request, pages, split.refs) }
    }

    /**
     * Write-behind for what later pages record (their poll-log row and one `Exported` event per order). A
     * later page changes no watermark, snapshot or document, so it is served by a read transaction and its
     * diagnostic rows are buffered here instead of costing a durable commit per page. Every write
     * transaction drains the buffer first, in the same commit, so history keeps its order (`seq`); a timer,
     * a size threshold, the readers of history and the scope's close flush it otherwise. A crash loses at
     * most what is buffered: never a watermark, snapshot, document, cursor or ship notice.
     */
    const flushEvery = Duration.decode(options.historyFlushInterval ?? Duration.millis(250))
    const flushAtRows = Math.max(1, options.historyBufferRows ?? 500)
    /** Past this many rows (a database refusing writes for a long time) the oldest buffered rows are dropped. */
    const bufferLimit = Math.max(flushAtRows * 100, 50_000)
    let pendingHistory: Array<HistoryInsert> = []
    let pendingPolls: Array<PollInsert> = []
    const pendingRows = () => pendingHistory.length + pendingPolls.length
    type Taken = { readonly history: Array<HistoryInsert>; readonly polls: Array<PollInsert> }
    const takePending = (): Taken => {
      const taken = { history: pendingHistory, polls: pendingPolls }
      pendingHistory = []
      pendingPolls = []
      return taken
    }
    /** A transaction that failed gives its rows back, ahead of anything buffered since. */
    const restorePending = (taken: Taken) =>
      Effect.suspend(() => {
        pendingHistory = taken.history.concat(pendingHistory)
        pendingPolls = taken.polls.concat(pendingPolls)
        const excess = pendingRows() - bufferLimit
        if (excess <= 0) return Effect.void
        const dropHistory = Math.min(excess, pendingHistory.length)
        pendingHistory = pendingHistory.slice(dropHistory)
        pendingPolls = pendingPolls.slice(excess - dropHistory)
        return Effect.logWarning(`dropped ${excess} buffered export history rows: the database refuses writes`)
      })

    /**
     * A write transaction that first writes the buffered rows. They are taken inside the transaction (on
     * SQLite, once the connection is held), so two flushes never reorder them.
     */
    const writeTransaction = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        let taken: Taken | undefined
        return sql
          .withTransaction(
            Effect.suspend(() => {
              taken = takePending()
              const { history, polls } = taken
              return history.length === 0 && polls.length === 0
                ? body
                : Effect.zipRight(Effect.zipRight(insertHistory(history), insertPolls(polls)), body)
            })
          )
          .pipe(Effect.onError(() => (taken === undefined ? Effect.void : restorePending(taken))))
      })

    const flush = Effect.suspend(() => (pendingRows() === 0 ? Effect.void : writeTransaction(Effect.void)))
    let flushing = false
    const scope = yield* Effect.scope
    /** A failed flush has given its rows back; the next one retries them. Serving pages goes on. */
    const flushLogged = flush.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("export history flush failed; retrying", cause))
    )
    const flushInBackground = flushLogged.pipe(Effect.ensuring(Effect.sync(() => (flushing = false))))
    const buffer = (history: ReadonlyArray<HistoryInsert>, poll: PollInsert) =>
      Effect.suspend(() => {
        for (const row of history) pendingHistory.push(row)
        pendingPolls.push(poll)
        // Back-pressure: when pages are served back to back without the event loop ever turning, the forked
        // flush cannot run; the page that finds the buffer this full writes it itself.
        if (pendingRows() >= flushAtRows * 10) return flushLogged
        if (flushing || pendingRows() < flushAtRows) return Effect.void
        flushing = true
        return Effect.asVoid(Effect.forkIn(flushInBackground, scope))
      })
    // Finalizers run last-added first: the timer stops, then whatever is buffered is written.
    yield* Effect.addFinalizer(() =>
      flush.pipe(Effect.catchAllCause((cause) => Effect.logWarning("export history lost at shutdown", cause)))
    )
    // The timer runs on the wall clock whatever Clock the store is given: domain time (a TestClock jumping a
    // day ahead) must not replay every 250 ms tick, and flushing is about real elapsed time anyway.
    yield* Effect.forkScoped(
      Effect.repeat(flushLogged, Schedule.spaced(flushEvery)).pipe(Effect.withClock(Clock.make()))
    )

    const ingest = Effect.fn("SqlOrderStore.ingest")(
      function* (
        store: OrderStore.StoreRef,
        documents: ReadonlyArray<SourceDocument.SourceDocument>,
        cursor: Option.Option<string>
      ) {
        // Validate first, then apply: a bad batch changes nothing.
        for (const doc of documents) {
          if (doc.order.storeId !== store.id) {
            return yield* new OrderStore.OrderStoreError({
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
      writeTransaction,
      wrap("ingest")
    )

    const cursorOf = Effect.fn("SqlOrderStore.cursor")(function* (storeId: string) {
      const rows = yield* sql<{ sync_cursor: string | null }>`
          SELECT sync_cursor FROM pb_stores WHERE store_id = ${storeId}`
      return Option.fromNullable(rows[0]?.sync_cursor)
    }, wrap("cursor"))

    /** The current content of a snapshot's members at positions [offset, offset + pageSize), in order. */
    const selectSnapshotPage = (storeId: string, snapshotId: string, offset: number, pageSize: number) =>
      sql<DocumentRow>`SELECT ${sql.literal(
        documentColumns
          .split(", ")
          .map((c) => `d.${c}`)
          .join(", ")
      )}
        FROM pb_snapshot_members m JOIN pb_documents d ON d.store_id = ${storeId} AND d.pos_ref = m.pos_ref
        WHERE m.snapshot_id = ${snapshotId} AND m.position >= ${offset} AND m.position < ${offset + pageSize}
        ORDER BY m.position`

    /**
     * A read-only transaction: one consistent view across its statements. SQLite's deferred BEGIN reads one
     * WAL snapshot and commits without a sync; PostgreSQL needs REPEATABLE READ for one snapshot across
     * statements (READ COMMITTED takes one per statement).
     */
    const readTransaction = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      sql.withTransaction(
        d.name === "pg" ? Effect.zipRight(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`, body) : body
      )

    /** Applies the request's field rules: held members are returned apart and not recorded as exported. */
    const splitHeld = (request: OrderStore.ExportRequest, stored: ReadonlyArray<OrderStore.StoredOrder>) => {
      const orders: Array<OrderStore.StoredOrder> = []
      const held: Array<{ order: OrderStore.StoredOrder; reasons: ReadonlyArray<string> }> = []
      for (const order of stored) {
        const reasons = request.hold?.(order.order) ?? []
        if (reasons.length > 0) held.push({ order, reasons })
        else orders.push(order)
      }
      return { orders, held, refs: orders.map((o) => o.order.posRef) }
    }

    /** The store's watermark and document generation, and the live snapshot of one window if there is one. */
    const selectPageHeader = (storeId: string, startMs: number, endMs: number) =>
      sql<{
        watermark_ms: unknown
        doc_generation: unknown
        snapshot_id: string | null
        total: unknown
        expires_ms: unknown
      }>`SELECT s.watermark_ms, s.doc_generation, p.snapshot_id, p.total, p.expires_ms
        FROM pb_stores s LEFT JOIN pb_snapshots p
          ON p.store_id = s.store_id AND p.window_start_ms = ${startMs} AND p.window_end_ms = ${endMs}
        WHERE s.store_id = ${storeId}`

    /**
     * Whether a later page can be served without a durable write: the snapshot is live and the watermark
     * would stay where it is (a window whose end was clamped on page 1 and is trusted now moves it).
     */
    const livePage = (
      header: Effect.Effect.Success<ReturnType<typeof selectPageHeader>>[number] | undefined,
      window: OrderWindow.OrderWindow,
      at: number
    ) => {
      if (header === undefined || header.snapshot_id === null || Dialect.num(header.expires_ms) < at) {
        return Option.none()
      }
      const watermark =
        header.watermark_ms == null ? Option.none<DateTime.Utc>() : Option.some(utc(header.watermark_ms))
      const advance = ExportStamp.advanceWatermark(watermark, window, utc(at), tolerance)
      if (!Option.getEquivalence(DateTime.Equivalence)(advance.watermark, watermark)) return Option.none()
      return Option.some({
        snapshot: { id: header.snapshot_id, total: Dialect.num(header.total) },
        generation: Dialect.num(header.doc_generation),
        clamped: advance.clamped
      })
    }

    /**
     * Later pages already read, by (snapshot, offset, size), with the document generation they were read at,
     * least recently used first. While the store's generation is unchanged no document of it has changed,
     * so the page's current content is what was read; any change raises the generation and the page is read
     * again. The entry holds the decoded orders (shared with the decode cache), never the stored JSON.
     */
    const pageCache = new Lru.Lru<
      string,
      { readonly generation: number; readonly stored: ReadonlyArray<OrderStore.StoredOrder> }
    >(Math.max(0, options.exportPageCache ?? 64))
    const pageKey = (storeId: string, snapshotId: string, offset: number, pageSize: number) =>
      `${storeId}\u0000${snapshotId}\u0000${offset}\u0000${pageSize}`

    /**
     * A later page of a live snapshot that leaves the watermark where it is: nothing durable to write (its
     * poll-log row and history go through the write-behind buffer). One statement when the page was read
     * before at the store's current generation; otherwise one read transaction. None when the snapshot is
     * missing or expired, or when the watermark would move: those take the durable path.
     */
    const readLaterPage = (request: OrderStore.ExportRequest) =>
      Effect.gen(function* () {
        const at = yield* nowMs
        const { storeId, window, page, pageSize } = request
        const startMs = millis(window.start)
        const endMs = millis(window.end)
        const offset = (page - 1) * pageSize
        const first = livePage((yield* selectPageHeader(storeId, startMs, endMs))[0], window, at)
        if (Option.isNone(first)) return Option.none<OrderStore.ExportPage>()
        const cached = pageCache.get(pageKey(storeId, first.value.snapshot.id, offset, pageSize))
        let live = first.value
        let stored: ReadonlyArray<OrderStore.StoredOrder>
        if (cached !== undefined && cached.generation === live.generation) {
          stored = cached.stored
        } else {
          const read = yield* readTransaction(
            Effect.gen(function* () {
              const again = livePage((yield* selectPageHeader(storeId, startMs, endMs))[0], window, at)
              if (Option.isNone(again)) return Option.none()
              const rows = yield* selectSnapshotPage(storeId, again.value.snapshot.id, offset, pageSize)
              return Option.some({ live: again.value, rows })
            })
          )
          if (Option.isNone(read)) return Option.none<OrderStore.ExportPage>()
          live = read.value.live
          stored = yield* Effect.forEach(read.value.rows, toStored(storeId))
          pageCache.set(pageKey(storeId, live.snapshot.id, offset, pageSize), { generation: live.generation, stored })
        }
        const { poll, result, history } = servedPage(
          request,
          at,
          live.snapshot,
          splitHeld(request, stored),
          false,
          live.clamped
        )
        yield* buffer(history, poll)
        return Option.some(result)
      })

    const exportPage = Effect.fn("SqlOrderStore.exportPage")(function* (request: OrderStore.ExportRequest) {
      if (request.page > 1 && pagingMode === "snapshot") {
        const later = yield* readLaterPage(request)
        if (Option.isSome(later)) return later.value
      }
      return yield* exportDurably(request)
    }, wrap("exportPage"))

    /** Page 1, an expired or missing snapshot, or a watermark to move: one durable write transaction. */
    const exportDurably = Effect.fn("SqlOrderStore.exportDurably")(
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

        const offset = (page - 1) * pageSize
        const pageRows =
          page < 1
            ? []
            : pagingMode === "snapshot"
              ? yield* selectSnapshotPage(storeId, snapshot.id, offset, pageSize)
              : yield* sql<DocumentRow>`SELECT ${sql.literal(documentColumns)} FROM pb_documents
                WHERE store_id = ${storeId} AND stamp_ms >= ${startMs} AND stamp_ms < ${endExclusiveMs}
                ORDER BY stamp_ms, pos_ref LIMIT ${pageSize} OFFSET ${offset}`
        const { poll, result, history } = servedPage(
          request,
          at,
          snapshot,
          splitHeld(request, yield* Effect.forEach(pageRows, toStored(storeId))),
          created,
          advance.clamped
        )
        yield* insertHistory(history)
        yield* sql`INSERT INTO pb_polls ${sql.insert(poll)}`
        return result
      },
      writeTransaction,
      wrap("exportPage")
    )

    const recordHeld = Effect.fn("SqlOrderStore.recordHeld")(
      function* (storeId: string, posRef: string, reasons: ReadonlyArray<string>) {
        const at = yield* nowMs
        yield* lockStore(storeId)
        const heldReasons = JSON.stringify(reasons)
        const current = yield* sql<{ held_reasons: string }>`SELECT held_reasons FROM pb_documents
          WHERE store_id = ${storeId} AND pos_ref = ${posRef}`
        if (current[0] === undefined) return
        // Held orders are met on every poll of their window; only a change of reasons is written (and raises
        // the store's document generation, migration 0002).
        if (current[0].held_reasons !== heldReasons) {
          yield* sql`UPDATE pb_documents SET held_reasons = ${heldReasons}
            WHERE store_id = ${storeId} AND pos_ref = ${posRef}`
        }
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
      writeTransaction,
      wrap("recordHeld")
    )

    const touch = Effect.fn("SqlOrderStore.touch")(
      function* (storeId: string, order: string) {
        const at = yield* nowMs
        const { watermark } = yield* lockStore(storeId)
        const row = yield* lookup(storeId, order)
        if (Option.isNone(row)) return yield* new OrderStore.OrderNotFound({ storeId, order })
        const current = yield* toStored(storeId)(row.value)
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
      writeTransaction,
      wrap("touch")
    )

    const find = Effect.fn("SqlOrderStore.find")(function* (storeId: string, order: string) {
      const row = yield* lookup(storeId, order)
      if (Option.isNone(row)) return Option.none<OrderStore.StoredOrder>()
      return Option.some(yield* toStored(storeId)(row.value))
    }, wrap("find"))

    const explain = Effect.fn("SqlOrderStore.explain")(
      function* (storeId: string, order: string) {
        const row = yield* lookup(storeId, order)
        if (Option.isNone(row)) return yield* new OrderStore.OrderNotFound({ storeId, order })
        const current = yield* toStored(storeId)(row.value)
        const posRef = current.order.posRef
        const own = yield* sql<HistoryRow & { seq: unknown }>`
          SELECT seq, event, at_ms, reason, pos_modified_ms, stamp_ms, content_hash, detail FROM pb_history
          WHERE store_id = ${storeId} AND pos_ref = ${posRef} ORDER BY seq`
        // The store's page rows whose POS id list mentions this one (a text match, confirmed after parsing).
        const needle = JSON.stringify(posRef)
        const pageRows = yield* sql<HistoryRow & { seq: unknown }>`
          SELECT seq, event, at_ms, reason, pos_modified_ms, stamp_ms, content_hash, detail FROM pb_history
          WHERE store_id = ${storeId} AND pos_ref = '' AND event = 'ExportedPage'
            AND ${d.contains(sql`detail`, needle)} ORDER BY seq`
        const history = [...own, ...pageRows.filter((row) => pageIncludes(row, posRef))].sort(
          (a, b) => Dialect.num(a.seq) - Dialect.num(b.seq)
        )
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
      // One read transaction: the history, notices and write-backs agree with each other. Buffered export
      // history is written first, so explain shows every page served.
      (effect) => Effect.zipRight(flush, sql.withTransaction(effect)),
      wrap("explain")
    )

    const polls = Effect.fn("SqlOrderStore.polls")(function* (storeId: string, limit: number) {
      yield* flush
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
        const result: OrderStore.OrderStats = {
          documents: Dialect.num(counts[0]?.documents ?? 0),
          waitingForPoll: Dialect.num(counts[0]?.waiting ?? 0),
          held: Dialect.num(counts[0]?.held ?? 0),
          watermark,
          lastPoll: Option.map(Option.fromNullable(last[0]), toPoll),
          outbox
        }
        return result
      },
      // Buffered poll-log rows are written first: `lastPoll` is the last page served.
      (effect) => Effect.zipRight(flush, sql.withTransaction(effect)),
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
      new OrderStore.OrderStoreError({ operation: "outbox", message: `no outbox item "${id}"` })

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
    }).pipe(writeTransaction, wrap("pruneSnapshots"), Effect.withSpan("SqlOrderStore.pruneSnapshots"))

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
  Layer.scoped(OrderStore.OrderStore, make(options))
