/**
 * The core `TokenVault` on the store's database, encrypted at rest with AES-256-GCM through the web-standard
 * `crypto.subtle`. The key is given to the layer (the server reads it from the environment) and never
 * reaches the database. Each row is bound to its (store, name) as additional data, so a ciphertext copied
 * to another row does not decrypt.
 *
 * Every write raises the row's `version` (migration 0004); `compareAndSet` writes with one
 * `UPDATE … WHERE version = <read>`, so of two replicas storing a rotated token at once exactly one wins.
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

/** `version` is a BIGINT: a string from PostgreSQL, a number from SQLite. */
const SecretRow = Schema.Struct({
  iv: Schema.String,
  ciphertext: Schema.String,
  version: Schema.Union(Schema.Number, Schema.NumberFromString)
})

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
      execute: ({ storeId, name }) => sql`SELECT iv, ciphertext, version FROM pb_secrets
        WHERE store_id = ${storeId} AND name = ${name}`
    })

    const open = (storeId: string, name: string, row: typeof SecretRow.Type) =>
      Effect.gen(function* () {
        const iv = Encoding.decodeBase64(row.iv)
        const data = Encoding.decodeBase64(row.ciphertext)
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
        return Redacted.make(new TextDecoder().decode(plain))
      })

    /** A fresh IV for every write (AES-GCM must never reuse one under a key). */
    const seal = (storeId: string, name: string, value: Redacted.Redacted<string>) =>
      Effect.gen(function* () {
        const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
        const sealed = yield* Effect.promise(() =>
          globalThis.crypto.subtle.encrypt(
            { name: "AES-GCM", iv, additionalData: additionalData(storeId, name) },
            key,
            text.encode(Redacted.value(value))
          )
        )
        return {
          iv: Encoding.encodeBase64(iv),
          ciphertext: Encoding.encodeBase64(new Uint8Array(sealed)),
          updated_ms: yield* Clock.currentTimeMillis
        }
      })

    const get = Effect.fn("SqlTokenVault.get")(function* (storeId: string, name: string) {
      const row = yield* select({ storeId, name }).pipe(Effect.orDie)
      if (Option.isNone(row)) return Option.none<Redacted.Redacted<string>>()
      return Option.some(yield* open(storeId, name, row.value))
    })

    const set = Effect.fn("SqlTokenVault.set")(function* (
      storeId: string,
      name: string,
      value: Redacted.Redacted<string>
    ) {
      const sealed = yield* seal(storeId, name, value)
      // Committed before returning: a rotated refresh token must not be lost (the old one is already void).
      yield* sql`INSERT INTO pb_secrets ${sql.insert({ store_id: storeId, name, ...sealed, version: 1 })}
        ON CONFLICT (store_id, name) DO UPDATE SET iv = excluded.iv, ciphertext = excluded.ciphertext,
        updated_ms = excluded.updated_ms, version = pb_secrets.version + 1`.pipe(Effect.orDie)
    })

    /**
     * The row's version is the compare-and-set's token: the stored value is decrypted and compared with
     * `expected` (ciphertexts differ at every write, so SQL cannot compare values), then ONE conditional
     * statement writes only if the row still has the version read. A writer in between raises the version,
     * so the UPDATE touches no row and this call answers false; no lock is held between the two statements.
     * The IV read is compared too: every write draws a fresh one, so a writer that does not raise the version
     * (a replica still on the code before migration 0004, during a rolling upgrade) is noticed as well.
     */
    const compareAndSet = Effect.fn("SqlTokenVault.compareAndSet")(function* (
      storeId: string,
      name: string,
      expected: Option.Option<Redacted.Redacted<string>>,
      next: Redacted.Redacted<string>
    ) {
      const sealed = yield* seal(storeId, name, next)
      if (Option.isNone(expected)) {
        const inserted =
          yield* sql`INSERT INTO pb_secrets ${sql.insert({ store_id: storeId, name, ...sealed, version: 1 })}
          ON CONFLICT (store_id, name) DO NOTHING RETURNING version`.pipe(Effect.orDie)
        return inserted.length === 1
      }
      const row = yield* select({ storeId, name }).pipe(Effect.orDie)
      if (Option.isNone(row)) return false
      const current = yield* open(storeId, name, row.value)
      if (!TokenVault.sameValue(Option.some(current), expected)) return false
      const updated = yield* sql`UPDATE pb_secrets SET iv = ${sealed.iv}, ciphertext = ${sealed.ciphertext},
        updated_ms = ${sealed.updated_ms}, version = version + 1
        WHERE store_id = ${storeId} AND name = ${name} AND version = ${row.value.version} AND iv = ${row.value.iv}
        RETURNING version`.pipe(Effect.orDie)
      return updated.length === 1
    })

    return TokenVault.TokenVault.of({ get, set, compareAndSet })
  })

/** `TokenVault` on the database of the provided `SqlClient` (migrated by the engine layers). */
export const layer = (options: Options): Layer.Layer<TokenVault.TokenVault, VaultKeyInvalid, SqlClient.SqlClient> =>
  Layer.effect(TokenVault.TokenVault, make(options))
