import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { RecordedExchange, ReplayHttpClient } from "@posbridge/pos-testkit"
import { Cause, Effect, Exit, Option } from "effect"
import { run } from "./fixtureRun.js"
import { withTime } from "./helpers.js"

const dir = Path.join(import.meta.dirname, "..", "fixtures")
const files = Fs.readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort()

const load = (file: string) => RecordedExchange.decodeFixture(Fs.readFileSync(Path.join(dir, file), "utf8"), file)

const replay = (fixture: RecordedExchange.Fixture, settings: unknown = fixture.settings) =>
  withTime(run(settings).pipe(ReplayHttpClient.verify, Effect.provide(ReplayHttpClient.layer(fixture.exchanges))))

describe("recorded fixtures", () => {
  it("cover the scenarios the issue asks for", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "empty-result.json",
        "multi-page-walk.json",
        "no-shipping-address.json",
        "rate-limited-then-success.json",
        "several-lines-discount.json",
        "unicode.json",
        "updated-order-reappears.json",
        "voided-invoice.json",
        "write-back.json"
      ])
    )
  })

  for (const file of files) {
    it.effect(`${file} replays to exactly the expected output`, () =>
      Effect.gen(function* () {
        const fixture = yield* load(file)
        expect(fixture.adapter).toBe("heartland")
        expect(yield* replay(fixture)).toEqual(fixture.expected)
      })
    )
  }

  it.effect("a request the recording does not expect fails with a readable diff", () =>
    Effect.gen(function* () {
      const fixture = yield* load("multi-page-walk.json")
      const settings = fixture.settings as { heartland: object }
      const exit = yield* Effect.exit(
        replay(fixture, { ...settings, heartland: { ...settings.heartland, perPage: 4 } })
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const mismatch = Exit.isFailure(exit) ? ReplayHttpClient.findMismatch(exit.cause) : Option.none()
      expect(Option.isSome(mismatch)).toBe(true)
      const message = Option.getOrThrow(mismatch).message
      expect(message).toContain("exchange #0")
      expect(message).toContain('query param "per_page": expected "3" but got "4"')
      if (Exit.isFailure(exit)) expect(Cause.pretty(exit.cause)).toContain("per_page")
    })
  )

  it.effect("the discount is one adjustment line and the total is what the customer paid", () =>
    Effect.gen(function* () {
      const fixture = yield* load("several-lines-discount.json")
      const out = (yield* replay(fixture)) as { documents: ReadonlyArray<{ order: Record<string, unknown> }> }
      const order = out.documents[0]?.order
      expect(order?.orderTotal).toBe("185.27")
      expect(order?.taxAmount).toBe("13.28")
      expect(order?.lines).toContainEqual(
        expect.objectContaining({ sku: "DISCOUNT", quantity: 1, unitPrice: "-6", adjustment: true })
      )
    })
  )

  it.effect("an order without a shipping address has no ship-to, and a voided invoice is cancelled", () =>
    Effect.gen(function* () {
      const pickup = (yield* replay(yield* load("no-shipping-address.json"))) as {
        documents: ReadonlyArray<{ order: Record<string, unknown> }>
      }
      expect(pickup.documents[0]?.order).not.toHaveProperty("shipTo")
      expect(pickup.documents[0]?.order.billTo).toMatchObject({ name: "Bo Lind", city: "Austin" })
      const invoices = (yield* replay(yield* load("voided-invoice.json"))) as {
        documents: ReadonlyArray<{ order: { status: string } }>
      }
      expect(invoices.documents.map((d) => d.order.status)).toEqual(["paid", "cancelled"])
    })
  )
})
