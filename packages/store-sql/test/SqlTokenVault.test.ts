import * as path from "node:path"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { TokenVault } from "@posbridge/core"
import { Cause, Effect, Encoding, Exit, Layer, Option, Redacted } from "effect"
import * as SqliteStore from "../src/SqliteStore.js"
import * as SqlTokenVault from "../src/SqlTokenVault.js"
import { tempDir } from "./support/Databases.js"

const key = (fill: number) => Redacted.make(Encoding.encodeBase64(new Uint8Array(32).fill(fill)))

const client = Layer.unwrapScoped(
  Effect.map(tempDir, (dir) => SqliteStore.layerClient({ filename: path.join(dir, "vault.db"), synchronous: "normal" }))
)

layer(client)("SqlTokenVault", (it) => {
  it.effect("a secret written is read back, the newest value wins, and an unknown one is absent", () =>
    Effect.gen(function* () {
      const vault = yield* SqlTokenVault.make({ key: key(1) })
      expect(yield* vault.get("s1", "refresh_token")).toEqual(Option.none())
      yield* vault.set("s1", "refresh_token", Redacted.make("first"))
      yield* vault.set("s1", "refresh_token", Redacted.make("rotated-refresh-token"))
      const value = yield* vault.get("s1", "refresh_token")
      expect(Option.map(value, Redacted.value)).toEqual(Option.some("rotated-refresh-token"))
      expect(yield* vault.get("s2", "refresh_token")).toEqual(Option.none())
    })
  )

  it.effect("the table holds ciphertext that does not contain the plaintext", () =>
    Effect.gen(function* () {
      const vault = yield* SqlTokenVault.make({ key: key(1) })
      const secret = "plain-secret-value-1234567890"
      yield* vault.set("s3", "api_key", Redacted.make(secret))
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ iv: string; ciphertext: string }>`SELECT iv, ciphertext FROM pb_secrets
        WHERE store_id = 's3'`
      const stored = JSON.stringify(rows)
      expect(rows.length).toBe(1)
      expect(stored).not.toContain(secret)
      expect(stored).not.toContain(Encoding.encodeBase64(secret))
    })
  )

  it.effect("reading with another key fails with a message naming the secret and the cause", () =>
    Effect.gen(function* () {
      const writer = yield* SqlTokenVault.make({ key: key(1) })
      yield* writer.set("s4", "refresh_token", Redacted.make("token"))
      const reader = yield* SqlTokenVault.make({ key: key(2) })
      const exit = yield* Effect.exit(reader.get("s4", "refresh_token"))
      expect(Exit.isFailure(exit)).toBe(true)
      const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      expect(defect).toBeInstanceOf(SqlTokenVault.SecretUnreadable)
      expect((defect as Error).message).toMatch(/"refresh_token" of store "s4" cannot be decrypted: the vault key/)
    })
  )

  it.effect("a ciphertext copied to another store's row does not decrypt", () =>
    Effect.gen(function* () {
      const vault = yield* SqlTokenVault.make({ key: key(1) })
      yield* vault.set("s5", "token", Redacted.make("store five's secret"))
      yield* vault.set("s6", "token", Redacted.make("store six's secret"))
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE pb_secrets SET (iv, ciphertext) = (SELECT iv, ciphertext FROM pb_secrets
        WHERE store_id = 's5' AND name = 'token') WHERE store_id = 's6' AND name = 'token'`
      const exit = yield* Effect.exit(vault.get("s6", "token"))
      expect(Exit.isFailure(exit)).toBe(true)
    })
  )

  it.effect("a key that is not 32 bytes of base64 is rejected when the vault is built", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(SqlTokenVault.make({ key: Redacted.make("hunter2") }))
      expect(error._tag).toBe("VaultKeyInvalid")
      expect(error.message).toMatch(/32 random bytes in base64/)
      expect(error.message).not.toContain("hunter2")
    })
  )
})

// The layer provides the port the adapters use.
layer(Layer.provideMerge(SqlTokenVault.layer({ key: key(7) }), client))("SqlTokenVault.layer", (it) => {
  it.effect("provides TokenVault", () =>
    Effect.gen(function* () {
      const vault = yield* TokenVault.TokenVault
      yield* vault.set("s7", "n", Redacted.make("v"))
      expect(Option.map(yield* vault.get("s7", "n"), Redacted.value)).toEqual(Option.some("v"))
    })
  )
})
