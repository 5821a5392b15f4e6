/**
 * The OrderStore port on `@effect/sql`, one implementation for SQLite and PostgreSQL. It follows core's
 * in-memory reference store decision for decision (RefreshRule, ExportStamp, ExportSnapshot come from core);
 * what it adds is durability and serialization across connections and replicas:
 *
 * - every store-scoped write (ingest, export with its holds, touch) runs in one transaction that first
 *   takes the store's lock: on PostgreSQL `SELECT … FOR UPDATE` on the store's row, on SQLite the database
 *   write lock (the transaction starts with a write). Ingest and snapshot creation for one store therefore
 *   never interleave, so no version can be stamped behind a window that was just served (DESIGN.md
 *   invariant 1);
 * - a batch of documents and its cursor commit in that one transaction, or not at all;
 * - outbox items are claimed with `FOR UPDATE SKIP LOCKED`, so two replicas never claim the same item;
 * - a later page of a live snapshot that meets no new hold moves nothing durable, so it is a read
 *   transaction; its poll-log row and export history go through a write-behind buffer: a crash can lose up
 *   to one flush interval of that diagnostic history, never a watermark, snapshot, document, cursor, hold or
 *   notice.
 *
 * The parts live in `internal/`, one per concern: `Rows` (row Schemas), `Documents` (decoding, lookup),
 * `Ingest`, `ExportPages` (with `PageCache`), `HistoryBuffer` (write-behind), `Inspect` (explain, polls,
 * stats), `Outbox` (ship notices, write-backs) and `RefreshCalls` (calls to ShipStation's refresh API).
 */
import { SqlClient } from "@effect/sql"
import { OrderStore } from "@posbridge/core"
import { type Duration, Effect, Layer, type Scope } from "effect"
import * as Dialect from "./internal/Dialect.js"
import * as Documents from "./internal/Documents.js"
import * as ExportPages from "./internal/ExportPages.js"
import * as HistoryBuffer from "./internal/HistoryBuffer.js"
import * as Ingest from "./internal/Ingest.js"
import * as Inspect from "./internal/Inspect.js"
import * as Outbox from "./internal/Outbox.js"
import * as RefreshCalls from "./internal/RefreshCalls.js"

export interface Options extends OrderStore.Options {
  /**
   * How long document history, the poll log and refresh calls are kept; older entries are dropped by
   * `pruneSnapshots` (`internal/Retention.ts` says what goes). Unset (the default): kept forever. Current
   * documents, each one's latest ingest or restamp event, ship notices and the outbox are never dropped.
   */
  readonly historyRetention?: Duration.DurationInput | undefined
  /**
   * Later pages of a poll write their poll-log row and `ExportedPage` history row through a write-behind
   * buffer, flushed in one transaction this often (default 250 ms), when it holds `historyBufferRows` rows
   * (default 500), before any other write transaction of this store, before `explain`/`polls`/`stats`
   * read, and when the layer's scope closes. A crash can lose what is buffered: diagnostic history only.
   */
  readonly historyFlushInterval?: Duration.DurationInput | undefined
  readonly historyBufferRows?: number | undefined
  /** How many decoded orders are kept, keyed by (store, POS id) and checked against the stored JSON. Default 10,000. */
  readonly decodedOrderCache?: number | undefined
  /**
   * How many later export pages are kept, with the generation of the store's documents they were read at.
   * Default 64; 0 reads every page from the database. A kept page holds its decoded orders: at most this ×
   * the page size of them, beside the `decodedOrderCache`.
   */
  readonly exportPageCache?: number | undefined
}

/**
 * The store on the provided `SqlClient` (already migrated). Scoped: it runs the history write-behind flusher
 * and flushes what is buffered when the scope closes.
 */
export const make = (
  options: Options = {}
): Effect.Effect<OrderStore.OrderStoreService, never, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const d = Dialect.of(sql)
    const documents = Documents.make(sql, options)
    const history = yield* HistoryBuffer.make(sql, d, options)
    return {
      ...Ingest.make(sql, d, documents, history, options),
      ...ExportPages.make(sql, d, documents, history, options),
      ...Inspect.make(sql, d, documents, history),
      ...Outbox.make(sql, d),
      ...RefreshCalls.make(sql, history)
    }
  })

/** The OrderStore on whatever `SqlClient` is provided; run `Migrations` first (the engine layers do). */
export const layer = (options: Options = {}): Layer.Layer<OrderStore.OrderStore, never, SqlClient.SqlClient> =>
  Layer.scoped(OrderStore.OrderStore, make(options))
