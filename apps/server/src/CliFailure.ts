/**
 * What the operator reads when a command fails. An expected failure — a wrong argument or configuration, an
 * unknown store or order, a database that is locked, missing or unreachable, a port already taken — is one
 * sentence; anything else is a defect of posbridge, left to be reported with its trace.
 *
 * Expected failures arrive in two ways: in the error channel (the commands fail with a sentence, or with a
 * tagged error that has one), or as a defect thrown by a driver (better-sqlite3 throws while opening a file).
 * Only drivers' errors that describe the environment are taken from the defects; a SQL syntax error stays a
 * defect.
 */
import { SqlError } from "@effect/sql/SqlError"
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { SqlTokenVault } from "@posbridge/store-sql"
import { AdapterRegistry } from "@posbridge/sync"
import { Cause, Effect, Option, Redacted, Schema } from "effect"
import * as Config from "./Config.js"

/** Where the data is, as a sentence names it (never the password of a PostgreSQL URL). */
export const databaseName = (database: Config.ServerConfig["database"]): string => {
  if (database.engine === "sqlite") return `The database ${database.file}`
  try {
    const url = new URL(Redacted.value(database.url))
    return `The PostgreSQL database ${url.pathname.replace(/^\//, "") || "postgres"} at ${url.hostname}:${url.port || 5432}`
  } catch {
    return "The PostgreSQL database (its URL is not a postgres:// address)"
  }
}

/** A sentence ends with one stop. */
const end = (s: string) => (/[.?!]$/.test(s) ? s : `${s}.`)

/** better-sqlite3's error: its `code` is SQLite's result code by name. */
const SqliteError = Schema.Struct({ name: Schema.Literal("SqliteError"), code: Schema.String, message: Schema.String })
const decodeSqliteError = Schema.decodeUnknownOption(SqliteError)

/** What SQLite's code says about the file or the machine, or undefined for a fault of the query (a defect). */
const sqliteProblem = (code: string, message: string): string | undefined => {
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED" || code.startsWith("SQLITE_BUSY_")) {
    return "is locked by another process (a running server holds it exclusively, or a long write); try again in a moment"
  }
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT"))
    return `is not a usable SQLite database (${message})`
  if (code.startsWith("SQLITE_CANTOPEN"))
    return "cannot be opened: does its directory exist, and may posbridge write there?"
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "SQLITE_AUTH") {
    return `cannot be written by posbridge (${message})`
  }
  if (code === "SQLITE_FULL") return "cannot grow: the disk is full"
  if (code.startsWith("SQLITE_IOERR")) return `could not be read or written (${message})`
  return undefined
}

/** A driver error's own words: PostgreSQL's "database x does not exist", Node's "connect ECONNREFUSED …". */
const Described = Schema.Struct({ message: Schema.NonEmptyTrimmedString })
const driverDetail = (cause: unknown): string =>
  Option.match(Schema.decodeUnknownOption(Described)(cause), { onNone: () => "", onSome: (c) => ` (${c.message})` })

/** The sentence for a database failure or driver defect, naming `database`; None when it is not one. */
const databaseSentence = (database: Config.ServerConfig["database"], error: unknown): Option.Option<string> => {
  const name = databaseName(database)
  const fromSqlite = (e: unknown) =>
    Option.flatMap(decodeSqliteError(e), (s) => Option.fromNullable(sqliteProblem(s.code, s.message)))
  if (error instanceof SqlError) {
    return Option.some(
      Option.match(fromSqlite(error.cause), {
        onSome: (problem) => end(`${name} ${problem}`),
        onNone: () => `${name} did not answer: ${error.message}${driverDetail(error.cause)}.`
      })
    )
  }
  if (error instanceof OrderStore.OrderStoreError) return Option.some(`${name} did not answer: ${error.message}.`)
  return Option.map(fromSqlite(error), (problem) => end(`${name} ${problem}`))
}

/**
 * Turns the database's expected failures (and better-sqlite3's defects about the file) of `self` into one
 * sentence naming the database; other failures and defects pass through unchanged.
 */
export const aboutDatabase =
  (database: Config.ServerConfig["database"]) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | string, R> =>
    Effect.catchAllCause(self, (cause): Effect.Effect<never, E | string> => {
      const reason = Option.orElse(Cause.failureOption(cause), () => Cause.dieOption(cause))
      const sentence = Option.flatMap(reason, (e) => databaseSentence(database, e))
      return Option.isSome(sentence) ? Effect.fail(sentence.value) : Effect.failCause(cause)
    })

/** Node's error when the HTTP port is taken. */
const AddressInUse = Schema.Struct({ code: Schema.Literal("EADDRINUSE"), port: Schema.Number })

const PlatformSystemError = Schema.Struct({
  _tag: Schema.Literal("SystemError"),
  pathOrDescriptor: Schema.optional(Schema.Union(Schema.String, Schema.Number)),
  description: Schema.optional(Schema.String),
  reason: Schema.String,
  method: Schema.String
})

/** What a file system call was doing, in words. */
const verbs: Readonly<Record<string, string>> = {
  makeDirectory: "create the directory",
  readFile: "read",
  readFileString: "read",
  writeFile: "write",
  remove: "remove",
  stat: "look at"
}

/** The one sentence of an expected failure (from the error channel), or None for anything else. */
export const ofFailure = (error: unknown): Option.Option<string> => {
  if (typeof error === "string") return Option.some(error)
  if (error instanceof Config.ConfigError) {
    return Option.some(`The configuration ${error.source} is invalid: ${error.problems.join("; ")}.`)
  }
  if (
    error instanceof OrderStore.OrderNotFound ||
    error instanceof StoreDirectory.UnknownStore ||
    error instanceof SqlTokenVault.VaultKeyInvalid ||
    error instanceof SqlTokenVault.SecretUnreadable ||
    error instanceof AdapterRegistry.AdapterConfigError
  ) {
    return Option.some(error.message)
  }
  if (error instanceof SqlError || error instanceof OrderStore.OrderStoreError) {
    return Option.some(`The database did not answer: ${error.message}${driverDetail(error.cause)}.`)
  }
  if (typeof error === "object" && error !== null && "_tag" in error && error._tag === "ServeError") {
    const cause = "cause" in error ? error.cause : undefined
    return Option.some(
      Option.match(Schema.decodeUnknownOption(AddressInUse)(cause), {
        onSome: (a) => `Port ${a.port} is already in use by another program: stop it, or set PORT to a free port.`,
        onNone: () => `The HTTP server could not start${driverDetail(cause)}.`
      })
    )
  }
  return Option.map(Schema.decodeUnknownOption(PlatformSystemError)(error), (e) =>
    end(`posbridge could not ${verbs[e.method] ?? e.method} ${e.pathOrDescriptor ?? ""}: ${e.description ?? e.reason}`)
  )
}

/**
 * The sentence for a command's failure, or None for a defect (reported with its trace) or an interruption.
 * A defect that is better-sqlite3 describing the file, where no command named the database, still gets one.
 */
export const sentence = (cause: Cause.Cause<unknown>): Option.Option<string> => {
  if (Cause.isInterruptedOnly(cause)) return Option.none()
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return ofFailure(failure.value)
  return Option.flatMap(Cause.dieOption(cause), (defect) =>
    Option.flatMap(decodeSqliteError(defect), (s) =>
      Option.map(Option.fromNullable(sqliteProblem(s.code, s.message)), (p) => end(`The SQLite database ${p}`))
    )
  )
}
