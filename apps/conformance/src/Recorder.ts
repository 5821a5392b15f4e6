/**
 * `conformance record`: captures a pull from a live POS into a fixture a merchant can contribute. The adapter's
 * PosSource is built from its descriptor over pos-testkit's `RecordingHttpClient` wrapping a real fetch client;
 * it pulls (at most `pages` batches), and the exchanges and the produced documents (`expected`) are written in
 * pos-testkit's fixture format, read by the adapter conformance like any hand-made fixture.
 *
 * Secrets never reach the file. The settings file may hold them inline or as `{"env": "NAME"}` references
 * (resolved here, never written out). Then: headers, JSON keys and parameters named like a secret
 * (Authorization, tokens, client secrets, passwords) are redacted by the recording client, and every secret
 * value of the settings (a resolved reference or a value under a secret-named key), as is and URL-encoded, is
 * replaced by `<redacted>` wherever it occurs: URLs, headers, bodies, expected documents, settings.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { SourceDocument, StoreSettings } from "@posbridge/core"
import { RecordedExchange, RecordingHttpClient } from "@posbridge/pos-testkit"
import { Chunk, Clock, Data, DateTime, Effect, Option, Ref, Schema, Stream } from "effect"
import * as Adapters from "./Adapters.js"
import * as FixtureProfile from "./FixtureProfile.js"
import * as Sources from "./internal/sources.js"

export class RecordError extends Data.TaggedError("RecordError")<{ readonly message: string }> {}

export interface Options {
  /** Built-in adapter id, package name or package directory. */
  readonly adapter: string
  /** JSON: `{ store: { id, documentKind }, <adapterId> | adapterSettings: {...}, description? }`. */
  readonly settingsFile: string
  readonly out: string
  /** Pull changes since this ISO instant; default 7 days before now. */
  readonly since?: string | undefined
  /** Stop after this many pages (batches). */
  readonly pages?: number | undefined
  /** Where `{"env": NAME}` references are read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

export interface Recorded {
  readonly file: string
  readonly exchanges: number
  readonly documents: number
  /** True when `pages` stopped the pull before the POS said it was done (or exactly at the end). */
  readonly truncated: boolean
}

const secretName = /secret|token|password|passwd|apikey|api_key|private/i

/** Headers worth keeping in a fixture: what adapters read from responses (rate limits) and content types. */
const keepHeaders = [
  "content-type",
  "retry-after",
  "link",
  "x-ls-api-bucket-level",
  "x-ls-api-drip-rate",
  "x-ls-api-request-cost"
]

const isEnvRef = (u: unknown): u is { env: string } =>
  typeof u === "object" &&
  u !== null &&
  !Array.isArray(u) &&
  Object.keys(u).length === 1 &&
  typeof (u as { env?: unknown }).env === "string"

/**
 * Resolves `{"env": NAME}` references. Returns the resolved value (for the adapter), the value to write (every
 * reference and secret-named value replaced by `<redacted>`), and every secret value seen.
 */
export const resolveSettings = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = "settings",
  secrets: Array<string> = [],
  underSecretKey = false
): { resolved: unknown; written: unknown; secrets: Array<string> } => {
  if (isEnvRef(value)) {
    const v = env[value.env]
    if (v === undefined || v === "")
      throw new RecordError({ message: `${path}: environment variable ${value.env} is not set` })
    secrets.push(v)
    return { resolved: v, written: RecordedExchange.REDACTED, secrets }
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => resolveSettings(v, env, `${path}[${i}]`, secrets, underSecretKey))
    return { resolved: items.map((i) => i.resolved), written: items.map((i) => i.written), secrets }
  }
  if (typeof value === "object" && value !== null) {
    const resolved: Record<string, unknown> = {}
    const written: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      const r = resolveSettings(v, env, `${path}.${k}`, secrets, underSecretKey || secretName.test(k))
      resolved[k] = r.resolved
      written[k] = r.written
    }
    return { resolved, written, secrets }
  }
  if (underSecretKey && typeof value === "string" && value !== "") {
    secrets.push(value)
    return { resolved: value, written: RecordedExchange.REDACTED, secrets }
  }
  return { resolved: value, written: value, secrets }
}

/** Every form a secret may take on the wire: as is, URL-encoded (both space styles), base64. */
const forms = (secrets: ReadonlyArray<string>): ReadonlyArray<string> =>
  [
    ...new Set(
      secrets.flatMap((s) => [
        s,
        encodeURIComponent(s),
        encodeURIComponent(s).replace(/%20/g, "+"),
        Buffer.from(s).toString("base64")
      ])
    )
  ]
    // Very short values would scrub ordinary text ("1", "true"); the key-based redaction still covers them.
    .filter((s) => s.length >= 4)
    .sort((a, b) => b.length - a.length)

/** Replaces every occurrence of a secret in every string (and key) of a JSON value. */
export const scrub = (value: unknown, secrets: ReadonlyArray<string>): unknown => {
  const all = forms(secrets)
  const go = (v: unknown): unknown => {
    if (typeof v === "string") return all.reduce((t, s) => t.split(s).join(RecordedExchange.REDACTED), v)
    if (Array.isArray(v)) return v.map(go)
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, inner]) => [go(k) as string, go(inner)]))
    }
    return v
  }
  return go(value)
}

const encodeDocument = Schema.encodeSync(SourceDocument.SourceDocument)

export const record = (options: Options): Effect.Effect<Recorded, RecordError> =>
  Effect.gen(function* () {
    const fail = (message: string) => new RecordError({ message })
    const target = yield* Adapters.load(options.adapter).pipe(Effect.mapError((e) => fail(e.message)))
    const descriptor = target.descriptor
    const text = yield* Effect.try({
      try: () => readFileSync(options.settingsFile, "utf8"),
      catch: () => fail(`cannot read the settings file ${options.settingsFile}`)
    })
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (e) => fail(`${options.settingsFile} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
    })
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return yield* fail(`${options.settingsFile} must hold a JSON object`)
    }
    const { description, ...rest } = json as Record<string, unknown>
    const settings = yield* Effect.try({
      try: () => resolveSettings(rest, options.env ?? process.env),
      catch: (e) => (e instanceof RecordError ? e : fail(String(e)))
    })
    const resolved = settings.resolved as Record<string, unknown>
    const store = FixtureProfile.Settings.pipe(Schema.pick("store"))
    const decodedStore = Schema.decodeUnknownEither(store)(resolved)
    if (decodedStore._tag === "Left") {
      return yield* fail(
        `${options.settingsFile}: "store": { "id": …, "documentKind": "orders" | "invoices" } is required`
      )
    }
    const adapterKey = resolved.adapterSettings !== undefined ? "adapterSettings" : descriptor.id
    const raw = resolved[adapterKey]
    if (raw === undefined) {
      return yield* fail(`${options.settingsFile}: the adapter's settings go under "${descriptor.id}"`)
    }
    const adapterSettings = yield* Schema.decodeUnknown(descriptor.settingsSchema, { errors: "all" })(raw).pipe(
      Effect.mapError((e) =>
        fail(`${options.settingsFile}: ${descriptor.id} settings: ${scrub(e.message, settings.secrets)}`)
      )
    )
    const storeSettings = Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
      id: decodedStore.right.store.id,
      adapter: descriptor.id,
      documentKind: decodedStore.right.store.documentKind,
      shipstation: { username: "recorder", password: "recorder" },
      settings: raw
    })

    const startedAt = yield* Clock.currentTimeMillis
    const since = options.since ?? DateTime.formatIso(DateTime.unsafeMake(startedAt - 7 * 86_400_000))
    const sinceUtc = DateTime.make(since)
    if (Option.isNone(sinceUtc)) return yield* fail(`--since: not an ISO instant: ${since}`)

    const into = yield* Ref.make<ReadonlyArray<RecordedExchange.Exchange>>([])
    const real = yield* HttpClient.HttpClient.pipe(Effect.provide(FetchHttpClient.layer))
    const client = RecordingHttpClient.wrap(real, into, { keepHeaders })
    const batches = yield* Effect.gen(function* () {
      const source = yield* Sources.build(descriptor, storeSettings, adapterSettings, client)
      const stream = source.pull(Option.none(), { since: DateTime.toUtc(sinceUtc.value) })
      return yield* Stream.runCollect(options.pages === undefined ? stream : Stream.take(stream, options.pages))
    }).pipe(
      Effect.scoped,
      Effect.mapError((e) => fail(`the pull failed: ${scrub(e.message, settings.secrets)}`))
    )
    const truncated = options.pages !== undefined && Chunk.size(batches) >= options.pages
    const documents = Chunk.toReadonlyArray(batches).flatMap((b) => b.documents.map((d) => encodeDocument(d)))
    const exchanges = yield* Ref.get(into)

    const written = settings.written as Record<string, unknown>
    const conformance = {
      ...(typeof written.conformance === "object" && written.conformance !== null ? written.conformance : {}),
      // The virtual clock of the replay starts when the recording did, so a request built from "now" matches.
      startTime: new Date(startedAt).toISOString(),
      // A resumed pull asks things the live POS was never asked (an item lookup for a different set of ids),
      // which no recording can answer: the resume check stays for hand-made fixtures.
      resume: false,
      ...(truncated ? { batches: options.pages } : {})
    }
    const fixture: RecordedExchange.Fixture = {
      description:
        typeof description === "string"
          ? description
          : `recorded with conformance record from a live ${descriptor.displayName} on ${new Date(startedAt).toISOString()}: changes since ${since}${truncated ? `, first ${options.pages} page(s) only` : ""}`,
      adapter: descriptor.id,
      settings: { ...written, action: { _tag: "pull", since }, conformance },
      exchanges,
      expected: documents
    }
    const safe = scrub(fixture, settings.secrets) as RecordedExchange.Fixture
    // What is written must be a valid fixture (the same decoding the harness applies on load).
    yield* RecordedExchange.decodeFixture(safe, options.out).pipe(Effect.mapError((e) => fail(e.message)))
    yield* Effect.try({
      try: () => writeFileSync(options.out, RecordedExchange.encodeFixture(safe)),
      catch: () => fail(`cannot write ${options.out}`)
    })
    return { file: options.out, exchanges: exchanges.length, documents: documents.length, truncated }
  })
