/**
 * Serving export pages, recording the holds they meet, and pruning snapshots.
 *
 * - Page 1 (and a later page whose snapshot is missing or expired, or whose window would still move the
 *   watermark) is one durable write transaction under the store's lock: it freezes the snapshot, advances
 *   the watermark, records the page's new holds and logs the poll.
 * - A later page of a live snapshot moves nothing durable: it is read (one statement when the page is kept
 *   at the store's current document generation, else one read transaction) and its poll-log row and history
 *   go to the write-behind buffer.
 * - A new hold is never written behind. A later page that meets one (a version not held before, or held
 *   for other reasons) is served by the durable path instead, which records the hold in the page's own
 *   transaction before answering. A hold is new once per version, so later pages stay reads on every poll
 *   after the first that met it.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { ExportSnapshot, ExportStamp, OrderStore, OrderWindow } from "@posbridge/core"
import { Clock, DateTime, Duration, Effect, Option, Schema } from "effect"
import type * as Dialect from "./Dialect.js"
import type { Documents } from "./Documents.js"
import type { HistoryBuffer } from "./HistoryBuffer.js"
import * as PageCache from "./PageCache.js"
import { pruneHistory } from "./Retention.js"
import {
  documentColumns,
  type ExportedDetail,
  type HistoryInsert,
  heldInsert,
  millis,
  PageHeaderRow,
  type PollInsert,
  SnapshotIdRow,
  SnapshotRow
} from "./Rows.js"
import { chunks, countOf, lockStore, newId, readTransaction, wrap } from "./Sql.js"

export interface Options extends OrderStore.Options {
  readonly historyRetention?: Duration.DurationInput | undefined
  readonly exportPageCache?: number | undefined
}

type Snapshot = { readonly id: string; readonly total: number }

/** What serving a page answers and writes to the poll log and history, whichever path served it. */
const servedPage = (
  request: OrderStore.ExportRequest,
  at: number,
  snapshot: Snapshot,
  split: ReturnType<typeof OrderStore.splitHeld>,
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
  // One history row per page served, not one per order: `pos_ref` is empty (no POS id is) and `detail` lists
  // the page's POS ids. `explain` expands it into an `Exported` event for each of them. Writing a hundred
  // rows per page cost more than everything else a later page does.
  const refs = split.orders.map((o) => o.order.posRef)
  const history: Array<HistoryInsert> =
    refs.length === 0
      ? []
      : [
          {
            store_id: request.storeId,
            pos_ref: "",
            at_ms: at,
            event: "ExportedPage",
            reason: null,
            pos_modified_ms: null,
            stamp_ms: null,
            content_hash: null,
            detail: JSON.stringify({
              start: poll.window_start_ms,
              end: poll.window_end_ms,
              page: request.page,
              pages,
              refs
            } satisfies ExportedDetail)
          }
        ]
  return { poll, result, history }
}

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  documents: Documents,
  history: HistoryBuffer,
  options: Options
): Pick<OrderStore.OrderStoreService, "exportPage" | "pruneSnapshots"> => {
  const tolerance = options.watermarkTolerance ?? ExportStamp.defaultTolerance
  const ttl = options.snapshotTtl ?? ExportSnapshot.defaultTtl
  const pagingMode = options.pagingMode ?? "snapshot"
  const retention = options.historyRetention === undefined ? undefined : Duration.decode(options.historyRetention)
  const lock = lockStore(sql, d)
  const inReadTransaction = readTransaction(sql, d)
  const pageCache = PageCache.make(options.exportPageCache)

  /**
   * The current content of a snapshot's members at positions [offset, offset + pageSize), in order, as the
   * driver returns them (`Documents.storedRows` maps them).
   */
  const selectSnapshotPage = (b: { storeId: string; snapshotId: string; offset: number; size: number }) =>
    sql<Record<string, unknown>>`SELECT ${sql.literal(documentColumns("d."))}
      FROM pb_snapshot_members m JOIN pb_documents d ON d.store_id = ${b.storeId} AND d.pos_ref = m.pos_ref
      WHERE m.snapshot_id = ${b.snapshotId} AND m.position >= ${b.offset} AND m.position < ${b.offset + b.size}
      ORDER BY m.position`

  /** A window's members by offset, with no snapshot: the `offset` paging mode, for mutation tests only. */
  const selectOffsetPage = (b: { storeId: string; start: number; end: number; offset: number; size: number }) =>
    sql<Record<string, unknown>>`SELECT ${sql.literal(documentColumns())} FROM pb_documents
      WHERE store_id = ${b.storeId} AND stamp_ms >= ${b.start} AND stamp_ms < ${b.end}
      ORDER BY stamp_ms, pos_ref LIMIT ${b.size} OFFSET ${b.offset}`

  /** The store's watermark and document generation, and the live snapshot of one window if there is one. */
  const selectPageHeader = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, start: Schema.Number, end: Schema.Number }),
    Result: PageHeaderRow,
    execute: (b) => sql`SELECT s.watermark_ms, s.doc_generation, p.snapshot_id, p.total, p.expires_ms
      FROM pb_stores s LEFT JOIN pb_snapshots p
        ON p.store_id = s.store_id AND p.window_start_ms = ${b.start} AND p.window_end_ms = ${b.end}
      WHERE s.store_id = ${b.storeId}`
  })

  /**
   * Whether a later page can be served without a durable write: the snapshot is live and the watermark
   * would stay where it is (a window whose end was clamped on page 1 and is trusted now moves it).
   */
  const livePage = (header: Option.Option<typeof PageHeaderRow.Type>, window: OrderWindow.OrderWindow, at: number) => {
    if (Option.isNone(header)) return Option.none()
    const { snapshot_id, total, expires_ms, watermark_ms, doc_generation } = header.value
    if (snapshot_id === null || total === null || expires_ms === null || expires_ms < at) return Option.none()
    const watermark = Option.map(Option.fromNullable(watermark_ms), DateTime.unsafeMake)
    const advance = ExportStamp.advanceWatermark(watermark, window, DateTime.unsafeMake(at), tolerance)
    if (!Option.getEquivalence(DateTime.Equivalence)(advance.watermark, watermark)) return Option.none()
    return Option.some({ snapshot: { id: snapshot_id, total }, generation: doc_generation, clamped: advance.clamped })
  }

  /**
   * A later page of a live snapshot that leaves the watermark where it is and meets no new hold: nothing
   * durable to write. None when the snapshot is missing or expired, the watermark would move, or a hold is
   * new: those take the durable path.
   */
  const readLaterPage = (request: OrderStore.ExportRequest) =>
    Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      const { storeId, window, page, pageSize } = request
      const bounds = { storeId, start: millis(window.start), end: millis(window.end) }
      const offset = (page - 1) * pageSize
      const first = livePage(yield* selectPageHeader(bounds), window, at)
      if (Option.isNone(first)) return Option.none<OrderStore.ExportPage>()
      const key = PageCache.key(storeId, first.value.snapshot.id, offset, pageSize)
      let live = first.value
      let members = pageCache.get(key, live.generation)
      if (members === undefined) {
        const read = yield* inReadTransaction(
          Effect.gen(function* () {
            const again = livePage(yield* selectPageHeader(bounds), window, at)
            if (Option.isNone(again)) return Option.none()
            const rows = yield* selectSnapshotPage({
              storeId,
              snapshotId: again.value.snapshot.id,
              offset,
              size: pageSize
            })
            return Option.some({ live: again.value, rows })
          })
        )
        if (Option.isNone(read)) return Option.none<OrderStore.ExportPage>()
        live = read.value.live
        members = yield* documents.storedRows(storeId, read.value.rows)
        pageCache.set(PageCache.key(storeId, live.snapshot.id, offset, pageSize), live.generation, members)
      }
      const split = OrderStore.splitHeld(request.hold, members)
      if (split.held.some((h) => h.isNew)) return Option.none<OrderStore.ExportPage>()
      const served = servedPage(request, at, live.snapshot, split, false, live.clamped)
      yield* history.buffer(served.history, served.poll)
      return Option.some(served.result)
    })

  const selectSnapshot = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, start: Schema.Number, end: Schema.Number }),
    Result: SnapshotRow,
    // Locked so a concurrent prune cannot delete the members while this page reads them.
    execute: ({ storeId, start, end }) => sql`SELECT snapshot_id, total, expires_ms FROM pb_snapshots
      WHERE store_id = ${storeId} AND window_start_ms = ${start} AND window_end_ms = ${end} ${d.lockRow}`
  })
  const deleteSnapshots = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, start: Schema.Number, end: Schema.Number }),
    Result: SnapshotIdRow,
    execute: ({ storeId, start, end }) => sql`DELETE FROM pb_snapshots
      WHERE store_id = ${storeId} AND window_start_ms = ${start} AND window_end_ms = ${end} RETURNING snapshot_id`
  })
  /** Freezes the window's members (page 1, or a snapshot gone), replacing any earlier snapshot of it. */
  const freeze = (storeId: string, window: OrderWindow.OrderWindow, at: number) =>
    Effect.gen(function* () {
      const bounds = { storeId, start: millis(window.start), end: millis(window.end) }
      const endExclusive = millis(OrderWindow.endExclusive(window))
      const id = newId("snap")
      if (pagingMode !== "snapshot") {
        const counted = yield* countOf(sql`SELECT COUNT(*) AS n FROM pb_documents
          WHERE store_id = ${storeId} AND stamp_ms >= ${bounds.start} AND stamp_ms < ${endExclusive}`)
        return { id, total: counted }
      }
      for (const old of yield* deleteSnapshots(bounds)) {
        yield* sql`DELETE FROM pb_snapshot_members WHERE snapshot_id = ${old.snapshot_id}`
      }
      yield* sql`INSERT INTO pb_snapshot_members (snapshot_id, position, pos_ref)
        SELECT ${id}, ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM pb_documents
        WHERE store_id = ${storeId} AND stamp_ms >= ${bounds.start} AND stamp_ms < ${endExclusive}`
      const total = yield* countOf(sql`SELECT COUNT(*) AS n FROM pb_snapshot_members WHERE snapshot_id = ${id}`)
      yield* sql`INSERT INTO pb_snapshots ${sql.insert({
        snapshot_id: id,
        store_id: storeId,
        window_start_ms: bounds.start,
        window_end_ms: bounds.end,
        total,
        created_ms: at,
        expires_ms: at + Duration.toMillis(ttl)
      })}`
      return { id, total }
    })

  /** Page 1, an expired or missing snapshot, a watermark to move or a new hold: one durable transaction. */
  const exportDurably = Effect.fn("SqlOrderStore.exportDurably")(
    function* (request: OrderStore.ExportRequest) {
      const at = yield* Clock.currentTimeMillis
      const { storeId, window, page, pageSize } = request
      const { watermark } = yield* lock(storeId)
      const bounds = { storeId, start: millis(window.start), end: millis(window.end) }

      let snapshot: Snapshot | undefined
      if (page > 1 && pagingMode === "snapshot") {
        const row = yield* selectSnapshot(bounds)
        if (Option.isSome(row) && !(row.value.expires_ms < at)) {
          snapshot = { id: row.value.snapshot_id, total: row.value.total }
        }
      }
      const created = snapshot === undefined
      if (snapshot === undefined) snapshot = yield* freeze(storeId, window, at)

      const advance = ExportStamp.advanceWatermark(watermark, window, DateTime.unsafeMake(at), tolerance)
      if (Option.isSome(advance.watermark)) {
        yield* sql`UPDATE pb_stores SET watermark_ms = ${millis(advance.watermark.value)} WHERE store_id = ${storeId}`
      }

      const offset = (page - 1) * pageSize
      const rows =
        page < 1
          ? []
          : pagingMode === "snapshot"
            ? yield* selectSnapshotPage({ storeId, snapshotId: snapshot.id, offset, size: pageSize })
            : yield* selectOffsetPage({
                storeId,
                start: bounds.start,
                end: millis(OrderWindow.endExclusive(window)),
                offset,
                size: pageSize
              })
      const split = OrderStore.splitHeld(request.hold, yield* documents.storedRows(storeId, rows))
      // New holds only: a held order is met on every poll of its window, and writing its unchanged reasons
      // again would raise the store's document generation (migration 0002) for nothing.
      const newHolds = split.held.filter((h) => h.isNew)
      for (const h of newHolds) {
        yield* sql`UPDATE pb_documents SET held_reasons = ${JSON.stringify(h.reasons)}
          WHERE store_id = ${storeId} AND pos_ref = ${h.order.order.posRef}`
      }
      const served = servedPage(request, at, snapshot, split, created, advance.clamped)
      yield* history.insertHistory([...newHolds.map((h) => heldInsert(storeId, at, h)), ...served.history])
      yield* history.insertPolls([served.poll])
      return served.result
    },
    history.writeTransaction,
    wrap("exportPage")
  )

  const exportPage = Effect.fn("SqlOrderStore.exportPage")(function* (request: OrderStore.ExportRequest) {
    if (request.page > 1 && pagingMode === "snapshot") {
      const later = yield* readLaterPage(request)
      if (Option.isSome(later)) return later.value
    }
    return yield* exportDurably(request)
  }, wrap("exportPage"))

  const expire = SqlSchema.findAll({
    Request: Schema.Number,
    Result: SnapshotIdRow,
    execute: (at) => sql`DELETE FROM pb_snapshots WHERE expires_ms < ${at} RETURNING snapshot_id`
  })

  const pruneSnapshots = Effect.gen(function* () {
    const at = yield* Clock.currentTimeMillis
    const expired = yield* expire(at)
    for (const chunk of chunks(expired.map((row) => row.snapshot_id))) {
      yield* sql`DELETE FROM pb_snapshot_members WHERE snapshot_id IN ${sql.in(chunk)}`
    }
    if (retention !== undefined) {
      const before = at - Duration.toMillis(retention)
      yield* pruneHistory(sql, before)
    }
    return expired.length
  }).pipe(history.writeTransaction, wrap("pruneSnapshots"), Effect.withSpan("SqlOrderStore.pruneSnapshots"))

  return { exportPage, pruneSnapshots }
}
