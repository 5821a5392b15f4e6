/**
 * The OrderStore port: posbridge's own copy of every POS document, the export snapshots ShipStation pages
 * through, the history behind `explain`, and the ship-notice outbox.
 *
 * Implementations must keep DESIGN.md's invariants: ingest and snapshot creation for one store are
 * serialized; a batch and its cursor commit together; a ship notice is durable before `recordShipNotice`
 * returns; a hold is recorded by the export that meets it. `MemoryOrderStore` is the reference
 * implementation the SQL store is tested against. The pure helpers at the end are the decisions both
 * implementations share.
 */
import { Context, DateTime, Duration, type Effect, Either, Option, Schema } from "effect"
import type { DocumentKind } from "./DocumentKind.js"
import type { PagingMode } from "./ExportSnapshot.js"
import type { StampRule } from "./ExportStamp.js"
import type { Order } from "./Order.js"
import type { OrderWindow } from "./OrderWindow.js"
import type { Decision, IgnoreReason, RestampReason } from "./RefreshRule.js"
import { needsAttention, type ShipNotice } from "./ShipNotice.js"
import type { SourceDocument } from "./SourceDocument.js"

export class OrderNotFound extends Schema.TaggedError<OrderNotFound>()("OrderNotFound", {
  storeId: Schema.String,
  order: Schema.String
}) {
  override get message() {
    return `Store "${this.storeId}" has no order "${this.order}" (looked up by POS id, then by order number).`
  }
}

export class OrderStoreError extends Schema.TaggedError<OrderStoreError>()("OrderStoreError", {
  operation: Schema.String,
  message: Schema.String
}) {}

export interface StoreRef {
  readonly id: string
  readonly kind: DocumentKind
}

export interface IngestSummary {
  readonly inserted: number
  readonly restamped: { readonly [K in RestampReason]: number }
  readonly unchanged: number
  readonly ignored: { readonly [K in IgnoreReason]: number }
}

export interface StoredOrder {
  readonly order: Order
  readonly stamp: DateTime.Utc
  readonly ingestedAt: DateTime.Utc
  readonly contentHash: string
  /** Reasons the current version is held back from export, if it is. */
  readonly heldReasons: ReadonlyArray<string>
}

export interface ExportRequest {
  readonly storeId: string
  readonly window: OrderWindow
  /** 1-based. */
  readonly page: number
  readonly pageSize: number
  /**
   * ShipStation's field rules, run on each order of the page: reasons to hold it back, or none. A held order
   * is not recorded as exported (nor counted in the poll); the store records the hold itself, durably and in
   * the page's own transaction, and returns it in `held`.
   */
  readonly hold?: ((order: Order) => ReadonlyArray<string>) | undefined
}

export interface HeldOrder {
  /** The member as stored once this page is served: `heldReasons` are the reasons below. */
  readonly order: StoredOrder
  readonly reasons: ReadonlyArray<string>
  /**
   * True when this page recorded the hold: this version was not held before, or was held for other reasons.
   * A held order is met again on every poll of its window; only a new hold is worth a warning.
   */
  readonly isNew: boolean
}

export interface ExportPage {
  readonly page: number
  /** The same on every page of one snapshot; 0 for an empty window. */
  readonly pages: number
  readonly total: number
  /** Current content of each member on this page, in snapshot order, except the held ones. */
  readonly orders: ReadonlyArray<StoredOrder>
  /** Members of this page that `hold` held back, with their reasons, already recorded. */
  readonly held: ReadonlyArray<HeldOrder>
  readonly snapshotId: string
  /** True when this request froze a new snapshot (page 1, or a later page whose snapshot had expired). */
  readonly snapshotCreated: boolean
  /** True when the window end was too far ahead of the bridge clock to move the watermark. */
  readonly watermarkClamped: boolean
}

export interface PollRecord {
  readonly at: DateTime.Utc
  readonly storeId: string
  readonly window: OrderWindow
  readonly page: number
  readonly pages: number
  readonly count: number
  readonly snapshotId: string
}

export type HistoryEvent =
  | {
      readonly _tag: "Inserted" | "Restamped"
      readonly at: DateTime.Utc
      readonly reason?: RestampReason | undefined
      readonly posModifiedAt: DateTime.Utc
      readonly stamp: DateTime.Utc
      readonly contentHash: string
    }
  | { readonly _tag: "HeldBack"; readonly at: DateTime.Utc; readonly reasons: ReadonlyArray<string> }
  | {
      readonly _tag: "Exported"
      readonly at: DateTime.Utc
      readonly window: OrderWindow
      readonly page: number
      readonly pages: number
    }

/**
 * `attention`: the notice was doubtful (`ShipNotice.needsAttention`): stored, never claimed, written back only
 * when an operator decides (`resolveWriteBack`). `dead`: failed `maxAttempts` times.
 */
export const OutboxState = Schema.Literal("pending", "in-flight", "done", "dead", "attention")
export type OutboxState = typeof OutboxState.Type

export interface OutboxItem {
  readonly id: string
  readonly storeId: string
  readonly noticeId: string
  readonly posRef: Option.Option<string>
  readonly notice: ShipNotice
  readonly state: OutboxState
  readonly attempts: number
  readonly nextAttemptAt: DateTime.Utc
  readonly lastError: Option.Option<string>
  readonly result: Option.Option<string>
  readonly updatedAt: DateTime.Utc
}

export type WriteBackDecision = "write-back" | "dismiss"

export interface StoredShipNotice {
  readonly id: string
  readonly key: string
  readonly storeId: string
  readonly posRef: Option.Option<string>
  readonly notice: ShipNotice
  readonly receivedAt: DateTime.Utc
}

export interface Explanation {
  readonly storeId: string
  readonly current: StoredOrder
  /** Oldest first: every ingest and restamp with its reason, holds, and each export that included it. */
  readonly history: ReadonlyArray<HistoryEvent>
  readonly shipNotices: ReadonlyArray<StoredShipNotice>
  readonly writeBacks: ReadonlyArray<OutboxItem>
}

/** Why posbridge asked ShipStation to refresh a store. */
export const RefreshReason = Schema.Literal("touch", "arrival")
export type RefreshReason = typeof RefreshReason.Type
/** What ShipStation answered: it started a refresh, or why not. */
export const RefreshOutcome = Schema.Literal("requested", "refused", "rate-limited", "unavailable", "failed")
export type RefreshOutcome = typeof RefreshOutcome.Type

export interface RefreshCall {
  readonly storeId: string
  /** When posbridge called ShipStation. */
  readonly at: DateTime.Utc
  readonly reason: RefreshReason
  /** The order a touch named; None for a refresh on arrival. */
  readonly posRef: Option.Option<string>
  readonly outcome: RefreshOutcome
  /** ShipStation's or the network's one-sentence reason when not requested (never a credential). */
  readonly message: Option.Option<string>
}

export interface OrderStats {
  readonly documents: number
  /** Versions stamped at or after the watermark: not yet inside any served window. */
  readonly waitingForPoll: number
  readonly held: number
  readonly watermark: Option.Option<DateTime.Utc>
  readonly lastPoll: Option.Option<PollRecord>
  readonly outbox: { readonly [K in OutboxState]: number }
}

export interface OrderStoreService {
  /** Runs RefreshRule on each document and commits them with the new cursor in one transaction. */
  readonly ingest: (
    store: StoreRef,
    documents: ReadonlyArray<SourceDocument>,
    cursor: Option.Option<string>
  ) => Effect.Effect<IngestSummary, OrderStoreError>
  readonly cursor: (storeId: string) => Effect.Effect<Option.Option<string>, OrderStoreError>
  /**
   * Page 1 freezes a snapshot, advances the watermark and logs the poll; later pages read the snapshot. New
   * holds are recorded (reasons on the document, a `HeldBack` event) before the page is returned.
   */
  readonly exportPage: (request: ExportRequest) => Effect.Effect<ExportPage, OrderStoreError>
  /** Bridge-side refresh: restamps with reason `touched`. `order` is a POS id or an order number. */
  readonly touch: (storeId: string, order: string) => Effect.Effect<StoredOrder, OrderNotFound | OrderStoreError>
  readonly find: (storeId: string, order: string) => Effect.Effect<Option.Option<StoredOrder>, OrderStoreError>
  readonly explain: (storeId: string, order: string) => Effect.Effect<Explanation, OrderNotFound | OrderStoreError>
  readonly polls: (storeId: string, limit: number) => Effect.Effect<ReadonlyArray<PollRecord>, OrderStoreError>
  readonly stats: (storeId: string) => Effect.Effect<OrderStats, OrderStoreError>
  /** The store's orders held back from export, with their reasons: most recently stamped first, at most `limit`. */
  readonly held: (storeId: string, limit: number) => Effect.Effect<ReadonlyArray<StoredOrder>, OrderStoreError>
  /**
   * `stats` of each of `storeIds` (an unknown store has the empty figures `stats` gives it), read at one
   * instant with a fixed number of statements however many stores there are: what the status page and the
   * periodic refresh of the per-store metric gauges read.
   */
  readonly statsAll: (
    storeIds: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyMap<string, OrderStats>, OrderStoreError>
  /**
   * Stores a ship notice and its outbox item in one transaction, durably, before returning. The same
   * idempotency key twice stores once and reports `Duplicate`. A notice that needs attention gets an outbox item
   * in state `attention`, which is not written back until `resolveWriteBack`.
   */
  readonly recordShipNotice: (
    notice: ShipNotice,
    match: { readonly key: string; readonly posRef: Option.Option<string> }
  ) => Effect.Effect<
    { readonly _tag: "Stored" | "Duplicate"; readonly noticeId: string; readonly outboxId: string },
    OrderStoreError
  >
  /**
   * Claims due outbox items (state pending, or in flight past its lease; next attempt ≤ now), oldest due first, for
   * `leaseFor`; others cannot claim them meanwhile. With `storeId`, only that store's items: each store's
   * write-backs are delivered by its own loop, so a slow POS delays only its own store.
   */
  readonly claimWriteBacks: (options: {
    readonly storeId?: string | undefined
    readonly limit: number
    readonly leaseFor: Duration.Duration
  }) => Effect.Effect<ReadonlyArray<OutboxItem>, OrderStoreError>
  /**
   * The stores that have due write-backs now (what `claimWriteBacks` would claim), each once: one look per runner
   * tells which stores' delivery loops to wake, instead of every loop looking for itself.
   */
  readonly storesWithDueWriteBacks: Effect.Effect<ReadonlyArray<string>, OrderStoreError>
  readonly completeWriteBack: (id: string, result: string) => Effect.Effect<void, OrderStoreError>
  /** A failed attempt: retry at `retryAt`, or mark dead when it is None. */
  readonly failWriteBack: (
    id: string,
    error: string,
    retryAt: Option.Option<DateTime.Utc>
  ) => Effect.Effect<void, OrderStoreError>
  readonly outbox: (
    storeId: string,
    states?: ReadonlyArray<OutboxState>
  ) => Effect.Effect<ReadonlyArray<OutboxItem>, OrderStoreError>
  /**
   * The operator's decision on an item that needs attention or is dead: `write-back` makes it due now (a fresh
   * set of attempts), `dismiss` closes it without writing anything. A pending item (retrying after a failed
   * attempt) may be made due now with `write-back`. Other states, or an item claimed meanwhile, are refused
   * with a sentence.
   */
  readonly resolveWriteBack: (
    storeId: string,
    id: string,
    decision: WriteBackDecision
  ) => Effect.Effect<OutboxItem, OrderStoreError>
  /** Records one call to ShipStation's refresh API (durably, before the caller goes on). */
  readonly recordRefresh: (call: RefreshCall) => Effect.Effect<void, OrderStoreError>
  /** The store's refresh calls, newest first, at most `limit`. */
  readonly refreshCalls: (storeId: string, limit: number) => Effect.Effect<ReadonlyArray<RefreshCall>, OrderStoreError>
  /**
   * Drops expired snapshots; returns how many. History is kept, unless a store on a database is given a
   * `historyRetention` (store-sql): then history and the poll log older than it go too.
   */
  readonly pruneSnapshots: Effect.Effect<number, OrderStoreError>
}

export class OrderStore extends Context.Tag("@posbridge/core/OrderStore")<OrderStore, OrderStoreService>() {}

/** Tunables every implementation honours. The `stampRule`/`pagingMode` switches exist for mutation tests only. */
export interface Options {
  readonly watermarkTolerance?: Duration.Duration | undefined
  readonly snapshotTtl?: Duration.Duration | undefined
  readonly stampRule?: StampRule | undefined
  readonly pagingMode?: PagingMode | undefined
}

// Shared by the implementations: the decisions that do not depend on where the data lives.

export const emptySummary = (): IngestSummary => ({
  inserted: 0,
  restamped: { "pos-resaved": 0, "content-changed": 0, touched: 0 },
  unchanged: 0,
  ignored: { "wrong-kind": 0, excluded: 0, "older-version": 0, "not-found": 0 }
})

/** What an ingest reports: its RefreshRule decisions, counted. */
export const summarize = (decisions: Iterable<Decision>): IngestSummary => {
  const empty = emptySummary()
  const restamped = { ...empty.restamped }
  const ignored = { ...empty.ignored }
  let inserted = 0
  let unchanged = 0
  for (const decision of decisions) {
    switch (decision._tag) {
      case "Insert":
        inserted++
        break
      case "Restamp":
        restamped[decision.reason]++
        break
      case "Unchanged":
        unchanged++
        break
      case "Ignore":
        ignored[decision.reason]++
        break
    }
  }
  return { inserted, restamped, unchanged, ignored }
}

/** A batch holding another store's document is refused whole, before anything is written. */
export const checkBatch = (
  store: StoreRef,
  documents: ReadonlyArray<SourceDocument>
): Option.Option<OrderStoreError> => {
  const foreign = documents.find((doc) => doc.order.storeId !== store.id)
  return foreign === undefined
    ? Option.none()
    : Option.some(
        new OrderStoreError({
          operation: "ingest",
          message: `a document of store "${foreign.order.storeId}" was given to store "${store.id}"; nothing was written`
        })
      )
}

const sameReasons = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((reason, i) => reason === b[i])

/**
 * Runs the request's field rules on a page's members: the ones to send, and the held ones. A hold is new
 * when the stored version does not already carry exactly these reasons (ingest and touch clear them, so a
 * new version held again is new); the caller records new holds in the page's transaction.
 */
export const splitHeld = (
  hold: ExportRequest["hold"],
  members: ReadonlyArray<StoredOrder>
): { readonly orders: ReadonlyArray<StoredOrder>; readonly held: ReadonlyArray<HeldOrder> } => {
  const orders: Array<StoredOrder> = []
  const held: Array<HeldOrder> = []
  for (const member of members) {
    const reasons = hold?.(member.order) ?? []
    if (reasons.length === 0) {
      orders.push(member)
    } else if (sameReasons(member.heldReasons, reasons)) {
      held.push({ order: member, reasons, isNew: false })
    } else {
      held.push({ order: { ...member, heldReasons: reasons }, reasons, isNew: true })
    }
  }
  return { orders, held }
}

export const emptyOutboxCounts = (): { [K in OutboxState]: number } => ({
  pending: 0,
  "in-flight": 0,
  done: 0,
  dead: 0,
  attention: 0
})

/** The state a newly stored notice's outbox item starts in. */
export const initialState = (notice: ShipNotice): OutboxState => (needsAttention(notice) ? "attention" : "pending")

/**
 * An operator's decision applied to an item (pure; both stores persist the result). Only items waiting for a
 * person (`attention`, `dead`) can be decided, and a pending one (retrying) written back now; anything else is
 * already on its way or finished.
 */
export const resolved = (
  item: OutboxItem,
  decision: WriteBackDecision,
  at: DateTime.Utc
): Either.Either<OutboxItem, OrderStoreError> => {
  const retryNow = item.state === "pending" && decision === "write-back"
  if (item.state !== "attention" && item.state !== "dead" && !retryNow) {
    return Either.left(
      new OrderStoreError({
        operation: "resolveWriteBack",
        message: `write-back ${item.id} is ${item.state}: only one that needs attention or is dead can be decided (one retrying can be written back now)`
      })
    )
  }
  return Either.right(
    decision === "write-back"
      ? { ...item, state: "pending", attempts: 0, nextAttemptAt: at, updatedAt: at }
      : {
          ...item,
          state: "done",
          result: Option.some("dismissed by the operator: nothing written back"),
          updatedAt: at
        }
  )
}

/** An outbox item once claimed at `at`: in flight, one more attempt, due again when the lease ends. */
export const claimed = (item: OutboxItem, at: DateTime.Utc, leaseFor: Duration.DurationInput): OutboxItem => ({
  ...item,
  state: "in-flight",
  attempts: item.attempts + 1,
  nextAttemptAt: DateTime.addDuration(at, Duration.decode(leaseFor)),
  updatedAt: at
})

export const noOutboxItem = (id: string): OrderStoreError =>
  new OrderStoreError({ operation: "outbox", message: `no outbox item "${id}"` })
