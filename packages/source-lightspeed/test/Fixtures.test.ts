import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { SourceDocument } from "@posbridge/core"
import { RecordedExchange, ReplayHttpClient } from "@posbridge/pos-testkit"
import { Effect, Exit, Schema } from "effect"
import { FixtureSettings, run } from "./fixtureScenarios.js"
import { fast } from "./helpers.js"

const dir = join(import.meta.dirname, "..", "fixtures")
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()

const load = (file: string) => RecordedExchange.decodeFixture(readFileSync(join(dir, file), "utf8"), file)

const replay = (fixture: RecordedExchange.Fixture) =>
  Effect.gen(function* () {
    const settings = yield* Schema.decodeUnknown(FixtureSettings)(fixture.settings)
    return yield* ReplayHttpClient.verify(run(settings))
  }).pipe(
    Effect.provide(ReplayHttpClient.layer(fixture.exchanges, { checkOnClose: false })),
    // Retry-After and backoff sleeps pass 100 times faster.
    fast
  )

describe("recorded Lightspeed fixtures", () => {
  it("cover every scenario the issue lists", () => {
    expect(files).toEqual(
      [
        "completed-sale-resaved",
        "empty-containers",
        "partial-refund",
        "quote-modified",
        "rate-limited-then-ok",
        "sale-150-lines",
        "several-array",
        "single-object",
        "three-page-walk",
        "token-expired-mid-walk",
        "unicode-and-ampersand",
        "updatetime-spelled-updateTime",
        "updatetime-spelled-updatetime",
        "voided-sale",
        "walk-in-sale",
        "write-back"
      ].map((n) => `${n}.json`)
    )
  })

  for (const file of files) {
    it.live(`${file} replays to exactly the expected orders`, () =>
      Effect.gen(function* () {
        const fixture = yield* load(file)
        const outcome = yield* replay(fixture)
        expect(Schema.encodeSync(Schema.Array(SourceDocument.SourceDocument))(outcome.documents)).toEqual(
          fixture.expected
        )
        expect(outcome.writeBacks).toEqual(fixture.expectedWriteBacks ?? [])
      })
    )
  }

  it.live("a request the recording does not expect fails with a readable diff", () =>
    Effect.gen(function* () {
      const fixture = yield* load("single-object.json")
      const [token, list] = fixture.exchanges
      if (token === undefined || list === undefined) throw new Error("fixture too short")
      const tampered = {
        ...fixture,
        exchanges: [
          token,
          { ...list, request: { ...list.request, url: list.request.url.replace("limit=100", "limit=50") } }
        ]
      }
      const exit = yield* Effect.exit(replay(tampered))
      expect(Exit.isFailure(exit)).toBe(true)
      const message = Exit.isFailure(exit) ? String(exit.cause) : ""
      expect(message).toContain("does not match recorded exchange #1")
      expect(message).toContain('query param "limit": expected "50" but got "100"')
    })
  )

  it.live("a recorded exchange the adapter never requests fails the replay", () =>
    Effect.gen(function* () {
      const fixture = yield* load("single-object.json")
      const extra = fixture.exchanges[1]
      if (extra === undefined) throw new Error("fixture too short")
      const exit = yield* Effect.exit(replay({ ...fixture, exchanges: [...fixture.exchanges, extra] }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("never requested")
    })
  )
})
