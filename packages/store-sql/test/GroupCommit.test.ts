/**
 * Group commit (SQLite): concurrent writers share one transaction, each body in its own savepoint. What a
 * writer may rely on: its own failure undoes only its own writes, it is answered after the commit, and a
 * failed commit fails every writer of the group with nothing written.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Exit, Layer, type Scope } from "effect"
import * as GroupCommit from "../src/internal/GroupCommit.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { tempDir } from "./support/Databases.js"

const withSqlite = <A, E>(body: (sql: SqlClient.SqlClient) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const client = yield* Layer.build(
      SqliteStore.layerClient({ filename: path.join(dir, "g.db"), synchronous: "normal" })
    )
    const sql = Context.get(client, SqlClient.SqlClient)
    yield* sql`CREATE TABLE t (k TEXT PRIMARY KEY)`
    return yield* body(sql)
  }).pipe(Effect.scoped)

const keys = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ k: string }>`SELECT k FROM t ORDER BY k`, (rows) => rows.map((r) => r.k))

describe("GroupCommit", () => {
  it.live("runs concurrent writers in fewer transactions; a failing writer undoes only its own rows", () =>
    withSqlite((sql) =>
      Effect.gen(function* () {
        let transactions = 0
        const group = yield* GroupCommit.make(sql, (body) => {
          transactions++
          return sql.withTransaction(body)
        })
        const write = (k: string, fail: boolean) =>
          group(
            Effect.zipRight(
              sql`INSERT INTO t (k) VALUES (${k})`,
              fail ? Effect.fail(`refused ${k}`) : Effect.succeed(k)
            )
          )
        const results = yield* Effect.all(
          Array.from({ length: 10 }, (_, i) => Effect.either(write(`k${i}`, i === 3))),
          { concurrency: "unbounded" }
        )
        expect(results.filter(Either.isLeft).map((e) => e.left)).toEqual(["refused k3"])
        expect(results.filter(Either.isRight).length).toBe(9)
        expect(yield* keys(sql)).toEqual(["k0", "k1", "k2", "k4", "k5", "k6", "k7", "k8", "k9"])
        // Ten writers, one commit for the first and one for the nine that queued behind it (at most).
        expect(transactions).toBeLessThanOrEqual(2)
        // A lone writer is not held back waiting for company.
        expect(yield* write("alone", false)).toBe("alone")
      })
    )
  )

  it.live("fails every writer of a group whose commit fails, and writes none of them", () =>
    withSqlite((sql) =>
      Effect.gen(function* () {
        const group = yield* GroupCommit.make(sql, (body) =>
          sql.withTransaction(
            Effect.zipRight(body, Effect.fail(new SqlError({ cause: "disk full", message: "commit failed" })))
          )
        )
        const exits = yield* Effect.all(
          ["a", "b", "c"].map((k) => Effect.exit(group(sql`INSERT INTO t (k) VALUES (${k})`))),
          { concurrency: "unbounded" }
        )
        for (const exit of exits) expect(Exit.isFailure(exit)).toBe(true)
        expect(yield* keys(sql)).toEqual([])
      })
    )
  )

  it.live("runs a writer already inside a transaction in that transaction", () =>
    withSqlite((sql) =>
      Effect.gen(function* () {
        const group = yield* GroupCommit.make(sql, (body) => sql.withTransaction(body))
        const outcome = yield* sql
          .withTransaction(Effect.zipRight(group(sql`INSERT INTO t (k) VALUES ('inner')`), Effect.fail("outer fails")))
          .pipe(Effect.either)
        expect(Either.isLeft(outcome)).toBe(true)
        expect(yield* keys(sql)).toEqual([])
      })
    )
  )
})
