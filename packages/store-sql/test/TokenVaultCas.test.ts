/**
 * The vault's compare-and-set, one contract for every implementation: memory (core), SQLite (two connections on
 * one file, as two processes) and PostgreSQL (two pools on one database, as two replicas). A rotated token is
 * written only over the value its writer read; of writers racing from one read, exactly one wins.
 */
import * as path from "node:path"
import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { TokenVault } from "@posbridge/core"
import { Context, Effect, Encoding, Layer, Option, Redacted, type Scope } from "effect"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlTokenVault from "../src/SqlTokenVault.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"

const key = SqlTokenVault.layer({ key: Redacted.make(Encoding.encodeBase64(new Uint8Array(32).fill(3))) })
const name = "lightspeed.refreshToken"
const value = (v: Option.Option<Redacted.Redacted<string>>) => Option.map(v, Redacted.value)
const some = (v: string) => Option.some(Redacted.make(v))

/** Two vaults on one database (two processes), or one vault twice where there is no database. */
type TwoVaults = Effect.Effect<
  readonly [TokenVault.TokenVaultService, TokenVault.TokenVaultService],
  unknown,
  Scope.Scope
>

const vaultOn = (client: Layer.Layer<SqlClient.SqlClient, unknown>) =>
  Effect.map(Layer.build(key.pipe(Layer.provide(client))), (ctx) => Context.get(ctx, TokenVault.TokenVault))

const contract = (twoVaults: TwoVaults) => {
  it.scoped("a token is written only over the value read, and only where none was when none was read", () =>
    Effect.gen(function* () {
      const [vault] = yield* twoVaults
      expect(yield* vault.compareAndSet("s1", name, some("r0"), Redacted.make("r1"))).toBe(false)
      expect(value(yield* vault.get("s1", name))).toEqual(Option.none())
      expect(yield* vault.compareAndSet("s1", name, Option.none(), Redacted.make("r1"))).toBe(true)
      expect(yield* vault.compareAndSet("s1", name, Option.none(), Redacted.make("other"))).toBe(false)
      expect(yield* vault.compareAndSet("s1", name, some("r0"), Redacted.make("other"))).toBe(false)
      expect(value(yield* vault.get("s1", name))).toEqual(Option.some("r1"))
      expect(yield* vault.compareAndSet("s1", name, some("r1"), Redacted.make("r2"))).toBe(true)
      expect(value(yield* vault.get("s1", name))).toEqual(Option.some("r2"))
      // A value written unconditionally (a fresh authorization) makes every older read stale.
      yield* vault.set("s1", name, Redacted.make("fresh"))
      expect(yield* vault.compareAndSet("s1", name, some("r2"), Redacted.make("r3"))).toBe(false)
      expect(value(yield* vault.get("s1", name))).toEqual(Option.some("fresh"))
      // Another store's secret of the same name is another row.
      expect(yield* vault.compareAndSet("s2", name, Option.none(), Redacted.make("x"))).toBe(true)
      expect(value(yield* vault.get("s1", name))).toEqual(Option.some("fresh"))
    })
  )

  it.scoped(
    "of twelve writers in two processes racing from the same read, exactly one wins, 20 times over",
    () =>
      Effect.gen(function* () {
        const [a, b] = yield* twoVaults
        for (let round = 0; round < 20; round++) {
          const read = `round-${round}`
          yield* a.set("race", name, Redacted.make(read))
          const writers = Array.from({ length: 12 }, (_, i) =>
            Effect.map((i % 2 === 0 ? a : b).compareAndSet("race", name, some(read), Redacted.make(`w${i}`)), (won) =>
              won ? [`w${i}`] : []
            )
          )
          const winners = (yield* Effect.all(writers, { concurrency: "unbounded" })).flat()
          expect(winners).toHaveLength(1)
          expect(value(yield* b.get("race", name))).toEqual(Option.some(winners[0]))
        }
      }),
    // Twenty rounds of twelve writers over two pools: about a second on a quiet machine, past the default 5 s on
    // a loaded one.
    30_000
  )
}

describe("TokenVault.compareAndSet in memory", () => {
  contract(Effect.map(TokenVault.makeMemory, (v) => [v, v] as const))
})

describe("TokenVault.compareAndSet on SQLite (two connections on one file)", () => {
  contract(
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "vault.db")
      const first = yield* vaultOn(SqliteStore.layerClient({ filename, synchronous: "normal" }))
      const second = yield* vaultOn(SqliteStore.layerClient({ filename, synchronous: "normal" }))
      return [first, second] as const
    })
  )
})

await withPostgres(() =>
  describe("TokenVault.compareAndSet on PostgreSQL (two pools on one database)", () => {
    contract(
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        const first = yield* vaultOn(PgStore.layerClient({ url }))
        const second = yield* vaultOn(PgStore.layerClient({ url }))
        return [first, second] as const
      })
    )
  })
)
