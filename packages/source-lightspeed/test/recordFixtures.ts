/**
 * Regenerates ../fixtures/*.json from the simulator: `pnpm exec tsx --conditions=source test/recordFixtures.ts`,
 * or only the scenarios named after it (`… test/recordFixtures.ts walk-in-sale empty-containers`). Each file holds
 * the recorded exchanges (secrets redacted) and the documents the adapter produced; review the diff before
 * committing: the replay test treats these files as the truth. Times in them move with every recording (the
 * simulated clock runs 100 times faster than the real one), so re-record only what changed.
 */

import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as HttpClient from "@effect/platform/HttpClient"
import { SourceDocument } from "@posbridge/core"
import { RecordedExchange, RecordingHttpClient, SimClock, SimServer } from "@posbridge/pos-testkit"
import { Effect, Ref, Schema } from "effect"
import { Simulator } from "../src/testing/index.js"
import { FixtureSettings, run, scenarios } from "./fixtureScenarios.js"

const keepHeaders = [
  "content-type",
  "location",
  "retry-after",
  "x-ls-api-bucket-level",
  "x-ls-api-drip-rate",
  "x-ls-api-request-cost",
  "x-ls-api-ratelimit-type"
]

const only = process.argv.slice(2)
const unknown = only.filter((name) => !scenarios.some((s) => s.name === name))
if (unknown.length > 0) throw new Error(`no such scenario: ${unknown.join(", ")}`)
const chosen = only.length === 0 ? scenarios : scenarios.filter((s) => only.includes(s.name))

const record = Effect.forEach(chosen, (scenario) =>
  Effect.gen(function* () {
    const sim = yield* Simulator.make({ accountId: "12345", ...scenario.simulator })
    yield* Effect.forEach(scenario.sales ?? [], sim.control.addSale, { discard: true })
    if (scenario.setup !== undefined) yield* scenario.setup(sim.control)
    const refresh = yield* sim.control.grant()
    const inner = yield* SimServer.makeClient(sim.app)
    const wrapped = scenario.wrapHttp === undefined ? inner : scenario.wrapHttp(inner, sim.control)
    const into = yield* Ref.make<ReadonlyArray<RecordedExchange.Exchange>>([])
    const recording = RecordingHttpClient.wrap(wrapped, into, { keepHeaders })
    // The recorded run uses real secrets; the file only ever holds "<redacted>".
    const outcome = yield* run(scenario.settings, {
      refreshToken: refresh,
      clientSecret: Simulator.defaultClient.clientSecret
    }).pipe(Effect.provideService(HttpClient.HttpClient, recording))
    const fixture: RecordedExchange.Fixture = {
      description: scenario.description,
      adapter: "lightspeed",
      settings: Schema.encodeSync(FixtureSettings)(scenario.settings),
      exchanges: yield* Ref.get(into),
      expected: Schema.encodeSync(Schema.Array(SourceDocument.SourceDocument))(outcome.documents),
      ...(outcome.writeBacks.length > 0 ? { expectedWriteBacks: outcome.writeBacks } : {})
    }
    const file = join(import.meta.dirname, "..", "fixtures", `${scenario.name}.json`)
    writeFileSync(file, RecordedExchange.encodeFixture(fixture))
    console.log(`${scenario.name}: ${fixture.exchanges.length} exchanges, ${outcome.documents.length} documents`)
  })
)

Effect.runPromise(Effect.withClock(record, SimClock.make({ scale: 100, start: Date.UTC(2024, 5, 1, 12) })))
