/**
 * The core `TokenVault` on the store's database, encrypted at rest with AES-256-GCM through the web-standard
 * `crypto.subtle`. The key is given to the layer (the server reads it from the environment) and never
 * reaches the database. Each row is bound to its (store, name) as additional data, so a ciphertext copied
 * to another row does not decrypt.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { TokenVault } from "@posbridge/core"
import { Clock, Data, Effect, Either, Encoding, Layer, Option, Redacted, Schema } from "effect"

export class VaultKeyInvalid extends Data.TaggedError("VaultKeyInvalid")<{ readonly problem: string }> {
  override get message() {
    return `The token vault key is not usable: ${this.problem}. Expected 32 random bytes in base64 (e.g. \`openssl rand -base64 32\`).`
  }
}

export class SecretUnreadable extends Data.TaggedError("SecretUnreadable")<{
  readonly storeId: string
  readonly name: string
}> {
  override get message() {
    return `The secret "${this.name}" of store "${this.storeId}" cannot be decrypted: the vault key is not the one it was written with, or the stored row was altered.`
  }
}

export interface Options {
  /** 32 random bytes, base64. */
  readonly key: Redacted.Redacted<string>
}

const SecretRow = Schema.Struct({ iv: Schema.String, ciphertext: Schema.String })

const text = new TextEncoder()
const additionalData = (storeId: string, name: string) => text.encode(`${storeId}\u0000${name}`)

const importKey = (key: Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const raw = Encoding.decodeBase64(Redacted.value(key).trim())
    if (Either.isLeft(raw)) return yield* new VaultKeyInvalid({ problem: "it is not base64" })
    if (raw.right.length !== 32) {
      return yield* new VaultKeyInvalid({ problem: `it is ${raw.right.length} bytes long, not 32` })
    }
    return yield* Effect.promise(() =>
      globalThis.crypto.subtle.importKey("raw", raw.right, { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
    )
  })

export const make = (
  options: Options
): Effect.Effect<TokenVault.TokenVaultService, VaultKeyInvalid, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const key = yield* importKey(options.key)

    const select = SqlSchema.findOne({
      Request: Schema.Struct({ storeId: Schema.String, name: Schema.String }),
      Result: SecretRow,
      execute: ({ storeId, name }) => sql`SELECT iv, ciphertext FROM pb_secrets
        WHERE store_id = ${storeId} AND name = ${name}`
    })

    const get = Effect.fn("SqlTokenVault.get")(function* (storeId: string, name: string) {
      const row = yield* select({ storeId, name }).pipe(Effect.orDie)
      if (Option.isNone(row)) return Option.none<Redacted.Redacted<string>>()
      const iv = Encoding.decodeBase64(row.value.iv)
      const data = Encoding.decodeBase64(row.value.ciphertext)
      if (Either.isLeft(iv) || Either.isLeft(data)) return yield* Effect.die(new SecretUnreadable({ storeId, name }))
      const plain = yield* Effect.tryPromise({
        try: () =>
          globalThis.crypto.subtle.decrypt(
            { name: "AES-GCM", iv: iv.right, additionalData: additionalData(storeId, name) },
            key,
            data.right
          ),
        catch: () => new SecretUnreadable({ storeId, name })
      }).pipe(Effect.orDie)
      return Option.some(Redacted.make(new TextDecoder().decode(plain)))
    })

    const set = Effect.fn("SqlTokenVault.set")(function* (
      storeId: string,
      name: string,
      value: Redacted.Redacted<string>
    ) {
      const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
      const sealed = yield* Effect.promise(() =>
        globalThis.crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: additionalData(storeId, name) },
          key,
          text.encode(Redacted.value(value))
        )
      )
      const at = yield* Clock.currentTimeMillis
      // Committed before returning: a rotated refresh token must not be lost (the old one is already void).
      yield* sql`INSERT INTO pb_secrets ${sql.insert({
        store_id: storeId,
        name,
        iv: Encoding.encodeBase64(iv),
        ciphertext: Encoding.encodeBase64(new Uint8Array(sealed)),
        updated_ms: at
      })} ON CONFLICT (store_id, name) DO UPDATE SET
        iv = excluded.iv, ciphertext = excluded.ciphertext, updated_ms = excluded.updated_ms`.pipe(Effect.orDie)
    })

    return TokenVault.TokenVault.of({ get, set })
  })

/** `TokenVault` on the database of the provided `SqlClient` (migrated by the engine layers). */
export const layer = (options: Options): Layer.Layer<TokenVault.TokenVault, VaultKeyInvalid, SqlClient.SqlClient> =>
  Layer.effect(TokenVault.TokenVault, make(options))
