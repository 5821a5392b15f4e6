/**
 * The memory store's ship notices and their outbox (DESIGN.md invariant 4): a notice and its outbox item are
 * stored together; the idempotency key makes a retry a `Duplicate`.
 */
import { DateTime, Effect, Option } from "effect"
import {
  claimed,
  emptyOutboxCounts,
  initialState,
  noOutboxItem,
  type OrderStoreError,
  type OrderStoreService,
  type OutboxItem,
  type OutboxState,
  resolved,
  type StoredShipNotice
} from "../OrderStore.js"

export type Serialized = <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>

export interface MemoryOutbox {
  readonly service: Pick<
    OrderStoreService,
    | "recordShipNotice"
    | "claimWriteBacks"
    | "storesWithDueWriteBacks"
    | "completeWriteBack"
    | "failWriteBack"
    | "outbox"
    | "resolveWriteBack"
  >
  /** The notices and write-backs of one order, for `explain`. */
  readonly ofOrder: (
    storeId: string,
    posRef: string
  ) => { readonly shipNotices: Array<StoredShipNotice>; readonly writeBacks: Array<OutboxItem> }
  readonly counts: (storeId: string) => { [K in OutboxState]: number }
}

export const make = (serialized: Serialized, nextId: (prefix: string) => string): MemoryOutbox => {
  const notices = new Map<string, StoredShipNotice>()
  const outbox = new Map<string, OutboxItem>()

  const recordShipNotice: OrderStoreService["recordShipNotice"] = (notice, match) =>
    serialized(
      Effect.gen(function* () {
        const existing = notices.get(match.key)
        if (existing) {
          const item = Array.from(outbox.values()).find((o) => o.noticeId === existing.id)
          return { _tag: "Duplicate" as const, noticeId: existing.id, outboxId: item?.id ?? "" }
        }
        const at = yield* DateTime.now
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
          state: initialState(notice),
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

  const isDue = (o: OutboxItem, at: DateTime.Utc) =>
    (o.state === "pending" || o.state === "in-flight") && !DateTime.greaterThan(o.nextAttemptAt, at)

  const claimWriteBacks: OrderStoreService["claimWriteBacks"] = ({ storeId, limit, leaseFor }) =>
    serialized(
      Effect.map(DateTime.now, (at) =>
        Array.from(outbox.values())
          .filter((o) => (storeId === undefined || o.storeId === storeId) && isDue(o, at))
          .sort((a, b) => DateTime.toEpochMillis(a.nextAttemptAt) - DateTime.toEpochMillis(b.nextAttemptAt))
          .slice(0, limit)
          .map((o) => {
            const item = claimed(o, at, leaseFor)
            outbox.set(o.id, item)
            return item
          })
      )
    )

  const storesWithDueWriteBacks: OrderStoreService["storesWithDueWriteBacks"] = Effect.map(DateTime.now, (at) =>
    Array.from(new Set(Array.from(outbox.values(), (o) => (isDue(o, at) ? o.storeId : undefined))))
      .filter((id): id is string => id !== undefined)
      .sort()
  )

  const update = (
    id: string,
    f: (o: OutboxItem, at: DateTime.Utc) => OutboxItem
  ): Effect.Effect<void, OrderStoreError> =>
    serialized(
      Effect.gen(function* () {
        const at = yield* DateTime.now
        const o = outbox.get(id)
        if (!o) return yield* noOutboxItem(id)
        outbox.set(id, f(o, at))
      })
    )

  const ofStore = (storeId: string) => Array.from(outbox.values()).filter((o) => o.storeId === storeId)

  return {
    service: {
      recordShipNotice,
      claimWriteBacks,
      storesWithDueWriteBacks,
      completeWriteBack: (id, result) =>
        update(id, (o, at) => ({
          ...o,
          state: "done",
          result: Option.some(result),
          lastError: Option.none(),
          updatedAt: at
        })),
      failWriteBack: (id, error, retryAt) =>
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
        ),
      outbox: (storeId, states) =>
        Effect.sync(() => ofStore(storeId).filter((o) => !states || states.includes(o.state))),
      resolveWriteBack: (storeId, id, decision) =>
        serialized(
          Effect.gen(function* () {
            const o = outbox.get(id)
            if (!o || o.storeId !== storeId) return yield* noOutboxItem(id)
            const next = yield* resolved(o, decision, yield* DateTime.now)
            outbox.set(id, next)
            return next
          })
        )
    },
    ofOrder: (storeId, posRef) => ({
      shipNotices: Array.from(notices.values()).filter(
        (n) => n.storeId === storeId && Option.getOrUndefined(n.posRef) === posRef
      ),
      writeBacks: ofStore(storeId).filter((o) => Option.getOrUndefined(o.posRef) === posRef)
    }),
    counts: (storeId) => {
      const counts = emptyOutboxCounts()
      for (const o of ofStore(storeId)) counts[o.state]++
      return counts
    }
  }
}
