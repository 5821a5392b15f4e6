/**
 * Adapter conformance: an adapter package's recorded fixtures replayed through a strict replaying HttpClient.
 * For each fixture: the produced documents equal `expected` (a diff names the order and the field, and the
 * exchange after which it was produced); the write-back requests match the recording and its summary the
 * expected one; after every recorded 429/503 with Retry-After the next request waits at least that long; every
 * produced order passes ShipStation's field rules (unless the fixture expects it held); and the pull is
 * resumable at every exchange boundary (stop before exchange k, restart from the last committed cursor, same
 * final store content as the uninterrupted run).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { type AdapterDescriptor, MemoryOrderStore, Order, OrderStore, PosSource, SourceDocument } from "@posbridge/core"
import { RecordedExchange, ReplayHttpClient } from "@posbridge/pos-testkit"
import { FieldRules } from "@posbridge/shipstation"
import { Cause, Chunk, Clock, Effect, Either, Exit, Option, Schema, Stream } from "effect"
import * as FixtureProfile from "./FixtureProfile.js"
import * as Replay from "./internal/replay.js"
import * as Sources from "./internal/sources.js"
import * as VirtualTime from "./internal/virtualTime.js"
import type * as Report from "./Report.js"

const buildSource = (
  descriptor: AdapterDescriptor.AdapterDescriptor,
  profile: FixtureProfile.Profile,
  client: HttpClient.HttpClient
) => Sources.build(descriptor, profile.store, profile.adapterSettings, client)

interface Batch {
  readonly documents: ReadonlyArray<SourceDocument.SourceDocument>
  readonly cursor: string
  /** Exchanges consumed when the batch was emitted. */
  readonly afterExchange: number
}

const collect = (
  source: PosSource.PosSourceService,
  cursor: Option.Option<string>,
  profile: FixtureProfile.Profile,
  consumed: Effect.Effect<number>,
  onBatch: (batch: Batch) => Effect.Effect<void> = () => Effect.void
) =>
  source.pull(cursor, { since: profile.pull!.since }).pipe(
    (stream) => (profile.maxBatches === undefined ? stream : Stream.take(stream, profile.maxBatches)),
    Stream.mapEffect((b) =>
      Effect.flatMap(consumed, (afterExchange) => {
        const batch: Batch = { documents: b.documents, cursor: b.cursor, afterExchange }
        return Effect.as(onBatch(batch), batch)
      })
    ),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray)
  )

const encodeDocument = Schema.encodeSync(SourceDocument.SourceDocument)

const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v))

/** Field-level differences between two JSON values, as `path: expected X but got Y`. */
export const diffJson = (expected: unknown, actual: unknown, path: string, out: Array<string>, limit = 12): void => {
  if (out.length >= limit) return
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      out.push(`${path}: expected ${expected.length} item(s) but got ${actual.length}`)
    }
    for (let i = 0; i < Math.min(expected.length, actual.length); i++)
      diffJson(expected[i], actual[i], `${path}[${i}]`, out, limit)
    return
  }
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
  if (isObj(expected) && isObj(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      diffJson(expected[key], actual[key], path === "" ? key : `${path}.${key}`, out, limit)
    }
    return
  }
  if (JSON.stringify(expected) !== JSON.stringify(actual))
    out.push(`${path}: expected ${show(expected)} but got ${show(actual)}`)
}

const describeDefect = (cause: Cause.Cause<unknown>): string => {
  const mismatch = ReplayHttpClient.findMismatch(cause)
  if (Option.isSome(mismatch)) return mismatch.value.message
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const e = failure.value
    return e instanceof Error ? e.message : String(e)
  }
  return Cause.pretty(cause).split("\n").slice(0, 3).join(" ")
}

/** The final content per posRef after ingesting `batches` into a memory OrderStore. */
const finalContent = (
  profile: FixtureProfile.Profile,
  runs: ReadonlyArray<ReadonlyArray<Batch>>,
  posRefs: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const ref = { id: profile.store.id, kind: profile.store.documentKind }
    for (const run of runs) for (const b of run) yield* store.ingest(ref, b.documents, Option.some(b.cursor))
    const out: Record<string, unknown> = {}
    for (const posRef of posRefs) {
      const found = yield* store.find(profile.store.id, posRef)
      out[posRef] = Option.match(found, { onNone: () => null, onSome: (s) => Order.encode(s.order) })
    }
    return out
  }).pipe(Effect.provide(MemoryOrderStore.layer()))

const retryAfterMillis = (exchange: RecordedExchange.Exchange): number | undefined => {
  const headers = exchange.response.headers ?? {}
  const value = Object.entries(headers).find(([k]) => k.toLowerCase() === "retry-after")?.[1]
  if (value === undefined || !Number.isFinite(Number(value))) return undefined
  return Number(value) * 1000
}

/** Checks one fixture of one adapter; never fails: problems are the case's result. */
export const checkFixture = (
  descriptor: AdapterDescriptor.AdapterDescriptor,
  file: string,
  text: string,
  options: { readonly label?: string | undefined } = {}
): Effect.Effect<Report.CaseResult> => {
  const label = options.label ?? `adapter ${descriptor.id}: ${file}`
  return Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const problems: Array<string> = []
    const details: Record<string, unknown> = {}
    const done = Effect.map(
      Clock.currentTimeMillis,
      (now): Report.CaseResult => ({
        name: label,
        status: problems.length === 0 ? "passed" : "failed",
        problems,
        millis: now - started,
        details
      })
    )
    const decoded = yield* Effect.either(RecordedExchange.decodeFixture(text, file))
    if (Either.isLeft(decoded)) {
      problems.push(decoded.left.message)
      return yield* done
    }
    const fixture = decoded.right
    if (fixture.adapter !== descriptor.id)
      problems.push(`fixture is for adapter "${fixture.adapter}", not "${descriptor.id}"`)
    const interpreted = FixtureProfile.interpret(fixture, descriptor)
    if (Either.isLeft(interpreted)) {
      problems.push(`fixture ${file} cannot be run: ${interpreted.left.join("; ")}`)
      return yield* done
    }
    const profile = interpreted.right
    const exchanges = fixture.exchanges

    // 1. The uninterrupted run under strict replay.
    const full = yield* Effect.gen(function* () {
      const replay = yield* Replay.strict(exchanges)
      const source = yield* buildSource(descriptor, profile, replay.client)
      const pulled =
        profile.pull === undefined
          ? undefined
          : yield* Effect.exit(
              collect(source, Option.fromNullable(profile.pull.cursor), profile, replay.replay.consumed)
            )
      const wrote =
        profile.notice === undefined
          ? undefined
          : yield* Effect.exit(source.recordShipment(profile.notice, Option.none()))
      const mismatches = yield* replay.replay.mismatches
      const unconsumed = yield* Effect.either(replay.replay.assertAllConsumed)
      return { pulled, wrote, mismatches, unconsumed, times: yield* replay.times }
    }).pipe(Effect.scoped, (e) => VirtualTime.run(e, profile.startMillis))

    if (full.mismatches[0] !== undefined) problems.push(full.mismatches[0].message)
    else if (Either.isLeft(full.unconsumed)) problems.push(full.unconsumed.left.message)

    let batches: ReadonlyArray<Batch> = []
    if (full.pulled !== undefined) {
      if (Exit.isFailure(full.pulled)) {
        const error = Cause.failureOption(full.pulled.cause)
        const actual =
          Option.isSome(error) && error.value instanceof PosSource.PosSourceError
            ? { kind: error.value.kind, message: error.value.message }
            : undefined
        if (profile.expectedError !== undefined && actual !== undefined) {
          const diffs: Array<string> = []
          diffJson(profile.expectedError, actual, "error", diffs)
          problems.push(...diffs)
        } else if (full.mismatches.length === 0) {
          problems.push(`the pull failed: ${describeDefect(full.pulled.cause)}`)
        }
      } else {
        batches = full.pulled.value
        if (profile.expectedError !== undefined) {
          problems.push(
            `expected the pull to fail with ${profile.expectedError.kind}: ${profile.expectedError.message}, but it succeeded`
          )
        }
      }
    }

    // 2. Produced documents equal the expected ones.
    const produced = batches.flatMap((b) => b.documents.map((d) => ({ doc: d, afterExchange: b.afterExchange })))
    details.documents = produced.length
    details.exchanges = exchanges.length
    if (profile.expectedDocuments !== undefined && Exit.isExit(full.pulled) && Exit.isSuccess(full.pulled)) {
      const expected = profile.expectedDocuments
      if (expected.length !== produced.length) {
        problems.push(`expected ${expected.length} document(s) but the adapter produced ${produced.length}`)
      }
      for (let i = 0; i < Math.min(expected.length, produced.length); i++) {
        const diffs: Array<string> = []
        diffJson(expected[i], encodeDocument(produced[i]!.doc), "", diffs)
        if (diffs.length > 0) {
          const p = produced[i]!
          problems.push(
            `document #${i} (posRef ${p.doc.order.posRef}, produced after exchange #${p.afterExchange - 1}) differs: ${diffs.join("; ")}`
          )
        }
      }
      if (profile.expectedCursor !== undefined) {
        const last = batches.at(-1)?.cursor ?? null
        if (last !== profile.expectedCursor)
          problems.push(`final cursor: expected ${show(profile.expectedCursor)} but got ${show(last)}`)
      }
    }

    // 3. Write-back.
    if (full.wrote !== undefined) {
      if (Exit.isFailure(full.wrote)) {
        if (full.mismatches.length === 0) problems.push(`the write-back failed: ${describeDefect(full.wrote.cause)}`)
      } else if (profile.expectedWriteBacks !== undefined) {
        const diffs: Array<string> = []
        diffJson(profile.expectedWriteBacks, [full.wrote.value.summary], "writeBack", diffs)
        problems.push(...diffs)
      }
    }

    // 4. Retry-After is obeyed as recorded.
    for (const t of full.times) {
      const wait = retryAfterMillis(exchanges[t.index]!)
      const status = exchanges[t.index]!.response.status
      const next = full.times.find((n) => n.index === t.index + 1)
      if (wait === undefined || (status !== 429 && status !== 503) || next === undefined) continue
      if (next.atMillis - t.atMillis < wait) {
        problems.push(
          `exchange #${t.index} answered ${status} with Retry-After ${wait / 1000} s, but exchange #${next.index} was requested ${(next.atMillis - t.atMillis) / 1000} s later`
        )
      }
    }

    // 5. Every produced order passes ShipStation's field rules, or is expected held.
    let held = 0
    for (const { doc } of produced) {
      if (doc.exclude !== undefined) continue
      const checked = FieldRules.check(doc.order)
      if (checked._tag === "Held") {
        held++
        if (!profile.expectHeld.has(doc.order.posRef)) {
          problems.push(
            `order ${doc.order.posRef} (${doc.order.orderNumber}) fails ShipStation's field rules: ${checked.reasons.join("; ")} (list it in settings.conformance.expectHeld if that is intended)`
          )
        }
      }
    }
    for (const posRef of profile.expectHeld) {
      const doc = produced.find((p) => p.doc.order.posRef === posRef)
      if (doc !== undefined && FieldRules.check(doc.doc.order)._tag !== "Held") {
        problems.push(`order ${posRef} is listed in expectHeld but passes ShipStation's field rules`)
      }
    }
    details.held = held

    // 6. Resumable at every exchange boundary.
    const canResume =
      profile.pull !== undefined &&
      profile.resume &&
      profile.expectedError === undefined &&
      problems.length === 0 &&
      Exit.isExit(full.pulled) &&
      Exit.isSuccess(full.pulled)
    if (canResume) {
      const posRefs = [...new Set(produced.map((p) => p.doc.order.posRef))]
      const reference = yield* VirtualTime.run(finalContent(profile, [batches], posRefs), profile.startMillis)
      let resumes = 0
      for (let k = 1; k < exchanges.length; k++) {
        const outcome = yield* Effect.gen(function* () {
          const committed: Array<Batch> = []
          const first = yield* Replay.strict(exchanges, { killAt: k })
          const s1 = yield* buildSource(descriptor, profile, first.client)
          yield* Effect.exit(
            collect(s1, Option.fromNullable(profile.pull!.cursor), profile, first.replay.consumed, (b) =>
              Effect.sync(() => committed.push(b))
            )
          )
          const cursor = committed.at(-1)?.cursor ?? profile.pull!.cursor
          const client = yield* Replay.resume(exchanges, k, exchanges.length * 10 + 20)
          const s2 = yield* buildSource(descriptor, profile, client)
          const rest = yield* Effect.exit(collect(s2, Option.fromNullable(cursor), profile, Effect.succeed(k)))
          if (Exit.isFailure(rest))
            return Either.left(`restarted from ${show(cursor ?? null)}: ${describeDefect(rest.cause)}`)
          const content = yield* finalContent(profile, [committed, rest.value], posRefs)
          return Either.right(content)
        }).pipe(Effect.scoped, (e) => VirtualTime.run(e, profile.startMillis))
        resumes++
        if (Either.isLeft(outcome)) {
          problems.push(`stopped before exchange #${k}, then ${outcome.left}`)
          break
        }
        const diffs: Array<string> = []
        diffJson(reference, outcome.right, "", diffs, 5)
        if (diffs.length > 0) {
          problems.push(
            `stopped before exchange #${k} and restarted from the last committed cursor, the result differs: ${diffs.join("; ")}`
          )
          break
        }
      }
      details.resumePoints = resumes
    }
    return yield* done
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.succeed<Report.CaseResult>({
        name: label,
        status: "failed",
        problems: [`the adapter could not be run: ${describeDefect(cause)}`],
        millis: 0
      })
    )
  )
}
