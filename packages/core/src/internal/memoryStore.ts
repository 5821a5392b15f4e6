import { Clock, DateTime, Duration, Effect, Option } from "effect"
import * as ContentHash from "../ContentHash.js"
import * as ExportSnapshot from "../ExportSnapshot.js"
import * as ExportStamp from "../ExportStamp.js"
import {
  type Explanation,
  emptySummary,
  type HistoryEvent,
  type IngestSummary,
  type Options,
  OrderNotFound,
  OrderStoreError,
  type OrderStoreService,
  type OutboxItem,
  type OutboxState,
  type PollRecord,
  type StoredOrder,
  type StoredShipNotice
} from "../OrderStore.js"
import * as OrderWindow from "../OrderWindow.js"
import * as RefreshRule from "../RefreshRule.js"

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
}

const now = Clock.currentTimeMillis.pipe(Effect.map((ms) => DateTime.unsafeMake(ms)))

export const make = (options: Options = {}): Effect.Effect<OrderStoreService> =>
  Effect.gen(function* () {
    const tolerance = options.watermarkTolerance ?? ExportStamp.defaultTolerance
    const ttl = options.snapshotTtl ?? ExportSnapshot.defaultTtl
    const pagingMode = options.pagingMode ?? "snapshot"
    // One lock for the whole memory store: ingest and snapshot creation never interleave (invariant 1).
    const lock = yield* Effect.makeSemaphore(1)
    const serialized = lock.withPermits(1)
    const stores = new Map<string, StoreState>()
    const notices = new Map<string, StoredShipNotice>()
    const outbox = new Map<string, OutboxItem>()
    let sequence = 0
    const nextId = (prefix: string) => `${prefix}-${++sequence}`

    const storeState = (storeId: string): StoreState => {
      let s = stores.get(storeId)
      if (!s) {
        s = { docs: new Map(), cursor: Option.none(), watermark: Option.none(), snapshots: new Map(), polls: [] }
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
          const at = yield* now
          const s = storeState(store.id)
          const base = emptySummary()
          const restamped = { ...base.restamped }
          const ignored = { ...base.ignored }
          let inserted = 0
          let unchanged = 0
          // Validate first, then apply: a bad batch changes nothing.
          for (const doc of documents) {
            if (doc.order.storeId !== store.id) {
              return yield* new OrderStoreError({
                operation: "ingest",
                message: `a document of store "${doc.order.storeId}" was given to store "${store.id}"; nothing was written`
              })
            }
          }
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
            switch (decision._tag) {
              case "Insert":
              case "Restamp": {
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
          if (Option.isSome(cursor)) s.cursor = cursor
          const summary: IngestSummary = { inserted, restamped, unchanged, ignored }
          return summary
        })
      )

    const exportPage: OrderStoreService["exportPage"] = (request) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* now
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
          const orders: Array<StoredOrder> = []
          const held: Array<{ order: StoredOrder; reasons: ReadonlyArray<string> }> = []
          for (const posRef of slice) {
            const doc = s.docs.get(posRef)
            if (!doc) continue
            const reasons = request.hold?.(doc.current.order) ?? []
            if (reasons.length > 0) {
              held.push({ order: doc.current, reasons })
              continue
            }
            orders.push(doc.current)
            doc.history.push({ _tag: "Exported", at, window: request.window, page: request.page, pages })
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

    const recordHeld: OrderStoreService["recordHeld"] = (storeId, posRef, reasons) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* now
          const doc = storeState(storeId).docs.get(posRef)
          if (!doc) return
          doc.current = { ...doc.current, heldReasons: [...reasons] }
          const last = doc.history.findLast((e) => e._tag === "HeldBack")
          const same = last?._tag === "HeldBack" && last.reasons.join("\n") === reasons.join("\n")
          const lastChange = doc.history.findLast((e) => e._tag !== "Exported" && e._tag !== "HeldBack")
          if (!same || (lastChange && DateTime.greaterThan(lastChange.at, last.at))) {
            doc.history.push({ _tag: "HeldBack", at, reasons: [...reasons] })
          }
        })
      )

    const touch: OrderStoreService["touch"] = (storeId, order) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* now
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
          shipNotices: Array.from(notices.values()).filter(
            (n) => n.storeId === storeId && Option.getOrUndefined(n.posRef) === posRef
          ),
          writeBacks: Array.from(outbox.values()).filter(
            (o) => o.storeId === storeId && Option.getOrUndefined(o.posRef) === posRef
          )
        }
        return explanation
      })

    const polls: OrderStoreService["polls"] = (storeId, limit) =>
      Effect.sync(() => storeState(storeId).polls.slice(-limit).reverse())

    const stats: OrderStoreService["stats"] = (storeId) =>
      Effect.sync(() => {
        const s = storeState(storeId)
        const docs = Array.from(s.docs.values())
        const counts: Record<OutboxState, number> = { pending: 0, "in-flight": 0, done: 0, dead: 0 }
        for (const o of outbox.values()) if (o.storeId === storeId) counts[o.state]++
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
          outbox: counts
        }
      })

    const recordShipNotice: OrderStoreService["recordShipNotice"] = (notice, match) =>
      serialized(
        Effect.gen(function* () {
          const existing = notices.get(match.key)
          if (existing) {
            const item = Array.from(outbox.values()).find((o) => o.noticeId === existing.id)
            return { _tag: "Duplicate" as const, noticeId: existing.id, outboxId: item?.id ?? "" }
          }
          const at = yield* now
          const stored: StoredShipNotice = {
            id: nextId("notice"),
            key: match.key,
            storeId: notice.storeId,
            posRef: match.posRef,
            notice,
            receivedAt: at
          }
          notices.set(match.key, stored)
          const item: OutboxItem = {
            id: nextId("outbox"),
            storeId: notice.storeId,
            noticeId: stored.id,
            posRef: match.posRef,
            notice,
            state: "pending",
            attempts: 0,
            nextAttemptAt: at,
            lastError: Option.none(),
            result: Option.none(),
            updatedAt: at
          }
          outbox.set(item.id, item)
          return { _tag: "Stored" as const, noticeId: stored.id, outboxId: item.id }
        })
      )

    const claimWriteBacks: OrderStoreService["claimWriteBacks"] = ({ limit, leaseFor }) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* now
          const due = Array.from(outbox.values())
            .filter(
              (o) => (o.state === "pending" || o.state === "in-flight") && !DateTime.greaterThan(o.nextAttemptAt, at)
            )
            .sort((a, b) => DateTime.toEpochMillis(a.nextAttemptAt) - DateTime.toEpochMillis(b.nextAttemptAt))
            .slice(0, limit)
          return due.map((o) => {
            const claimed: OutboxItem = {
              ...o,
              state: "in-flight",
              attempts: o.attempts + 1,
              nextAttemptAt: DateTime.addDuration(at, Duration.decode(leaseFor)),
              updatedAt: at
            }
            outbox.set(o.id, claimed)
            return claimed
          })
        })
      )

    const update = (id: string, f: (o: OutboxItem, at: DateTime.Utc) => OutboxItem) =>
      serialized(
        Effect.gen(function* () {
          const at = yield* now
          const o = outbox.get(id)
          if (!o) return yield* new OrderStoreError({ operation: "outbox", message: `no outbox item "${id}"` })
          outbox.set(id, f(o, at))
        })
      )

    const completeWriteBack: OrderStoreService["completeWriteBack"] = (id, result) =>
      update(id, (o, at) => ({
        ...o,
        state: "done",
        result: Option.some(result),
        lastError: Option.none(),
        updatedAt: at
      }))

    const failWriteBack: OrderStoreService["failWriteBack"] = (id, error, retryAt) =>
      update(id, (o, at) =>
        Option.match(retryAt, {
          onNone: () => ({ ...o, state: "dead" as const, lastError: Option.some(error), updatedAt: at }),
          onSome: (t) => ({
            ...o,
            state: "pending" as const,
            nextAttemptAt: t,
            lastError: Option.some(error),
            updatedAt: at
          })
        })
      )

    const outboxOf: OrderStoreService["outbox"] = (storeId, states) =>
      Effect.sync(() =>
        Array.from(outbox.values()).filter((o) => o.storeId === storeId && (!states || states.includes(o.state)))
      )

    const pruneSnapshots: OrderStoreService["pruneSnapshots"] = serialized(
      Effect.gen(function* () {
        const at = yield* now
        let pruned = 0
        for (const s of stores.values()) {
          for (const [key, snap] of s.snapshots) {
            if (DateTime.lessThan(snap.expiresAt, at)) {
              s.snapshots.delete(key)
              pruned++
            }
          }
        }
        return pruned
      })
    )

    return {
      ingest,
      cursor: (storeId) => Effect.sync(() => storeState(storeId).cursor),
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
  })
