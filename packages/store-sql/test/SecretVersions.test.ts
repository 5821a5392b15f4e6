/**
 * Upgrading to migration 0004 (`pb_secrets.version`): a refresh token stored by the code before it still reads
 * with the same key, and is rotated with a compare-and-set that only the writer holding it can win.
 */
import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { TokenVault } from "@posbridge/core"
import { Context, Effect, Encoding, Layer, Option, Redacted, type Scope } from "effect"
import init from "../src/internal/migrations/0001_init.js"
import laterPages from "../src/internal/migrations/0002_later_pages.js"
import noticeKeys from "../src/internal/migrations/0003_notice_keys.js"
import * as Migrations from "../src/Migrations.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlTokenVault from "../src/SqlTokenVault.js"
import { pgDatabase, tempDir, withPostgres } from "./support/Databases.js"

const rawKey = new Uint8Array(32).fill(9)
const name = "lightspeed.refreshToken"

/**
 * A secret written as the code before 0004 wrote them (AES-256-GCM, a 12-byte IV, the (store, name) pair as
 * additional data, an upsert that does not know `version`), written out here rather than taken from the code
 * under test.
 */
const writeAsBefore0004 = (storeId: string, value: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const key = yield* Effect.promise(() =>
      crypto.subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt"])
    )
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = yield* Effect.promise(() =>
      crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(`${storeId}\u0000${name}`) },
        key,
        new TextEncoder().encode(value)
      )
    )
    yield* sql`INSERT INTO pb_secrets ${sql.insert({
      store_id: storeId,
      name,
      iv: Encoding.encodeBase64(iv),
      ciphertext: Encoding.encodeBase64(new Uint8Array(sealed)),
      updated_ms: 0
    })} ON CONFLICT (store_id, name) DO UPDATE SET
      iv = excluded.iv, ciphertext = excluded.ciphertext, updated_ms = excluded.updated_ms`
  })

/** What the code before 0004 left: its schema and two stores' refresh tokens. */
const asLeftBefore0004 = Effect.gen(function* () {
  yield* Migrator.make({})({
    loader: Migrator.fromRecord({ "0001_init": init, "0002_later_pages": laterPages, "0003_notice_keys": noticeKeys }),
    table: Migrations.table
  })
  for (const storeId of ["old-1", "old-2"]) yield* writeAsBefore0004(storeId, `refresh-of-${storeId}`)
})

const upgrade = (
  old: Layer.Layer<SqlClient.SqlClient, unknown>,
  current: Layer.Layer<SqlClient.SqlClient, unknown>
): Effect.Effect<void, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.scoped(Effect.provide(asLeftBefore0004, old))
    const layer = SqlTokenVault.layer({ key: Redacted.make(Encoding.encodeBase64(rawKey)) })
    const vault = Context.get(yield* Layer.build(layer.pipe(Layer.provide(current))), TokenVault.TokenVault)
    const read = yield* vault.get("old-1", name)
    expect(Option.map(read, Redacted.value)).toEqual(Option.some("refresh-of-old-1"))
    // A stale read loses; the read one wins once; the other old secret is untouched.
    expect(yield* vault.compareAndSet("old-1", name, Option.some(Redacted.make("stale")), Redacted.make("x"))).toBe(
      false
    )
    expect(yield* vault.compareAndSet("old-1", name, read, Redacted.make("rotated"))).toBe(true)
    expect(yield* vault.compareAndSet("old-1", name, read, Redacted.make("rotated-again"))).toBe(false)
    expect(Option.map(yield* vault.get("old-1", name), Redacted.value)).toEqual(Option.some("rotated"))
    expect(Option.map(yield* vault.get("old-2", name), Redacted.value)).toEqual(Option.some("refresh-of-old-2"))
    // During a rolling upgrade a replica still on the old code writes without raising the version: a read
    // taken before its write is stale all the same.
    const before = yield* vault.get("old-2", name)
    yield* Effect.scoped(Effect.provide(writeAsBefore0004("old-2", "from-an-old-replica"), old))
    expect(yield* vault.compareAndSet("old-2", name, before, Redacted.make("lost"))).toBe(false)
    expect(Option.map(yield* vault.get("old-2", name), Redacted.value)).toEqual(Option.some("from-an-old-replica"))
  })

describe("upgrading the token vault (migration 0004) on a database written before it", () => {
  it.scoped("SQLite", () =>
    Effect.gen(function* () {
      const filename = path.join(yield* tempDir, "store.db")
      yield* upgrade(SqliteClient.layer({ filename }), SqliteStore.layerClient({ filename }))
    })
  )
})

await withPostgres(() =>
  describe("upgrading the token vault (migration 0004) on a database written before it", () => {
    it.scoped("PostgreSQL", () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        yield* upgrade(PgClient.layer({ url: Redacted.make(url) }), PgStore.layerClient({ url }))
      })
    )
  })
)
