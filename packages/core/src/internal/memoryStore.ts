/**
 * The in-memory reference store (`MemoryOrderStore`): every invariant, no durability. One lock serializes
 * every write, which is what the SQL store's per-store lock achieves across connections.
 */
import { DateTime, Duration, Effect, Option } from "effect"
import * as ContentHash from "../ContentHash.js"
import * as ExportSnapshot from "../ExportSnapshot.js"
import * as ExportStamp from "../ExportStamp.js"
import {
  checkBatch,
  type Explanation,
  type HistoryEvent,
  OrderNotFound,
  type OrderStoreService,
  type PollRecord,
  type RefreshCall,
  type StoredOrder,
  type Options as StoreOptions,
  splitHeld,
  summarize
} from "../OrderStore.js"
import * as OrderWindow from "../OrderWindow.js"
import * as RefreshRule from "../RefreshRule.js"
import * as MemoryOutbox from "./memoryOutbox.js"

export interface Options extends StoreOptions {
  /**
   * Refresh calls older than this are dropped by `pruneSnapshots`, as store-sql drops them with its history.
   * Unset (the default): they are kept. The memory store's other history lives as long as the process.
   */
  readonly historyRetention?: Duration.DurationInput | undefined
}

interface Doc {
  current: StoredOrder
  history: Array<HistoryEvent>
}

interface Snapshot {
  readonly id: string
  readonly members: ReadonlyArray<string>
  readonly expiresAt: DateTime.Utc
}

interface StoreState {
  readonly docs: Map<string, Doc>
  cursor: Option.Option<string>
  watermark: Option.Option<DateTime.Utc>
  readonly snapshots: Map<string, Snapshot>
  readonly polls: Array<PollRecord>
  /** In the order recorded. */
  refreshCalls: Array<RefreshCall>
}

/** Newest first: by the time of the call, then the later recorded (two runners may call at one instant). */
const newestFirst = (calls: ReadonlyArray<RefreshCall>): Array<RefreshCall> =>
  calls
    .map((call, recorded) => ({ call, recorded }))
    .sort((a, b) => DateTime.toEpochMillis(b.call.at) - DateTime.toEpochMillis(a.call.at) || b.recorded - a.recorded)
    .map(({ call }) => call)

export const make = (options: Options = {}): Effect.Effect<OrderStoreService> =>
  Effect.gen(function* () {
    const tolerance = options.watermarkTolerance ?? ExportStamp.defaultTolerance
    const ttl = options.snapshotTtl ?? ExportSnapshot.defaultTtl
    const pagingMode = options.pagingMode ?? "snapshot"
    const retention = options.historyRetention === undefined ? undefined : Duration.decode(options.historyRetention)
    // One lock for the whole memory store: ingest and snapshot creation never interleave (invariant 1).
    const lock = yield* Effect.makeSemaphore(1)
    const serialized = lock.withPermits(1)
    const stores = new Map<string, StoreState>()
    let sequence = 0
    const nextId = (prefix: string) => `${prefix}-${++sequence}`
    const outbox = MemoryOutbox.make(serialized, nextId)

    const storeState = (storeId: string): StoreState => {
      let s = stores.get(storeId)
      if (!s) {
        s = {
          docs: new Map(),
          cursor: Option.none(),
          watermark: Option.none(),
          snapshots: new Map(),
          polls: [],
          refreshCalls: []
        }
        stores.set(storeId, s)
      }
      return s
    }

    const lookup = (s: StoreState, key: string): Doc | undefined => {
      const byRef = s.docs.get(key)
      if (byRef) return byRef
      let found: Doc | undefined
      for (const d of s.docs.values()) {
        if (d.current.order.orderNumber === key) {
          if (!found || DateTime.greaterThan(d.current.stamp, found.current.stamp)) found = d
        }
      }
      return found
    }

    const ingest: OrderStoreService["ingest"] = (store, documents, cursor) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* DateTime.now
          const s = storeState(store.id)
          // Validate first, then apply: a bad batch changes nothing.
          const refused = checkBatch(store, documents)
          if (Option.isSome(refused)) return yield* refused.value
          const decisions: Array<RefreshRule.Decision> = []
          for (const doc of documents) {
            const existing = s.docs.get(doc.order.posRef)
            const contentHash = ContentHash.ofOrder(doc.order)
            const decision = RefreshRule.decide(
              Option.map(Option.fromNullable(existing), (d) => ({
                posModifiedAt: d.current.order.posModifiedAt,
                contentHash: d.current.contentHash,
                stamp: d.current.stamp
              })),
              { _tag: "Document", document: doc, contentHash },
              { storeKind: store.kind, now: at, watermark: s.watermark, stampRule: options.stampRule }
            )
            decisions.push(decision)
            if (decision._tag === "Insert" || decision._tag === "Restamp") {
              const current: StoredOrder = {
                order: doc.order,
                stamp: decision.stamp,
                ingestedAt: at,
                contentHash,
                heldReasons: []
              }
              const event: HistoryEvent = {
                _tag: decision._tag === "Insert" ? "Inserted" : "Restamped",
                at,
                reason: decision._tag === "Restamp" ? decision.reason : undefined,
                posModifiedAt: doc.order.posModifiedAt,
                stamp: decision.stamp,
                contentHash
              }
              if (existing) {
                existing.current = current
                existing.history.push(event)
              } else {
                s.docs.set(doc.order.posRef, { current, history: [event] })
              }
            }
          }
          if (Option.isSome(cursor)) s.cursor = cursor
          return summarize(decisions)
        })
      )

    const exportPage: OrderStoreService["exportPage"] = (request) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* DateTime.now
          const s = storeState(request.storeId)
          const key = ExportSnapshot.key(request.storeId, request.window)
          let snapshot = request.page > 1 && pagingMode === "snapshot" ? s.snapshots.get(key) : undefined
          if (snapshot && DateTime.lessThan(snapshot.expiresAt, at)) snapshot = undefined
          const created = snapshot === undefined
          if (!snapshot) {
            const members = Array.from(s.docs.values())
              .map((d) => ({ posRef: d.current.order.posRef, stamp: d.current.stamp }))
              .filter((m) => OrderWindow.contains(request.window, m.stamp))
              .sort(ExportSnapshot.memberOrder)
              .map((m) => m.posRef)
            snapshot = { id: nextId("snap"), members, expiresAt: DateTime.addDuration(at, ttl) }
            if (pagingMode === "snapshot") s.snapshots.set(key, snapshot)
          }
          const advance = ExportStamp.advanceWatermark(s.watermark, request.window, at, tolerance)
          s.watermark = advance.watermark
          const pages = ExportSnapshot.pageCount(snapshot.members.length, request.pageSize)
          const slice = ExportSnapshot.pageSlice(snapshot.members, request.page, request.pageSize)
          const members = slice.flatMap((posRef) => s.docs.get(posRef)?.current ?? [])
          const { orders, held } = splitHeld(request.hold, members)
          // A new hold is recorded under the same lock as the page, like the SQL store's one transaction.
          for (const h of held) {
            const doc = s.docs.get(h.order.order.posRef)
            if (!h.isNew || !doc) continue
            doc.current = h.order
            doc.history.push({ _tag: "HeldBack", at, reasons: h.reasons })
          }
          for (const o of orders) {
            s.docs.get(o.order.posRef)?.history.push({
              _tag: "Exported",
              at,
              window: request.window,
              page: request.page,
              pages
            })
          }
          s.polls.push({
            at,
            storeId: request.storeId,
            window: request.window,
            page: request.page,
            pages,
            count: orders.length,
            snapshotId: snapshot.id
          })
          return {
            page: request.page,
            pages,
            total: snapshot.members.length,
            orders,
            held,
            snapshotId: snapshot.id,
            snapshotCreated: created,
            watermarkClamped: advance.clamped
          }
        })
      )

    const touch: OrderStoreService["touch"] = (storeId, order) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* DateTime.now
          const s = storeState(storeId)
          const doc = lookup(s, order)
          if (!doc) return yield* new OrderNotFound({ storeId, order })
          const decision = RefreshRule.decide(
            Option.some({
              posModifiedAt: doc.current.order.posModifiedAt,
              contentHash: doc.current.contentHash,
              stamp: doc.current.stamp
            }),
            { _tag: "Touch" },
            { storeKind: doc.current.order.kind, now: at, watermark: s.watermark, stampRule: options.stampRule }
          )
          if (decision._tag !== "Restamp") return yield* new OrderNotFound({ storeId, order })
          doc.current = { ...doc.current, stamp: decision.stamp, ingestedAt: at, heldReasons: [] }
          doc.history.push({
            _tag: "Restamped",
            at,
            reason: "touched",
            posModifiedAt: doc.current.order.posModifiedAt,
            stamp: decision.stamp,
            contentHash: doc.current.contentHash
          })
          return doc.current
        })
      )

    const find: OrderStoreService["find"] = (storeId, order) =>
      Effect.sync(() => Option.map(Option.fromNullable(lookup(storeState(storeId), order)), (d) => d.current))

    const explain: OrderStoreService["explain"] = (storeId, order) =>
      Effect.gen(function* () {
        const doc = lookup(storeState(storeId), order)
        if (!doc) return yield* new OrderNotFound({ storeId, order })
        const posRef = doc.current.order.posRef
        const explanation: Explanation = {
          storeId,
          current: doc.current,
          history: [...doc.history],
          ...outbox.ofOrder(storeId, posRef)
        }
        return explanation
      })

    const polls: OrderStoreService["polls"] = (storeId, limit) =>
      Effect.sync(() => storeState(storeId).polls.slice(-limit).reverse())

    const stats: OrderStoreService["stats"] = (storeId) =>
      Effect.sync(() => {
        const s = storeState(storeId)
        const docs = Array.from(s.docs.values())
        return {
          documents: docs.length,
          waitingForPoll: docs.filter((d) =>
            Option.match(s.watermark, {
              onNone: () => true,
              onSome: (w) => !DateTime.lessThan(d.current.stamp, w)
            })
          ).length,
          held: docs.filter((d) => d.current.heldReasons.length > 0).length,
          watermark: s.watermark,
          lastPoll: Option.fromNullable(s.polls.at(-1)),
          outbox: outbox.counts(storeId)
        }
      })

    const statsAll: OrderStoreService["statsAll"] = (storeIds) =>
      Effect.map(
        Effect.forEach(storeIds, (storeId) => Effect.map(stats(storeId), (st) => [storeId, st] as const)),
        (entries) => new Map(entries)
      )

    const held: OrderStoreService["held"] = (storeId, limit) =>
      Effect.sync(() =>
        Array.from(storeState(storeId).docs.values(), (d) => d.current)
          .filter((o) => o.heldReasons.length > 0)
          .sort(
            (a, b) =>
              DateTime.toEpochMillis(b.stamp) - DateTime.toEpochMillis(a.stamp) ||
              (a.order.posRef < b.order.posRef ? -1 : a.order.posRef > b.order.posRef ? 1 : 0)
          )
          .slice(0, Math.max(0, limit))
      )

    const recordRefresh: OrderStoreService["recordRefresh"] = (call) =>
      serialized(Effect.sync(() => void storeState(call.storeId).refreshCalls.push(call)))

    const refreshCalls: OrderStoreService["refreshCalls"] = (storeId, limit) =>
      Effect.sync(() => newestFirst(storeState(storeId).refreshCalls).slice(0, Math.max(0, Math.floor(limit))))

    const pruneSnapshots: OrderStoreService["pruneSnapshots"] = serialized(
      Effect.gen(function* () {
        const at = yield* DateTime.now
        const before = retention === undefined ? undefined : DateTime.subtractDuration(at, retention)
        let pruned = 0
        for (const s of stores.values()) {
          for (const [key, snap] of s.snapshots) {
            if (DateTime.lessThan(snap.expiresAt, at)) {
              s.snapshots.delete(key)
              pruned++
            }
          }
          if (before !== undefined) {
            s.refreshCalls = s.refreshCalls.filter((call) => !DateTime.lessThan(call.at, before))
          }
        }
        return pruned
      })
    )

    return {
      ingest,
      cursor: (storeId) => Effect.sync(() => storeState(storeId).cursor),
      exportPage,
      touch,
      find,
      explain,
      polls,
      stats,
      statsAll,
      held,
      recordRefresh,
      refreshCalls,
      pruneSnapshots,
      ...outbox.service
    }
  })
