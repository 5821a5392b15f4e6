/**
 * Regenerates fixtures/*.json by running each scenario against the simulator through pos-testkit's recording
 * client: `pnpm --filter @posbridge/source-heartland record-fixtures`. The files are committed; the replay test
 * reads them. Review the diff of `expected` by hand after re-recording: it is the adapter's own output.
 * A recording from a real Heartland account goes through the same `run` with the real HttpClient.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { HttpClient } from "@effect/platform"
import { Faults, RecordedExchange, RecordingHttpClient, SimServer } from "@posbridge/pos-testkit"
import { Effect, Ref } from "effect"
import { Simulator } from "../src/testing/index.js"
import { type FixtureSettingsEncoded, run } from "./fixtureRun.js"
import { orderBy, type Small, seedSmall, shipment, writeBackClock } from "./helpers.js"

const dir = Path.join(import.meta.dirname, "..", "fixtures")
const heartland = { baseUrl: "https://acme.retail.heartland.us", apiToken: RecordedExchange.REDACTED }
const ordersStore = { id: "acme-heartland", documentKind: "orders" } as const
const invoicesStore = { id: "acme-heartland", documentKind: "invoices" } as const
const since = "2024-03-01T00:00:00.000Z"
/** The common case: a pull of the orders store with the default settings. */
const pullOrders: FixtureSettingsEncoded = { store: ordersStore, heartland, action: { _tag: "pull", since } }

interface Scenario {
  readonly file: string
  readonly description: string
  readonly settings: FixtureSettingsEncoded
  readonly simulator?: Simulator.Options
  /** The orders in the account, in order, before `setup` runs. */
  readonly orders?: (base: Small) => ReadonlyArray<Simulator.OrderInput>
  readonly setup?: (control: Simulator.Control, base: Small) => Effect.Effect<unknown>
}

/** Ana's or Bo's order: one mug, 4.95 shipping, unless `extra` says otherwise. */
const order = (b: Small, who: "ana" | "bo", at: string, extra: Partial<Simulator.OrderInput> = {}) =>
  orderBy(b, who, at, { shippingCharge: "4.95", ...extra })

/** Adds it. */
const addOrder = (control: Simulator.Control, ...args: Parameters<typeof order>) => control.addOrder(order(...args))

const scenarios: ReadonlyArray<Scenario> = [
  {
    file: "multi-page-walk.json",
    description:
      "seven sales orders over three list pages of three: keyset paging by updated_at, lines per order, items and address books fetched once",
    settings: { store: ordersStore, heartland: { ...heartland, perPage: 3 }, action: { _tag: "pull", since } },
    orders: (b) => [0, 1, 2, 3, 4, 5, 6].map((i) => order(b, i % 2 === 0 ? "ana" : "bo", `2024-03-02T10:0${i}:00.000Z`))
  },
  {
    file: "empty-result.json",
    description: "no order changed since the look-back: one list request, no documents, the cursor stays at the start",
    settings: pullOrders
  },
  {
    file: "several-lines-discount.json",
    description:
      "an order with three lines, one discounted: lines keep the original price, the discount is one adjustment line, totals are exact",
    settings: pullOrders,
    orders: (b) => [
      order(b, "ana", "2024-03-02T09:15:00.000Z", {
        lines: [
          { itemId: b.boots.id, qty: 1, unitPrice: "120.00", tax: "9.60" },
          { itemId: b.socks.id, qty: 3, unitPrice: "12.00", adjustedUnitPrice: "10.00", tax: "2.40" },
          { itemId: b.mug.id, qty: 2, unitPrice: "8.00", tax: "1.28" }
        ],
        shippingCharge: "5.99"
      })
    ]
  },
  {
    file: "no-shipping-address.json",
    description:
      "an order without a shipping address (in-store pickup) is emitted without a ship-to, so the export holds it back with a reason",
    settings: pullOrders,
    orders: (b) => [
      order(b, "bo", "2024-03-02T11:00:00.000Z", { shippingAddressId: null, billingAddressId: b.boHome.id })
    ]
  },
  {
    file: "voided-invoice.json",
    description: "an invoices store: a complete invoice is paid, a voided one is cancelled",
    settings: { store: invoicesStore, heartland, action: { _tag: "pull", since } },
    setup: (control, b) =>
      Effect.gen(function* () {
        const kept = yield* addOrder(control, b, "ana", "2024-03-02T09:00:00.000Z")
        const voided = yield* addOrder(control, b, "bo", "2024-03-02T09:10:00.000Z")
        yield* control.completeToInvoice(kept.id, { at: "2024-03-02T10:00:00.000Z" })
        const invoice = yield* control.completeToInvoice(voided.id, { at: "2024-03-02T10:10:00.000Z" })
        yield* control.voidInvoice(invoice.id, { at: "2024-03-02T12:00:00.000Z" })
      })
  },
  {
    file: "updated-order-reappears.json",
    description:
      "resuming from a cursor: the overlap re-read skips the version already emitted at the cursor, and an order re-saved since then appears again with its new content",
    settings: {
      store: ordersStore,
      heartland,
      action: {
        _tag: "pull",
        since,
        cursor: JSON.stringify({ v: 1, at: "2024-03-02T10:30:00.000Z", ids: ["1002"] })
      }
    },
    setup: (control, b) =>
      Effect.gen(function* () {
        const first = yield* addOrder(control, b, "ana", "2024-03-02T10:00:00.000Z")
        yield* addOrder(control, b, "bo", "2024-03-02T10:30:00.000Z")
        yield* control.updateOrder(first.id, {
          shippingCharge: "0",
          lines: [{ itemId: b.mug.id, qty: 4, unitPrice: "8.00" }],
          at: "2024-03-02T11:00:00.000Z"
        })
      })
  },
  {
    file: "unicode.json",
    description:
      "names, streets and item descriptions with accents, apostrophes, & and non-Latin letters pass through unchanged",
    settings: pullOrders,
    setup: (control) =>
      Effect.gen(function* () {
        const torch = yield* control.addItem({
          publicId: "TORCH-É",
          description: "Crème brûlée torch & stand — 日本製"
        })
        const zoe = yield* control.addCustomer({
          firstName: "Zoë",
          lastName: "Nguyễn-O'Brien",
          email: "zoe@example.com"
        })
        const home = yield* control.addAddress(zoe.id, {
          first_name: "Zoë",
          last_name: "Nguyễn-O'Brien",
          company: "Café & Co",
          line_1: "5 Rue de l'Église",
          city: "Montréal",
          state: "QC",
          postal_code: "H2X 1Y4",
          country: "CA"
        })
        yield* control.addOrder({
          customerId: zoe.id,
          shippingAddressId: home.id,
          lines: [{ itemId: torch.id, qty: 1, unitPrice: "39.90" }],
          at: "2024-03-02T08:00:00.000Z"
        })
      })
  },
  {
    file: "rate-limited-then-success.json",
    description: "Heartland answers 429 with Retry-After: 2; the adapter waits and repeats the same request",
    settings: pullOrders,
    simulator: { faults: Faults.scripted([Faults.rateLimited(2)]) },
    orders: (b) => [order(b, "ana", "2024-03-02T10:00:00.000Z")]
  },
  {
    file: "statuses.json",
    description:
      "status mapping with openOrderStatus unpaid: pending and open → unpaid, closed and fulfilled → shipped, canceled → cancelled",
    settings: {
      store: ordersStore,
      heartland: { ...heartland, openOrderStatus: "unpaid" },
      action: { _tag: "pull", since }
    },
    setup: (control, b) =>
      Effect.gen(function* () {
        yield* addOrder(control, b, "ana", "2024-03-02T10:00:00.000Z", { status: "pending" })
        yield* addOrder(control, b, "bo", "2024-03-02T10:01:00.000Z", { status: "open" })
        const closed = yield* addOrder(control, b, "ana", "2024-03-02T10:02:00.000Z")
        yield* control.completeToInvoice(closed.id, { at: "2024-03-02T10:03:00.000Z" })
        yield* addOrder(control, b, "bo", "2024-03-02T10:04:00.000Z", { status: "canceled" })
      })
  },
  {
    file: "write-back.json",
    description:
      "a ship notice is written to the order's shipstation_tracking custom field: the order is read, then PUT back with all its custom fields",
    settings: {
      store: ordersStore,
      heartland,
      action: {
        _tag: "writeBack",
        notice: { storeId: "acme-heartland", ...shipment }
      }
    },
    simulator: { clock: writeBackClock() },
    orders: (b) => [order(b, "ana", "2024-03-02T10:00:00.000Z", { custom: { gift_wrap: "yes" } })]
  },
  {
    file: "token-rejected.json",
    description: "Heartland rejects the API token with 401: the pull stops at once with an auth error (no retry)",
    settings: pullOrders,
    simulator: { token: "a-different-token" },
    orders: (b) => [order(b, "ana", "2024-03-02T10:00:00.000Z")]
  }
]

const record = (scenario: Scenario) =>
  Effect.gen(function* () {
    const sim = yield* Simulator.make({ token: "replayed-token", ...scenario.simulator })
    const base = yield* seedSmall(sim.control)
    yield* Effect.forEach(scenario.orders?.(base) ?? [], sim.control.addOrder, { discard: true })
    if (scenario.setup !== undefined) yield* scenario.setup(sim.control, base)
    const into = yield* Ref.make<ReadonlyArray<RecordedExchange.Exchange>>([])
    const client = RecordingHttpClient.wrap(yield* SimServer.makeClient(sim.app), into, {
      keepHeaders: ["retry-after"]
    })
    const outcome = yield* Effect.provideService(run(scenario.settings), HttpClient.HttpClient, client)
    const fixture: RecordedExchange.Fixture = {
      description: scenario.description,
      adapter: "heartland",
      settings: scenario.settings,
      exchanges: yield* Ref.get(into),
      expected: outcome
    }
    Fs.writeFileSync(Path.join(dir, scenario.file), RecordedExchange.encodeFixture(fixture))
    console.log(`${scenario.file}: ${fixture.exchanges.length} exchanges`)
  })

Fs.mkdirSync(dir, { recursive: true })
Effect.runPromise(Effect.forEach(scenarios, record, { discard: true })).catch((e) => {
  console.error(e)
  process.exit(1)
})
