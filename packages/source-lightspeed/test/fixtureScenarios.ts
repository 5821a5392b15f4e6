/**
 * The recorded-fixture scenarios: how each one is produced from the simulator (`record`, used by
 * `recordFixtures.ts`) and how the adapter is run against it (`run`, used by both the recorder and the replay test).
 * The committed files in ../fixtures are what the replay test reads; regenerate them with
 * `pnpm exec tsx --conditions=source test/recordFixtures.ts` after a deliberate change, and review the diff.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { ShipNotice, SourceDocument, type StoreSettings, TokenVault } from "@posbridge/core"
import { Chunk, DateTime, Effect, Option, Redacted, Schema, Stream } from "effect"
import * as LightspeedSource from "../src/LightspeedSource.js"
import type * as Settings from "../src/Settings.js"
import type { Simulator } from "../src/testing/index.js"
import { settings as baseSettings, line, makeVault, person, storeSettings } from "./helpers.js"

export const FixtureSettings = Schema.Struct({
  store: Schema.Struct({ id: Schema.String, documentKind: Schema.Literal("invoices", "orders") }),
  lightspeed: Schema.Struct({
    accountId: Schema.String,
    clientId: Schema.String,
    pageLimit: Schema.optionalWith(Schema.Number, { exact: true }),
    markShipTo: Schema.optionalWith(Schema.Boolean, { exact: true })
  }),
  pull: Schema.optional(Schema.Struct({ since: Schema.String, cursor: Schema.optional(Schema.String) })),
  shipNotice: Schema.optional(ShipNotice.ShipNotice),
  /** What the conformance harness is told about the fixture (docs/adding-a-pos.md). */
  conformance: Schema.optional(Schema.Struct({ expectHeld: Schema.optional(Schema.Array(Schema.String)) }))
})
export type FixtureSettings = typeof FixtureSettings.Type

export const Expected = Schema.Array(SourceDocument.SourceDocument)
export const ExpectedWriteBacks = Schema.Array(Schema.String)

export interface Scenario {
  readonly name: string
  readonly description: string
  readonly settings: FixtureSettings
  readonly simulator?: Partial<Simulator.Options>
  /** The Sales in the account, in order, before `setup` runs. */
  readonly sales?: ReadonlyArray<Simulator.SaleInput>
  readonly setup?: (control: Simulator.Control) => Effect.Effect<void>
  /** Events between requests while recording (e.g. a token revoked after the first page). */
  readonly wrapHttp?: (http: HttpClient.HttpClient, control: Simulator.Control) => HttpClient.HttpClient
}

const since = "2024-01-01T00:00:00Z"
const lightspeed = { accountId: "12345", clientId: "sim-client" }
const invoices = { id: "shop-1", documentKind: "invoices" } as const
const orders = { id: "shop-1", documentKind: "orders" } as const
const pull = { since }

/** `n` one-line Sales by Ada. */
const many = (n: number): ReadonlyArray<Simulator.SaleInput> =>
  Array.from({ length: n }, (_, i) => ({
    customer: person("Ada", `Lovelace${i}`),
    lines: [line(`SKU${i}`, 1, "9.99")]
  }))

/** Ada's sale (one line), then a minute later `change` to it, so the change has a time of its own. */
const adaThenLater = (
  control: Simulator.Control,
  sale: Partial<Simulator.SaleInput>,
  change: (ids: { readonly saleID: number; readonly quoteID: number }) => Effect.Effect<unknown>
) =>
  Effect.gen(function* () {
    const ids = yield* control.addSale({ customer: person("Ada", "Lovelace"), lines: [line("A", 1)], ...sale })
    yield* Effect.sleep("1 minute")
    yield* change(ids)
  })

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "single-object",
    description: 'One result: Lightspeed answers "Sale":{…} (an object), with one SaleLine as an object too.',
    settings: { store: invoices, lightspeed, pull },
    sales: [{ customer: person("Ada", "Lovelace"), lines: [line("TEE-M", 1, "19.99")] }]
  },
  {
    name: "several-array",
    description: 'Several results: "Sale":[…], lines as arrays, string scalars and money like "317.1".',
    settings: { store: invoices, lightspeed, pull },
    sales: [
      { customer: person("Ada", "Lovelace"), lines: [line("A", 2, "100.05"), line("B", 1, "93.5")] },
      { customer: person("Grace", "Hopper"), shipTo: person("Alan", "Turing"), lines: [line("C", 3, "0.99")] },
      { customer: person("Edsger", "Dijkstra"), lines: [line("D", 1, "317.1")] }
    ]
  },
  {
    name: "empty-containers",
    description: 'Empty containers arrive as "": a customer without addresses, phones or e-mails, no notes, no lines.',
    // A customer with no address at all cannot be shipped to: ShipStation's field rules hold the order back.
    settings: { store: invoices, lightspeed, pull, conformance: { expectHeld: ["1001"] } },
    sales: [
      { customer: person("Nobody", "Home", false), lines: [line("A", 1)] },
      { customer: person("Empty", "Sale", false), lines: [] }
    ]
  },
  {
    name: "three-page-walk",
    description: 'limit=2 over 5 Sales: three pages, following @attributes.next until it is "".',
    settings: { store: invoices, lightspeed: { ...lightspeed, pageLimit: 2 }, pull },
    sales: many(5)
  },
  {
    name: "rate-limited-then-ok",
    description: "The first list request gets 429 with Retry-After: 1; the adapter waits and retries.",
    settings: { store: invoices, lightspeed, pull },
    simulator: {
      faults: {
        script: [{ _tag: "RateLimited", retryAfterSeconds: 1, headers: { "x-ls-api-ratelimit-type": "bucket" } }]
      }
    },
    sales: many(2)
  },
  {
    name: "token-expired-mid-walk",
    description: "The access token dies after page 1: 401 access_denied, one refresh (rotated token), page 2 retried.",
    settings: { store: invoices, lightspeed: { ...lightspeed, pageLimit: 2 }, pull },
    sales: many(3),
    wrapHttp: (http, control) => {
      let apiCalls = 0
      return HttpClient.transform(http, (effect, request) =>
        request.url.includes("/API/") && ++apiCalls === 2 ? Effect.zipRight(control.revokeAccessTokens, effect) : effect
      )
    }
  },
  {
    name: "quote-modified",
    description:
      "Orders = Quotes: a quote edited in Lightspeed gets a new saleID; the superseded Sale is skipped and the order keeps its quoteID.",
    settings: { store: orders, lightspeed, pull },
    setup: (c) =>
      adaThenLater(c, { quote: { notes: "Call before shipping" } }, ({ quoteID }) =>
        Effect.zipRight(
          c.modifyQuote(quoteID, { lines: [line("A", 2), line("B", 1)] }),
          c.addSale({ customer: person("Walk", "In"), lines: [line("Z", 1)] })
        )
      )
  },
  {
    name: "voided-sale",
    description: "A completed Sale voided afterwards is exported as cancelled.",
    settings: { store: invoices, lightspeed, pull },
    setup: (c) => adaThenLater(c, {}, ({ saleID }) => c.voidSale(saleID))
  },
  {
    name: "partial-refund",
    description:
      "A refund line (negative unitQuantity) reduces the shipped quantity; a fully refunded Sale is excluded.",
    settings: { store: invoices, lightspeed, pull },
    sales: [
      { customer: person("Ada", "Lovelace"), lines: [line("A", 3, "10"), line("B", 1, "5"), line("A", -1, "10")] },
      { customer: person("Grace", "Hopper"), lines: [line("A", 1, "10"), line("A", -1, "10")] }
    ]
  },
  {
    name: "walk-in-sale",
    description:
      "No ShipTo: the customer's address is used; an anonymous walk-in has no ship-to (held back at export with a reason).",
    settings: { store: invoices, lightspeed, pull, conformance: { expectHeld: ["1002"] } },
    sales: [{ customer: person("Ada", "Lovelace"), lines: [line("A", 1)] }, { lines: [line("B", 1)] }]
  },
  {
    name: "unicode-and-ampersand",
    description: "Unicode and & in names, company and item descriptions survive unchanged.",
    settings: { store: invoices, lightspeed, pull },
    sales: [
      {
        customer: { ...person("Zoë", "Ørsted-Müller"), company: "Smith & Sons «Café»" },
        shipTo: { ...person("José", "Nuñez"), company: "Crème & Brûlée 東京" },
        lines: [line("MUG&CO", 1, "12.5", "Mug & saucer — ☕"), line("TEE", 1, "20", 'T-shirt "Grüße"')]
      }
    ]
  },
  {
    name: "sale-150-lines",
    description: "One Sale with 150 lines: every line is kept.",
    settings: { store: invoices, lightspeed, pull },
    sales: [
      {
        customer: person("Ada", "Lovelace"),
        lines: Array.from({ length: 150 }, (_, i) => line(`P${String(i).padStart(3, "0")}`, 1 + (i % 4), "1.05"))
      }
    ]
  },
  {
    name: "write-back",
    description:
      "A ship notice written back: GET the Sale's notes, PUT the internal note with carrier, service, tracking and ship date (and the unconfirmed ShipTo flag, enabled here).",
    settings: {
      store: invoices,
      lightspeed: { ...lightspeed, markShipTo: true },
      shipNotice: ShipNotice.ShipNotice.make({
        storeId: "shop-1" as never,
        orderId: "1001",
        orderNumber: "220000001",
        carrier: "UPS",
        service: "Ground",
        trackingNumber: "1Z999AA10123456784",
        shipDate: "2024-06-01",
        items: []
      })
    },
    sales: [
      {
        customer: person("Ada", "Lovelace"),
        shipTo: person("Grace", "Hopper"),
        lines: [line("A", 1)],
        internalNote: "Gift wrap please"
      }
    ]
  }
]

export interface Outcome {
  readonly documents: ReadonlyArray<SourceDocument.SourceDocument>
  readonly writeBacks: ReadonlyArray<string>
}

/** Runs the adapter as the fixture says, on whatever HttpClient is provided. */
export const run = (
  fixture: FixtureSettings,
  secrets: { readonly refreshToken: string; readonly clientSecret: string } = {
    refreshToken: "<redacted>",
    clientSecret: "<redacted>"
  }
) =>
  Effect.gen(function* () {
    const vault = yield* makeVault
    const store: StoreSettings.StoreSettings = { ...storeSettings(fixture.store.documentKind, fixture.store.id) }
    const conf: Settings.LightspeedSettings = baseSettings({
      ...fixture.lightspeed,
      // Recorded secrets are redacted; replay matches them as wildcards.
      refreshToken: Redacted.make(secrets.refreshToken),
      clientSecret: Redacted.make(secrets.clientSecret)
    })
    const source = yield* LightspeedSource.make(store, conf, { baseBackoff: "100 millis" }).pipe(
      Effect.provideService(TokenVault.TokenVault, vault.service)
    )
    const documents: Array<SourceDocument.SourceDocument> = []
    const writeBacks: Array<string> = []
    if (fixture.pull !== undefined) {
      const batches = yield* Stream.runCollect(
        source.pull(Option.fromNullable(fixture.pull.cursor), { since: DateTime.unsafeMake(fixture.pull.since) })
      )
      for (const b of Chunk.toReadonlyArray(batches)) documents.push(...b.documents)
    }
    if (fixture.shipNotice !== undefined) {
      writeBacks.push((yield* source.recordShipment(fixture.shipNotice, Option.none())).summary)
    }
    return { documents, writeBacks } satisfies Outcome
  })
