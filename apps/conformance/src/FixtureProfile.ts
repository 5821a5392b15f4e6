/**
 * How the harness reads a recorded fixture (pos-testkit's `RecordedExchange.Fixture`, validated on load by
 * `decodeFixture`): the fixture format is shared, but `settings` and `expected` are adapter-shaped, so this module
 * fixes the conventions every adapter's fixtures follow (docs/adding-a-pos.md has the full description):
 *
 *   settings.store                 { id, documentKind }: the store the adapter is built for
 *   settings[adapterId]            the adapter's own settings (or `settings.adapterSettings`); secret settings the
 *                                  recorder redacted or left out are replayed as "<redacted>", which replay
 *                                  matches as a wildcard
 *   settings.action                { _tag: "pull", since, cursor? } | { _tag: "writeBack", notice }
 *     or settings.pull / settings.shipNotice   the same, as two optional fields (both may be present)
 *   settings.conformance           optional: { expectHeld?: [posRef…], resume?: false, startTime?: ISO instant,
 *                                  batches?: N (a recording cut after N pages) }
 *   expected                       [SourceDocument…] | { documents, cursor? } | { summary } | { error: { kind, message } }
 *   expectedWriteBacks             optional [summary…] for the write-back of `shipNotice`
 */
import { type AdapterDescriptor, ShipNotice, StoreSettings } from "@posbridge/core"
import type { RecordedExchange } from "@posbridge/pos-testkit"
import { DateTime, Either, ParseResult, Schema, SchemaAST } from "effect"

export const Conformance = Schema.Struct({
  /** posRefs whose orders are expected to be held back by ShipStation's field rules. */
  expectHeld: Schema.optional(Schema.Array(Schema.String)),
  /** `false` skips the resume-at-every-exchange check (say why in the fixture's description). */
  resume: Schema.optional(Schema.Boolean),
  /** The virtual clock's start; default the pull's `since` plus one day, or 2024-06-01. */
  startTime: Schema.optional(Schema.String),
  /**
   * The pull was recorded with `conformance record --pages N`: only its first N batches are replayed (the
   * recording stops there), and the resume check is off (`resume: false`), since a resumed pull would go on.
   */
  batches: Schema.optional(Schema.Int.pipe(Schema.positive()))
})

const Pull = Schema.Struct({ since: Schema.String, cursor: Schema.optional(Schema.String) })

export const Settings = Schema.Struct(
  {
    store: Schema.Struct({ id: Schema.String, documentKind: Schema.Literal("invoices", "orders") }),
    adapterSettings: Schema.optional(Schema.Unknown),
    action: Schema.optional(
      Schema.Union(
        Schema.TaggedStruct("pull", Pull.fields),
        Schema.TaggedStruct("writeBack", { notice: Schema.Unknown })
      )
    ),
    pull: Schema.optional(Pull),
    shipNotice: Schema.optional(Schema.Unknown),
    conformance: Schema.optional(Conformance)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

export const ExpectedError = Schema.Struct({ error: Schema.Struct({ kind: Schema.String, message: Schema.String }) })

export interface Profile {
  readonly store: StoreSettings.StoreSettings
  readonly adapterSettings: unknown
  readonly pull: { readonly since: DateTime.Utc; readonly cursor: string | undefined } | undefined
  readonly notice: ShipNotice.ShipNotice | undefined
  readonly expectedDocuments: ReadonlyArray<unknown> | undefined
  readonly expectedCursor: string | null | undefined
  readonly expectedWriteBacks: ReadonlyArray<string> | undefined
  readonly expectedError: { readonly kind: string; readonly message: string } | undefined
  readonly expectHeld: ReadonlySet<string>
  readonly resume: boolean
  readonly startMillis: number
  /** Replay only the first N batches of the pull (a recording bounded by `--pages`). */
  readonly maxBatches: number | undefined
}

const secretName = /secret|token|password|apikey|api_key/i

/** Names of the settings schema's top-level properties that hold secrets. */
const secretKeys = (schema: Schema.Schema.Any): ReadonlyArray<string> => {
  try {
    return SchemaAST.getPropertySignatures(schema.ast)
      .map((p) => String(p.name))
      .filter((n) => secretName.test(n))
  } catch {
    return []
  }
}

const issues = (error: ParseResult.ParseError, prefix: string) =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map(
    (i) => `${[prefix, ...i.path.map(String)].filter((s) => s !== "").join(".")}: ${i.message}`
  )

/** Reads a decoded fixture for `descriptor`; the Left lists every problem with its path. */
export const interpret = (
  fixture: RecordedExchange.Fixture,
  descriptor: AdapterDescriptor.AdapterDescriptor
): Either.Either<Profile, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const decoded = Schema.decodeUnknownEither(Settings, { errors: "all" })(fixture.settings)
  if (Either.isLeft(decoded)) return Either.left(issues(decoded.left, "settings"))
  const s = decoded.right
  const raw = s.adapterSettings ?? (s as Record<string, unknown>)[descriptor.id] ?? {}
  const withSecrets: Record<string, unknown> = { ...(raw as Record<string, unknown>) }
  for (const key of secretKeys(descriptor.settingsSchema)) {
    if (withSecrets[key] === undefined) withSecrets[key] = "<redacted>"
  }
  const adapterSettings = Schema.decodeUnknownEither(descriptor.settingsSchema, { errors: "all" })(withSecrets)
  if (Either.isLeft(adapterSettings)) problems.push(...issues(adapterSettings.left, `settings.${descriptor.id}`))

  const pullRaw = s.action?._tag === "pull" ? s.action : s.pull
  let pull: Profile["pull"]
  if (pullRaw !== undefined) {
    const since = DateTime.make(pullRaw.since)
    if (since._tag === "None") problems.push(`settings.pull.since: not an ISO instant: ${pullRaw.since}`)
    else pull = { since: DateTime.toUtc(since.value), cursor: pullRaw.cursor }
  }
  const noticeRaw = s.action?._tag === "writeBack" ? s.action.notice : s.shipNotice
  let notice: ShipNotice.ShipNotice | undefined
  if (noticeRaw !== undefined) {
    const n = Schema.decodeUnknownEither(ShipNotice.ShipNotice, { errors: "all" })(noticeRaw)
    if (Either.isLeft(n)) problems.push(...issues(n.left, "settings.shipNotice"))
    else notice = n.right
  }
  if (pull === undefined && notice === undefined) problems.push("settings: neither a pull nor a ship notice to run")

  const e = fixture.expected
  let expectedDocuments: ReadonlyArray<unknown> | undefined
  let expectedCursor: string | null | undefined
  let expectedError: Profile["expectedError"]
  let expectedWriteBacks = Array.isArray(fixture.expectedWriteBacks)
    ? (fixture.expectedWriteBacks as ReadonlyArray<string>)
    : undefined
  if (Array.isArray(e)) expectedDocuments = e
  else if (typeof e === "object" && e !== null) {
    const o = e as Record<string, unknown>
    if (Array.isArray(o.documents)) expectedDocuments = o.documents
    if ("cursor" in o) expectedCursor = (o.cursor as string | null) ?? null
    if (typeof o.summary === "string") expectedWriteBacks = [o.summary]
    const err = Schema.decodeUnknownEither(ExpectedError)(o)
    if (Either.isRight(err)) expectedError = err.right.error
  }
  if (pull !== undefined && expectedDocuments === undefined && expectedError === undefined) {
    problems.push("expected: a pull fixture must give the expected documents (or the expected error)")
  }
  if (problems.length > 0 || Either.isLeft(adapterSettings)) return Either.left(problems)

  const start =
    s.conformance?.startTime ??
    (pull ? DateTime.formatIso(DateTime.add(pull.since, { days: 1 })) : "2024-06-01T00:00:00Z")
  const store = Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
    id: s.store.id,
    adapter: descriptor.id,
    documentKind: s.store.documentKind,
    shipstation: { username: "conformance", password: "conformance" },
    settings: raw
  })
  return Either.right({
    store,
    adapterSettings: adapterSettings.right,
    pull,
    notice,
    expectedDocuments,
    expectedCursor,
    expectedWriteBacks,
    expectedError,
    expectHeld: new Set(s.conformance?.expectHeld ?? []),
    resume: (s.conformance?.resume ?? true) && s.conformance?.batches === undefined,
    startMillis: Date.parse(start),
    maxBatches: s.conformance?.batches
  })
}
