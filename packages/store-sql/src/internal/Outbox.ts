/**
 * Ship notices and the write-back outbox (DESIGN.md invariant 4). A notice and its outbox item commit in one
 * transaction; the unique idempotency key, not a prior read, recognizes a retry, so two replicas receiving
 * the same retry store it once. Claims use `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two replicas never
 * claim the same item; a claim may be limited to one store (each store's write-backs have their own loop).
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { OrderStore, type ShipNotice } from "@posbridge/core"
import { Clock, DateTime, type Duration, Effect, Option, Schema } from "effect"
import * as Dialect from "./Dialect.js"
import { DuplicateRow, encodeNotice, millis, OutboxRow, toOutbox } from "./Rows.js"
import { newId, wrap } from "./Sql.js"

const DueRequest = Schema.Struct({
  at: Schema.Number,
  limit: Schema.Number,
  storeId: Schema.optional(Schema.UndefinedOr(Schema.String))
})

/**
 * Due outbox items, oldest due first: pending, or in flight past its lease (the claimer died). One store's
 * items are read through `pb_outbox_store_due` (migration 0005), whose predicate is this query's state list, word
 * for word, so both engines can use it. A claim locks the rows (on PostgreSQL, skipping rows another runner is
 * claiming); a probe only looks.
 */
export const dueItems = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  request: typeof DueRequest.Type,
  purpose: "claim" | "probe" = "claim"
) => {
  const lock = purpose === "claim" ? d.claimLock : sql.literal("")
  const columns = purpose === "claim" ? sql.literal("*") : sql.literal("seq")
  return request.storeId === undefined
    ? sql`SELECT ${columns} FROM pb_outbox
      WHERE state IN ('pending', 'in-flight') AND next_attempt_ms <= ${request.at}
      ORDER BY next_attempt_ms, seq LIMIT ${request.limit} ${lock}`
    : sql`SELECT ${columns} FROM pb_outbox
      WHERE store_id = ${request.storeId} AND state IN ('pending', 'in-flight') AND next_attempt_ms <= ${request.at}
      ORDER BY next_attempt_ms, seq LIMIT ${request.limit} ${lock}`
}

/** The stores with due items, each once: read through an index of due items (`pb_outbox_due`), not the whole outbox. */
export const dueStoreIds = (sql: SqlClient.SqlClient, at: number) =>
  sql`SELECT DISTINCT store_id FROM pb_outbox
    WHERE state IN ('pending', 'in-flight') AND next_attempt_ms <= ${at} ORDER BY store_id`

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect
): Pick<
  OrderStore.OrderStoreService,
  | "recordShipNotice"
  | "claimWriteBacks"
  | "storesWithDueWriteBacks"
  | "completeWriteBack"
  | "failWriteBack"
  | "outbox"
  | "resolveWriteBack"
> => {
  const firstOfKey = SqlSchema.findOne({
    Request: Schema.String,
    Result: DuplicateRow,
    execute: (key) => sql`SELECT n.notice_id, o.outbox_id
      FROM pb_ship_notices n LEFT JOIN pb_outbox o ON o.notice_id = n.notice_id
      WHERE n.idempotency_key = ${key} ORDER BY o.seq LIMIT 1`
  })

  const recordShipNotice = Effect.fn("SqlOrderStore.recordShipNotice")(
    function* (notice: ShipNotice.ShipNotice, match: { readonly key: string; readonly posRef: Option.Option<string> }) {
      const at = yield* Clock.currentTimeMillis
      const noticeId = newId("notice")
      const noticeJson = encodeNotice(notice)
      const posRef = Option.getOrNull(match.posRef)
      const stored = yield* sql`INSERT INTO pb_ship_notices ${sql.insert({
        notice_id: noticeId,
        idempotency_key: match.key,
        store_id: notice.storeId,
        pos_ref: posRef,
        notice_json: noticeJson,
        received_ms: at
      })} ON CONFLICT (idempotency_key) DO NOTHING RETURNING notice_id`
      if (stored.length === 0) {
        const first = yield* firstOfKey(match.key)
        return {
          _tag: "Duplicate" as const,
          noticeId: Option.match(first, { onNone: () => "", onSome: (row) => row.notice_id }),
          outboxId: Option.match(first, { onNone: () => "", onSome: (row) => row.outbox_id ?? "" })
        }
      }
      const outboxId = newId("outbox")
      yield* sql`INSERT INTO pb_outbox ${sql.insert({
        outbox_id: outboxId,
        store_id: notice.storeId,
        notice_id: noticeId,
        pos_ref: posRef,
        notice_json: noticeJson,
        state: OrderStore.initialState(notice),
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

  const due = SqlSchema.findAll({
    Request: DueRequest,
    Result: OutboxRow,
    execute: (request) => dueItems(sql, d, request)
  })

  const claimWriteBacks = Effect.fn("SqlOrderStore.claimWriteBacks")(function* (claim: {
    readonly storeId?: string | undefined
    readonly limit: number
    readonly leaseFor: Duration.Duration
  }) {
    const at = yield* Clock.currentTimeMillis
    const request = { at, limit: claim.limit, storeId: claim.storeId }
    // A look without locks first: one loop per store polls every second or so and usually finds nothing, and on
    // SQLite a claim takes the database's write lock, which ingests and exports need.
    if ((yield* dueItems(sql, d, { ...request, limit: 1 }, "probe")).length === 0) return []
    return yield* Effect.gen(function* () {
      yield* Dialect.takeWriteLock(sql, d)
      const claimed = (yield* due(request)).map((row) =>
        OrderStore.claimed(toOutbox(row), DateTime.unsafeMake(at), claim.leaseFor)
      )
      const [first] = claimed
      if (first === undefined) return []
      yield* sql`UPDATE pb_outbox SET state = 'in-flight', attempts = attempts + 1,
        next_attempt_ms = ${millis(first.nextAttemptAt)}, updated_ms = ${at}
        WHERE outbox_id IN ${sql.in(claimed.map((item) => item.id))}`
      return claimed
    }).pipe((effect) => sql.withTransaction(effect))
  }, wrap("claimWriteBacks"))

  const dueStores = SqlSchema.findAll({
    Request: Schema.Number,
    Result: Schema.Struct({ store_id: Schema.String }),
    execute: (at) => dueStoreIds(sql, at)
  })

  const storesWithDueWriteBacks = Effect.gen(function* () {
    const rows = yield* dueStores(yield* Clock.currentTimeMillis)
    return rows.map((row) => row.store_id)
  }).pipe(Effect.withSpan("SqlOrderStore.storesWithDueWriteBacks"), wrap("storesWithDueWriteBacks"))

  /** Runs an `UPDATE … RETURNING outbox_id`; no row means no such item. */
  const updateOne = <E>(id: string, statement: Effect.Effect<ReadonlyArray<unknown>, E>) =>
    Effect.flatMap(statement, (rows) => (rows.length === 0 ? Effect.fail(OrderStore.noOutboxItem(id)) : Effect.void))

  const completeWriteBack = Effect.fn("SqlOrderStore.completeWriteBack")(function* (id: string, result: string) {
    const at = yield* Clock.currentTimeMillis
    yield* updateOne(
      id,
      sql`UPDATE pb_outbox SET state = 'done', result = ${result}, last_error = NULL, updated_ms = ${at}
        WHERE outbox_id = ${id} RETURNING outbox_id`
    )
  }, wrap("completeWriteBack"))

  const failWriteBack = Effect.fn("SqlOrderStore.failWriteBack")(function* (
    id: string,
    error: string,
    retryAt: Option.Option<DateTime.Utc>
  ) {
    const at = yield* Clock.currentTimeMillis
    yield* updateOne(
      id,
      Option.isSome(retryAt)
        ? sql`UPDATE pb_outbox
            SET state = 'pending', next_attempt_ms = ${millis(retryAt.value)}, last_error = ${error}, updated_ms = ${at}
            WHERE outbox_id = ${id} RETURNING outbox_id`
        : sql`UPDATE pb_outbox SET state = 'dead', last_error = ${error}, updated_ms = ${at}
            WHERE outbox_id = ${id} RETURNING outbox_id`
    )
  }, wrap("failWriteBack"))

  const byStore = SqlSchema.findAll({
    Request: Schema.Struct({ storeId: Schema.String, states: Schema.optional(Schema.Array(OrderStore.OutboxState)) }),
    Result: OutboxRow,
    execute: ({ storeId, states }) =>
      states === undefined
        ? sql`SELECT * FROM pb_outbox WHERE store_id = ${storeId} ORDER BY seq`
        : sql`SELECT * FROM pb_outbox WHERE store_id = ${storeId} AND state IN ${sql.in(states)} ORDER BY seq`
  })

  const outbox = Effect.fn("SqlOrderStore.outbox")(function* (
    storeId: string,
    states?: ReadonlyArray<OrderStore.OutboxState>
  ) {
    if (states !== undefined && states.length === 0) return []
    return (yield* byStore(states === undefined ? { storeId } : { storeId, states })).map(toOutbox)
  }, wrap("outbox"))

  const one = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, id: Schema.String }),
    Result: OutboxRow,
    execute: ({ storeId, id }) => sql`SELECT * FROM pb_outbox WHERE store_id = ${storeId} AND outbox_id = ${id}`
  })

  const resolveWriteBack = Effect.fn("SqlOrderStore.resolveWriteBack")(
    function* (storeId: string, id: string, decision: OrderStore.WriteBackDecision) {
      const at = yield* Clock.currentTimeMillis
      yield* Dialect.takeWriteLock(sql, d)
      const row = yield* one({ storeId, id })
      if (Option.isNone(row)) return yield* OrderStore.noOutboxItem(id)
      const next = yield* OrderStore.resolved(toOutbox(row.value), decision, DateTime.unsafeMake(at))
      // Only if still in the state decided on: on PostgreSQL a worker may claim a pending item meanwhile.
      const updated = yield* sql`UPDATE pb_outbox SET state = ${next.state}, attempts = ${next.attempts},
        next_attempt_ms = ${millis(next.nextAttemptAt)}, result = ${Option.getOrNull(next.result)}, updated_ms = ${at}
        WHERE outbox_id = ${id} AND state = ${row.value.state} RETURNING outbox_id`
      if (updated.length === 0) {
        return yield* new OrderStore.OrderStoreError({
          operation: "resolveWriteBack",
          message: `write-back ${id} changed meanwhile (it is being delivered): look again`
        })
      }
      return next
    },
    (effect) => sql.withTransaction(effect),
    wrap("resolveWriteBack")
  )

  return {
    recordShipNotice,
    claimWriteBacks,
    storesWithDueWriteBacks,
    completeWriteBack,
    failWriteBack,
    outbox,
    resolveWriteBack
  }
}
