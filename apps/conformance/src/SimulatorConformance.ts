/**
 * An adapter's simulator against the adapter: the simulator's change log is the oracle of posbridge's "no missed
 * version" checks, so it must name documents exactly as the adapter reports them. The adapter package's `testing`
 * entry must export `simulator` (pos-testkit `PosSimulator.Descriptor`). On the second account of a two-account
 * simulator, for each document kind:
 *
 * 1. the store settings the simulator hands out decode with the adapter's Schema;
 * 2. a full pull brings exactly the documents the change log lists (every logged ref is a pulled `posRef`, and the
 *    other way round);
 * 3. the control API's actions (add a document, re-save one, change a field) are logged, and the next pull from
 *    the committed cursor brings each logged document with a POS modified time no earlier than the logged one;
 * 4. the simulator counted the adapter's pulls, one at a time (two per kind).
 */
import { type AdapterDescriptor, type PosSource, StoreId, type StoreSettings } from "@posbridge/core"
import { type ChangeLog, PosSimulator, SimServer } from "@posbridge/pos-testkit"
import { Cause, Chunk, DateTime, Effect, Exit, Option, Redacted, Schema, Stream } from "effect"
import type * as Adapters from "./Adapters.js"
import * as Packages from "./internal/packages.js"
import * as Sources from "./internal/sources.js"
import type * as Report from "./Report.js"

export const caseName = (adapterId: string) => `adapter ${adapterId}: simulator change log`

const lookbackMillis = 30 * 86_400_000

/** The package's simulator descriptor, or why there is none. */
export const load = (target: Adapters.Target): Effect.Effect<PosSimulator.Descriptor, string> =>
  Effect.gen(function* () {
    const entry = Packages.subpathEntryOf(target.packageDir, "./testing")
    const missing = "its package has no `testing` entry exporting `simulator` (pos-testkit PosSimulator.Descriptor)"
    if (entry === undefined) return yield* Effect.fail(`${missing}: see docs/adding-a-pos.md`)
    const module = yield* Effect.tryPromise({
      try: () => import(entry) as Promise<{ simulator?: unknown }>,
      catch: (e) => `its testing entry could not be loaded: ${e instanceof Error ? e.message.split("\n")[0] : e}`
    })
    if (!PosSimulator.isDescriptor(module.simulator)) return yield* Effect.fail(missing)
    if (module.simulator.adapterId !== target.descriptor.id) {
      return yield* Effect.fail(`its simulator says it simulates "${module.simulator.adapterId}"`)
    }
    return module.simulator
  })

interface Pulled {
  readonly documents: ReadonlyMap<string, PosSource.PullBatch["documents"][number]>
  readonly cursor: Option.Option<string>
}

const pull = (source: PosSource.PosSourceService, cursor: Option.Option<string>, since: DateTime.Utc) =>
  Effect.map(Stream.runCollect(source.pull(cursor, { since })), (chunk): Pulled => {
    const documents = new Map<string, PosSource.PullBatch["documents"][number]>()
    let last = cursor
    for (const batch of Chunk.toReadonlyArray(chunk)) {
      for (const d of batch.documents) documents.set(d.order.posRef, d)
      last = Option.some(batch.cursor)
    }
    return { documents, cursor: last }
  })

const storeFor = (descriptor: AdapterDescriptor.AdapterDescriptor, kind: "orders" | "invoices", raw: unknown) =>
  ({
    id: StoreId.StoreId.make(`simulated-${kind}`),
    adapter: descriptor.id,
    documentKind: kind,
    pageSize: 100,
    timeZone: "utc",
    shipstation: { username: "conformance", password: Redacted.make("conformance") },
    settings: raw
  }) satisfies StoreSettings.StoreSettings

/** Problems of one document kind. */
const checkKind = (
  descriptor: AdapterDescriptor.AdapterDescriptor,
  sim: PosSimulator.PosSimulator,
  account: string,
  kind: "orders" | "invoices"
) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const raw = yield* sim.storeSettings(account, kind)
    const settings = yield* Schema.decodeUnknown(descriptor.settingsSchema)(raw).pipe(
      Effect.mapError((e) => `the store settings it hands out for ${kind} do not decode: ${e.message}`)
    )
    const client = yield* SimServer.makeClient(sim.app)
    const source = yield* Sources.build(descriptor, storeFor(descriptor, kind, raw), settings, client)
    const since = DateTime.unsafeMake((yield* sim.now) - lookbackMillis)

    const first = yield* pull(source, Option.none(), since)
    const logged = new Set(sim.changes.entries({ account, kind }).map((c) => c.ref))
    for (const ref of logged) {
      if (!first.documents.has(ref))
        problems.push(`the change log lists ${kind} ${ref}, which a full pull did not bring`)
    }
    for (const ref of first.documents.keys()) {
      if (!logged.has(ref)) problems.push(`a full pull brought ${kind} ${ref}, which the change log never listed`)
    }

    // A POS that cannot do one of these (a Heartland invoice is never re-saved) says so; that is no problem.
    const act = <A>(what: string, effect: Effect.Effect<A, PosSimulator.ControlError>) =>
      Effect.catchAll(Effect.asVoid(effect), (e) =>
        e.reason === "unsupported" ? Effect.void : Effect.sync(() => problems.push(`${what}: ${e.message}`))
      )
    const before = sim.changes.last()
    yield* act(`adding ${kind}`, sim.addDocument(account, kind))
    const ref = [...logged][0] ?? sim.changes.entries({ since: before, account, kind })[0]?.ref
    const field = sim.fields[kind]?.[0]
    if (ref !== undefined) {
      yield* act(`re-saving ${kind} ${ref}`, sim.resave(account, kind, ref))
      if (field !== undefined) {
        yield* act(
          `setting ${field.name} of ${kind} ${ref}`,
          sim.setField(account, kind, ref, field.name, field.examples[0])
        )
      }
    }
    const made = sim.changes.entries({ since: before, account, kind })
    if (made.length === 0) problems.push(`adding, re-saving and editing ${kind} logged no change`)

    const second = yield* pull(source, first.cursor, since)
    for (const c of made) problems.push(...pulledAgain(c, second))
    return problems
  })

const pulledAgain = (c: ChangeLog.Change, pulled: Pulled): ReadonlyArray<string> => {
  const doc = pulled.documents.get(c.ref)
  const what = `${c.what} of ${c.kind} ${c.ref} (version ${c.version})`
  if (doc === undefined) return [`the change log lists the ${what}, which the next pull from the cursor did not bring`]
  const pulledAt = DateTime.toEpochMillis(doc.order.posModifiedAt)
  // POS times may be whole seconds.
  return pulledAt < c.posModifiedAt - (c.posModifiedAt % 1000)
    ? [
        `the ${what} is logged as modified at ${new Date(c.posModifiedAt).toISOString()}, pulled as ${new Date(pulledAt).toISOString()}`
      ]
    : []
}

export const check = (target: Adapters.Target): Effect.Effect<Report.CaseResult> =>
  Effect.gen(function* () {
    const started = Date.now()
    const result = (problems: ReadonlyArray<string>): Report.CaseResult => ({
      name: caseName(target.descriptor.id),
      status: problems.length === 0 ? "passed" : "failed",
      problems,
      millis: Date.now() - started
    })
    const exit = yield* Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const descriptor = yield* load(target)
          const sim = yield* descriptor.make({ baseUrl: "http://simulator.invalid", accounts: 2 })
          const account = sim.accounts[1] ?? sim.accounts[0]!
          const problems: Array<string> = []
          for (const kind of sim.kinds) problems.push(...(yield* checkKind(target.descriptor, sim, account, kind)))
          const stats = sim.pulls.stats(yield* sim.now, account)
          const pulls = stats.feeds.reduce((n, f) => n + f.pulls, 0)
          if (pulls !== 2 * sim.kinds.length || stats.maxInFlight !== 1) {
            problems.push(
              `the adapter pulled ${2 * sim.kinds.length} times, one at a time; the simulator counted ${pulls} pulls, at most ${stats.maxInFlight} in flight`
            )
          }
          return problems
        })
      )
    )
    return result(
      Exit.isSuccess(exit)
        ? exit.value
        : [
            Option.match(Cause.failureOption(exit.cause), {
              onNone: () => `the check crashed: ${Cause.pretty(exit.cause).split("\n")[0]}`,
              onSome: (e) => (typeof e === "string" ? e : e.message)
            })
          ]
    )
  })
