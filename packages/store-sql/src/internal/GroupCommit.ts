/**
 * Group commit on SQLite: write transactions that arrive while one is running are run together in the next
 * transaction, each in a savepoint of its own, and committed with one fsync.
 *
 * SQLite has one writer and better-sqlite3 runs every statement on the event loop, so with
 * `synchronous = FULL` each commit blocked the whole process for one fsync of the WAL (about 4 ms on this
 * project's CI disk). Page 1 of every poll commits (its snapshot and watermark must be durable before it is
 * answered), so polls of many stores were bounded by fsyncs, not by work. Grouped, ten polls in flight cost
 * one fsync instead of ten; a lone write waits for nothing (it starts a group at once).
 *
 * What each writer sees is unchanged: its body runs in a transaction (a savepoint), rolls back alone when it
 * fails, and its caller is answered only once the group's commit is durable. If the commit itself fails,
 * nothing of the group was written and every writer gets that failure. A writer already inside a transaction
 * runs in it, as before.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Deferred, Effect, Exit, Option, type Scope } from "effect"

/** Bodies per group: a bound on how long the first writer of a busy group waits for the others. */
const maxGroup = 64

interface Job {
  readonly body: Effect.Effect<unknown, unknown>
  readonly done: Deferred.Deferred<unknown, unknown>
}

export type Transaction = <A, E, R>(body: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>

/**
 * `transaction` opens the group's transaction (and may write in it first, as the history buffer does); the
 * returned function runs a body through a group. The leader runs in `scope`: closing it interrupts the
 * writers still waiting.
 */
export const make = (
  sql: SqlClient.SqlClient,
  transaction: Transaction
): Effect.Effect<Transaction, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    let queue: Array<Job> = []
    let leading = false

    const interruptAll = (jobs: ReadonlyArray<Job>) =>
      Effect.forEach(jobs, (job) => Deferred.interrupt(job.done), { discard: true })

    const runGroup = (jobs: ReadonlyArray<Job>) =>
      transaction(Effect.forEach(jobs, (job) => Effect.exit(sql.withTransaction(job.body)))).pipe(
        Effect.exit,
        Effect.flatMap((group) =>
          Effect.forEach(
            jobs,
            (job, i) =>
              Deferred.done(job.done, Exit.isSuccess(group) ? group.value[i]! : (group as Exit.Exit<never, unknown>)),
            { discard: true }
          )
        ),
        Effect.onInterrupt(() => interruptAll(jobs))
      )

    const lead: Effect.Effect<void> = Effect.suspend(() => {
      const jobs = queue.slice(0, maxGroup)
      queue = queue.slice(jobs.length)
      if (jobs.length === 0) {
        leading = false
        return Effect.void
      }
      return Effect.zipRight(runGroup(jobs), lead)
    }).pipe(
      Effect.onInterrupt(() =>
        Effect.suspend(() => {
          const waiting = queue
          queue = []
          leading = false
          return interruptAll(waiting)
        })
      )
    )

    return <A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
      Effect.gen(function* () {
        if (Option.isSome(yield* Effect.serviceOption(SqlClient.TransactionConnection))) return yield* transaction(body)
        // The body runs on the leader's fiber: it takes its caller's services and clock along.
        const context = yield* Effect.context<R>()
        const clock = yield* Effect.clock
        const done = yield* Deferred.make<A, E | SqlError>()
        queue.push({
          body: body.pipe(Effect.provide(context), Effect.withClock(clock)),
          done: done as Deferred.Deferred<unknown, unknown>
        })
        if (!leading) {
          leading = true
          yield* Effect.forkIn(lead, scope)
        }
        return yield* Deferred.await(done)
      })
  })
