/**
 * The rows the store reads, as Schemas, and their mapping to the port's types. Every row read from the
 * database is decoded by one of these (decoders are built once, by `SqlSchema` or `Schema.decodeUnknown`);
 * a row that does not decode is an `OrderStoreError`, never a value of the wrong type.
 *
 * Numbers: PostgreSQL returns BIGINT (every `_ms` column, `doc_generation`, `seq`) and `COUNT(*)` as strings,
 * SQLite as numbers; `Int` accepts both. Orders are decoded apart (`Documents`), through a cache.
 *
 * The rows every later page and every ingest batch read (`DocumentRow`, `KnownRow`, `PageHeaderRow`) keep
 * instants as epoch milliseconds and their mapping makes the DateTimes: a Schema transform per instant
 * cost several times the hand mapping it replaced, on the hottest path. The others decode to DateTimes.
 */
import { OrderStore, type RefreshRule, ShipNotice } from "@posbridge/core"
import { DateTime, Option, ParseResult, Schema } from "effect"

/** An integer column: a number from SQLite, a number or a numeric string (BIGINT, COUNT) from PostgreSQL. */
export const Int = Schema.Union(Schema.Number, Schema.NumberFromString)

/** Epoch milliseconds, as every instant is stored. */
export const Instant = Schema.compose(Int, Schema.DateTimeUtcFromNumber)

export const millis = (t: DateTime.Utc): number => DateTime.toEpochMillis(t)

/**
 * An integer column as SQLite (a number) or PostgreSQL (a number, a BIGINT string or a `->>` text) gives it;
 * undefined for anything else. For the hot reads mapped by hand; the Schemas here remain what says why a row
 * does not decode.
 */
export const integer = (u: unknown): number | undefined => {
  const n = typeof u === "number" ? u : typeof u === "string" && u !== "" ? Number(u) : Number.NaN
  return Number.isSafeInteger(n) ? n : undefined
}

const decodeReasons = ParseResult.decodeUnknown(Schema.parseJson(Schema.Array(Schema.String)))

/** `held_reasons`: a JSON array, `[]` (read without parsing it, as almost every row has it) when not held. */
const Reasons = Schema.transformOrFail(Schema.String, Schema.Array(Schema.String), {
  strict: true,
  decode: (json) => (json === "[]" ? ParseResult.succeed([]) : decodeReasons(json)),
  encode: (reasons) => ParseResult.succeed(JSON.stringify(reasons))
})

const RestampReason: Schema.Schema<RefreshRule.RestampReason> = Schema.Literal(
  "pos-resaved",
  "content-changed",
  "touched"
)

// ---- pb_stores

export const StoreRow = Schema.Struct({
  sync_cursor: Schema.NullOr(Schema.String),
  watermark_ms: Schema.NullOr(Instant)
})

/** The store row left-joined to one window's snapshot: all a later page needs to know before reading. */
export const PageHeaderRow = Schema.Struct({
  watermark_ms: Schema.NullOr(Int),
  doc_generation: Int,
  snapshot_id: Schema.NullOr(Schema.String),
  total: Schema.NullOr(Int),
  expires_ms: Schema.NullOr(Int)
})

// ---- pb_documents

export const DocumentRow = Schema.Struct({
  pos_ref: Schema.String,
  order_json: Schema.String,
  content_hash: Schema.String,
  stamp_ms: Int,
  ingested_ms: Int,
  held_reasons: Reasons
})
export type DocumentRow = typeof DocumentRow.Type

/** The columns of `DocumentRow`, to select (`prefix` names the table's alias in a join). */
export const documentColumns = (prefix = ""): string =>
  Object.keys(DocumentRow.fields)
    .map((column) => `${prefix}${column}`)
    .join(", ")

/** What RefreshRule needs of a stored version. */
export const KnownRow = Schema.Struct({
  pos_ref: Schema.String,
  pos_modified_ms: Int,
  content_hash: Schema.String,
  stamp_ms: Int
})

export const toKnown = (row: typeof KnownRow.Type): RefreshRule.StoredState => ({
  posModifiedAt: DateTime.unsafeMake(row.pos_modified_ms),
  contentHash: row.content_hash,
  stamp: DateTime.unsafeMake(row.stamp_ms)
})

// ---- pb_snapshots

export const SnapshotRow = Schema.Struct({ snapshot_id: Schema.String, total: Int, expires_ms: Int })
export const SnapshotIdRow = Schema.Struct({ snapshot_id: Schema.String })
export const CountRow = Schema.Struct({ n: Int })

// ---- pb_history

/**
 * `detail` of an `ExportedPage` row: the window, the page and the POS ids it listed. Per-order `Exported`
 * rows written by earlier versions have no `refs`.
 */
const ExportedDetail = Schema.Struct({
  start: Schema.Number,
  end: Schema.Number,
  page: Schema.Number,
  pages: Schema.Number,
  refs: Schema.optional(Schema.Array(Schema.String))
})
export type ExportedDetail = typeof ExportedDetail.Type

const ChangeRow = Schema.Struct({
  seq: Int,
  event: Schema.Literal("Inserted", "Restamped"),
  at_ms: Instant,
  reason: Schema.NullOr(RestampReason),
  pos_modified_ms: Instant,
  stamp_ms: Instant,
  content_hash: Schema.NullOr(Schema.String)
})
const HeldRow = Schema.Struct({ seq: Int, event: Schema.Literal("HeldBack"), at_ms: Instant, detail: Reasons })
const ExportedRow = Schema.Struct({
  seq: Int,
  event: Schema.Literal("Exported", "ExportedPage"),
  at_ms: Instant,
  detail: Schema.parseJson(ExportedDetail)
})

export const HistoryRow = Schema.Union(ChangeRow, HeldRow, ExportedRow)
export type HistoryRow = typeof HistoryRow.Type
export const historyColumns = "seq, event, at_ms, reason, pos_modified_ms, stamp_ms, content_hash, detail"

/** Whether a history row is an export page that listed `posRef`. */
export const listsRef = (row: HistoryRow, posRef: string): boolean =>
  row.event === "ExportedPage" && row.detail.refs?.includes(posRef) === true

export const toHistory = (row: HistoryRow): OrderStore.HistoryEvent => {
  switch (row.event) {
    case "HeldBack":
      return { _tag: "HeldBack", at: row.at_ms, reasons: row.detail }
    case "Exported":
    case "ExportedPage":
      return {
        _tag: "Exported",
        at: row.at_ms,
        window: { start: DateTime.unsafeMake(row.detail.start), end: DateTime.unsafeMake(row.detail.end) },
        page: row.detail.page,
        pages: row.detail.pages
      }
    default:
      return {
        _tag: row.event,
        at: row.at_ms,
        reason: row.reason ?? undefined,
        posModifiedAt: row.pos_modified_ms,
        stamp: row.stamp_ms,
        contentHash: row.content_hash ?? ""
      }
  }
}

/** A row to insert into `pb_history`. */
export type HistoryInsert = {
  readonly store_id: string
  readonly pos_ref: string
  readonly at_ms: number
  readonly event: "Inserted" | "Restamped" | "HeldBack" | "ExportedPage"
  readonly reason: string | null
  readonly pos_modified_ms: number | null
  readonly stamp_ms: number | null
  readonly content_hash: string | null
  readonly detail: string | null
}

export const changeInsert = (
  storeId: string,
  at: number,
  change: {
    readonly event: "Inserted" | "Restamped"
    readonly reason: RefreshRule.RestampReason | null
    readonly posModifiedAt: DateTime.Utc
    readonly stamp: DateTime.Utc
    readonly contentHash: string
    readonly posRef: string
  }
): HistoryInsert => ({
  store_id: storeId,
  pos_ref: change.posRef,
  at_ms: at,
  event: change.event,
  reason: change.reason,
  pos_modified_ms: millis(change.posModifiedAt),
  stamp_ms: millis(change.stamp),
  content_hash: change.contentHash,
  detail: null
})

export const heldInsert = (storeId: string, at: number, held: OrderStore.HeldOrder): HistoryInsert => ({
  store_id: storeId,
  pos_ref: held.order.order.posRef,
  at_ms: at,
  event: "HeldBack",
  reason: null,
  pos_modified_ms: null,
  stamp_ms: null,
  content_hash: null,
  detail: JSON.stringify(held.reasons)
})

// ---- pb_polls

export const PollRow = Schema.Struct({
  store_id: Schema.String,
  at_ms: Instant,
  window_start_ms: Instant,
  window_end_ms: Instant,
  page: Int,
  pages: Int,
  count: Int,
  snapshot_id: Schema.String
})

export const toPoll = (row: typeof PollRow.Type): OrderStore.PollRecord => ({
  at: row.at_ms,
  storeId: row.store_id,
  window: { start: row.window_start_ms, end: row.window_end_ms },
  page: row.page,
  pages: row.pages,
  count: row.count,
  snapshotId: row.snapshot_id
})

/** A row to insert into `pb_polls`. */
export type PollInsert = {
  readonly store_id: string
  readonly at_ms: number
  readonly window_start_ms: number
  readonly window_end_ms: number
  readonly page: number
  readonly pages: number
  readonly count: number
  readonly snapshot_id: string
}

// ---- pb_ship_notices, pb_outbox

const NoticeJson = Schema.parseJson(ShipNotice.ShipNotice)
export const encodeNotice = Schema.encodeSync(NoticeJson)

export const NoticeRow = Schema.Struct({
  notice_id: Schema.String,
  idempotency_key: Schema.String,
  store_id: Schema.String,
  pos_ref: Schema.NullOr(Schema.String),
  notice_json: NoticeJson,
  received_ms: Instant
})

export const toNotice = (row: typeof NoticeRow.Type): OrderStore.StoredShipNotice => ({
  id: row.notice_id,
  key: row.idempotency_key,
  storeId: row.store_id,
  posRef: Option.fromNullable(row.pos_ref),
  notice: row.notice_json,
  receivedAt: row.received_ms
})

export const OutboxRow = Schema.Struct({
  outbox_id: Schema.String,
  store_id: Schema.String,
  notice_id: Schema.String,
  pos_ref: Schema.NullOr(Schema.String),
  notice_json: NoticeJson,
  state: OrderStore.OutboxState,
  attempts: Int,
  next_attempt_ms: Instant,
  last_error: Schema.NullOr(Schema.String),
  result: Schema.NullOr(Schema.String),
  updated_ms: Instant
})

export const toOutbox = (row: typeof OutboxRow.Type): OrderStore.OutboxItem => ({
  id: row.outbox_id,
  storeId: row.store_id,
  noticeId: row.notice_id,
  posRef: Option.fromNullable(row.pos_ref),
  notice: row.notice_json,
  state: row.state,
  attempts: row.attempts,
  nextAttemptAt: row.next_attempt_ms,
  lastError: Option.fromNullable(row.last_error),
  result: Option.fromNullable(row.result),
  updatedAt: row.updated_ms
})

/** A duplicate notice: the first one's id and its outbox item's. */
export const DuplicateRow = Schema.Struct({ notice_id: Schema.String, outbox_id: Schema.NullOr(Schema.String) })

export const OutboxCountRow = Schema.Struct({ state: OrderStore.OutboxState, n: Int })

// ---- pb_refresh_calls

export const RefreshCallRow = Schema.Struct({
  store_id: Schema.String,
  at_ms: Instant,
  reason: OrderStore.RefreshReason,
  pos_ref: Schema.NullOr(Schema.String),
  outcome: OrderStore.RefreshOutcome,
  message: Schema.NullOr(Schema.String)
})
export const refreshCallColumns = Object.keys(RefreshCallRow.fields).join(", ")

export const toRefreshCall = (row: typeof RefreshCallRow.Type): OrderStore.RefreshCall => ({
  storeId: row.store_id,
  at: row.at_ms,
  reason: row.reason,
  posRef: Option.fromNullable(row.pos_ref),
  outcome: row.outcome,
  message: Option.fromNullable(row.message)
})

/** The row `recordRefresh` inserts. */
export const refreshCallInsert = (call: OrderStore.RefreshCall) => ({
  store_id: call.storeId,
  at_ms: millis(call.at),
  reason: call.reason,
  pos_ref: Option.getOrNull(call.posRef),
  outcome: call.outcome,
  message: Option.getOrNull(call.message)
})

// ---- stats

export const DocumentCountsRow = Schema.Struct({
  watermark_ms: Schema.NullOr(Instant),
  documents: Int,
  waiting: Int,
  held: Int
})
