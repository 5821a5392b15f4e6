/**
 * The write-behind buffer for what later pages record (their poll-log row and `ExportedPage` history row),
 * and the write transaction every other write goes through.
 *
 * A later page changes no watermark, snapshot or document, so it is served by a read transaction and its
 * diagnostic rows are buffered here instead of costing a durable commit per page. Every write transaction
 * drains the buffer first, in the same commit, so history keeps its order (`seq`); a timer, a size
 * threshold, the readers of history and the scope's close flush it otherwise. A crash loses at most what is
 * buffered: never a watermark, snapshot, document, cursor, hold or ship notice.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Duration, Effect, Schedule, Schema, type Scope } from "effect"
import type * as Dialect from "./Dialect.js"
import * as GroupCommit from "./GroupCommit.js"
import { type HistoryInsert, Int, type PollInsert } from "./Rows.js"
import { chunks } from "./Sql.js"

const decodeSeqs = Schema.decodeUnknown(Schema.Array(Schema.Struct({ seq: Int })))

export interface Options {
  readonly historyFlushInterval?: Duration.DurationInput | undefined
  readonly historyBufferRows?: number | undefined
}

export const make = (
  sql: SqlClient.SqlClient,
  d: Dialect.Dialect,
  options: Options
): Effect.Effect<HistoryBuffer, never, Scope.Scope> =>
  Effect.gen(function* () {
    /**
     * A chunk holding export pages also indexes their POS ids in `pb_exported_refs` (migration 0006): the
     * database expands the page rows it just wrote (their `seq` returned), one more statement per chunk,
     * not per page or per order.
     */
    const insertChunk = (chunk: ReadonlyArray<HistoryInsert>) =>
      chunk.some((row) => row.event === "ExportedPage")
        ? Effect.gen(function* () {
            const returned = yield* sql`INSERT INTO pb_history ${sql.insert(chunk)} RETURNING seq`
            // The database's own identity column: a row it returned that is not a number is a bug, not data.
            const written = yield* Effect.orDie(decodeSeqs(returned))
            yield* sql`INSERT INTO pb_exported_refs (store_id, pos_ref, history_seq)
              SELECT h.store_id, j.value, h.seq FROM pb_history h, ${d.listedRefs(sql`h.detail`)}
              WHERE h.seq IN ${sql.in(written.map((row) => row.seq))} AND h.event = 'ExportedPage'`
          })
        : sql`INSERT INTO pb_history ${sql.insert(chunk)}`
    const insertHistory = (rows: ReadonlyArray<HistoryInsert>) =>
      Effect.forEach(chunks(rows), insertChunk, { discard: true })
    const insertPolls = (rows: ReadonlyArray<PollInsert>) =>
      Effect.forEach(chunks(rows), (chunk) => sql`INSERT INTO pb_polls ${sql.insert(chunk)}`, { discard: true })

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

    const drainingTransaction = <A, E, R>(body: Effect.Effect<A, E, R>) =>
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

    // On SQLite, concurrent writers share one commit (see GroupCommit); PostgreSQL commits connections apart.
    const writeTransaction: GroupCommit.Transaction =
      d.name === "sqlite" ? yield* GroupCommit.make(sql, drainingTransaction) : drainingTransaction

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
    // Not through the group: its leader runs in the scope being closed.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => (pendingRows() === 0 ? Effect.void : drainingTransaction(Effect.void))).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("export history lost at shutdown", cause))
      )
    )
    // The timer runs on the wall clock whatever Clock the store is given: domain time (a TestClock jumping a
    // day ahead) must not replay every 250 ms tick, and flushing is about real elapsed time anyway.
    yield* Effect.forkScoped(
      Effect.repeat(flushLogged, Schedule.spaced(flushEvery)).pipe(Effect.withClock(Clock.make()))
    )

    return { insertHistory, insertPolls, writeTransaction, flush, buffer }
  })

export interface HistoryBuffer {
  readonly insertHistory: (rows: ReadonlyArray<HistoryInsert>) => Effect.Effect<void, SqlError>
  readonly insertPolls: (rows: ReadonlyArray<PollInsert>) => Effect.Effect<void, SqlError>
  /**
   * A write transaction that first writes the buffered rows. They are taken inside the transaction (on
   * SQLite, once the connection is held), so two flushes never reorder them.
   */
  readonly writeTransaction: <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  /** Writes what is buffered now (before history is read). */
  readonly flush: Effect.Effect<void, SqlError>
  /** Buffers one later page's history and poll-log row. */
  readonly buffer: (history: ReadonlyArray<HistoryInsert>, poll: PollInsert) => Effect.Effect<void>
}
