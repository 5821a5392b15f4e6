/**
 * The recorded-fixture format shared by every POS adapter: one JSON file per scenario holding the adapter's
 * settings (secrets redacted), the HTTP exchanges in the order they happened, and the adapter's expected output.
 *
 * The testkit treats `settings`, `expected` and `expectedWriteBacks` as opaque: each adapter decodes them with
 * its own schemas. Bodies are JSON values, or strings when the wire body was not JSON.
 *
 * @since 0.0.0
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { formatPath, isPlainObject } from "./internal/json.js"

/** The value that replaces every secret in a fixture. Replay treats it as a wildcard. */
export const REDACTED = "<redacted>"

/** An HTTP method as it appears in a fixture. */
export const Method = Schema.Literal("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
export type Method = typeof Method.Type

/** Header names and values; names are compared case-insensitively. */
export const HeaderMap = Schema.Record({ key: Schema.String, value: Schema.String })

/** Path plus query, never scheme or host, so one recording replays against any base URL. */
export const RelativeUrl = Schema.String.pipe(
  Schema.filter((s) => s.startsWith("/") && !s.startsWith("//"), {
    message: (issue) =>
      `Expected a path with an optional query, starting with "/" and without scheme or host, got ${JSON.stringify(issue.actual)}`
  })
)

/** A body: any JSON value, or a string when the wire body was not JSON (form-encoded, XML, truncated). */
export const Body = Schema.Unknown

export const RecordedRequest = Schema.Struct({
  method: Method,
  url: RelativeUrl,
  headers: Schema.optional(HeaderMap),
  body: Schema.optional(Body)
})
export type RecordedRequest = typeof RecordedRequest.Type

export const RecordedResponse = Schema.Struct({
  status: Schema.Int.pipe(Schema.between(200, 599)),
  headers: Schema.optional(HeaderMap),
  body: Schema.optional(Body)
})
export type RecordedResponse = typeof RecordedResponse.Type

export const Exchange = Schema.Struct({
  request: RecordedRequest,
  response: RecordedResponse,
  note: Schema.optional(Schema.String)
})
export type Exchange = typeof Exchange.Type

export const Fixture = Schema.Struct({
  description: Schema.String,
  adapter: Schema.String,
  settings: Schema.Unknown,
  exchanges: Schema.Array(Exchange),
  expected: Schema.optional(Schema.Unknown),
  expectedWriteBacks: Schema.optional(Schema.Unknown)
})
export type Fixture = typeof Fixture.Type

/** One problem found while decoding a fixture. */
export const FixtureIssue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type FixtureIssue = typeof FixtureIssue.Type

/**
 * A fixture file that cannot be used. The message names the file and the path of each bad field, e.g.
 * `fixture sales.json is invalid: exchanges[1].response.status: Expected number, actual "200"`.
 */
export class FixtureError extends Schema.TaggedError<FixtureError>()("FixtureError", {
  file: Schema.String,
  issues: Schema.Array(FixtureIssue)
}) {
  override get message(): string {
    const lines = this.issues.map((issue) => `${issue.path === "" ? "(root)" : issue.path}: ${issue.message}`)
    return `fixture ${this.file} is invalid: ${lines.join("; ")}`
  }
}

const decodeUnknown = Schema.decodeUnknown(Fixture, { errors: "all", onExcessProperty: "error" })

/**
 * Decodes a fixture from its JSON text or an already parsed value. `fileName` is only used in errors.
 */
export const decodeFixture = (json: unknown, fileName: string): Effect.Effect<Fixture, FixtureError> => {
  let input = json
  if (typeof json === "string") {
    try {
      input = JSON.parse(json)
    } catch (cause) {
      return Effect.fail(
        new FixtureError({
          file: fileName,
          issues: [{ path: "", message: `not valid JSON (${cause instanceof Error ? cause.message : String(cause)})` }]
        })
      )
    }
  }
  return decodeUnknown(input).pipe(
    Effect.mapError(
      (error) =>
        new FixtureError({
          file: fileName,
          issues: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
            path: formatPath(issue.path),
            message: issue.message
          }))
        })
    )
  )
}

/** Renders a fixture as stable, pretty JSON (what the recorder writes to disk). */
export const encodeFixture = (fixture: Fixture): string => `${JSON.stringify(fixture, null, 2)}\n`

// ---------------------------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------------------------

/**
 * Keys whose values never reach a fixture: header names, JSON keys, query and form parameters (case-insensitive).
 */
export const defaultSecretKeys: ReadonlyArray<string> = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "access_token",
  "refresh_token",
  "client_secret",
  "password",
  "code_verifier",
  "api_key",
  "apiKey",
  "token"
]

const keySet = (secretKeys: ReadonlyArray<string>): ReadonlySet<string> =>
  new Set(secretKeys.map((key) => key.toLowerCase()))

const redactWith = (value: unknown, secrets: ReadonlySet<string>): unknown => {
  if (Array.isArray(value)) return value.map((item) => redactWith(item, secrets))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      out[key] = secrets.has(key.toLowerCase()) ? REDACTED : redactWith(inner, secrets)
    }
    return out
  }
  return value
}

/**
 * Replaces secrets in a JSON value (a body, adapter settings) or a header record: every property whose key is
 * a secret key becomes `"<redacted>"`, at any depth. Strings are returned unchanged; use `redactFormText` and
 * `redactUrl` for form bodies and query strings.
 */
export const redact = <A>(value: A, secretKeys: ReadonlyArray<string> = defaultSecretKeys): A =>
  redactWith(value, keySet(secretKeys)) as A

const redactParams = (params: URLSearchParams, secrets: ReadonlySet<string>): boolean => {
  let changed = false
  for (const key of new Set(params.keys())) {
    if (secrets.has(key.toLowerCase())) {
      const count = params.getAll(key).length
      params.delete(key)
      for (let i = 0; i < count; i++) params.append(key, REDACTED)
      changed = true
    }
  }
  return changed
}

/** Redacts secret parameters of an `application/x-www-form-urlencoded` body. */
export const redactFormText = (text: string, secretKeys: ReadonlyArray<string> = defaultSecretKeys): string => {
  const params = new URLSearchParams(text)
  return redactParams(params, keySet(secretKeys)) ? params.toString() : text
}

/** Redacts secret query parameters of a url (absolute, or path + query). Other parameters keep their encoding. */
export const redactUrl = (url: string, secretKeys: ReadonlyArray<string> = defaultSecretKeys): string => {
  const queryStart = url.indexOf("?")
  if (queryStart < 0) return url
  const hashStart = url.indexOf("#", queryStart)
  const query = url.slice(queryStart + 1, hashStart < 0 ? undefined : hashStart)
  const secrets = keySet(secretKeys)
  const parts = query.split("&").map((part) => {
    const eq = part.indexOf("=")
    const rawKey = eq < 0 ? part : part.slice(0, eq)
    let key = rawKey
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, " "))
    } catch {
      // keep the raw key: a malformed escape is not a secret we can recognise
    }
    return secrets.has(key.toLowerCase()) ? `${rawKey}=${encodeURIComponent(REDACTED)}` : part
  })
  return `${url.slice(0, queryStart + 1)}${parts.join("&")}${hashStart < 0 ? "" : url.slice(hashStart)}`
}
