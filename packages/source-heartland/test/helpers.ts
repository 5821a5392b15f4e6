import { HttpClient } from "@effect/platform"
import { type PosSource, StoreId } from "@posbridge/core"
import { SimClock, SimServer } from "@posbridge/pos-testkit"
import { Chunk, DateTime, Effect, Fiber, Option, Stream, TestClock } from "effect"
import * as HeartlandSource from "../src/HeartlandSource.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"

export const storeId = StoreId.StoreId.make("heartland-test")
export const ordersStore = { id: storeId, documentKind: "orders" as const }
export const invoicesStore = { id: storeId, documentKind: "invoices" as const }
export const since = DateTime.unsafeMake("2024-03-01T00:00:00Z")

export const settings = (overrides: Partial<Parameters<typeof Settings.make>[0]> = {}) =>
  Settings.make({ baseUrl: "https://acme.retail.heartland.us", apiToken: "sim-token", ...overrides })

/** A PosSource talking to the simulator in-process. */
export const sourceFor = (
  sim: Simulator.Simulator,
  store: { readonly id: StoreId.StoreId; readonly documentKind: "orders" | "invoices" } = ordersStore,
  overrides: Partial<Parameters<typeof Settings.make>[0]> = {},
  options: HeartlandSource.Options = {}
) =>
  Effect.gen(function* () {
    const client = yield* SimServer.makeClient(sim.app)
    return yield* Effect.provideService(
      HeartlandSource.make(store, settings(overrides), options),
      HttpClient.HttpClient,
      client
    )
  })

export const collect = (
  source: PosSource.PosSourceService,
  cursor: Option.Option<string> = Option.none()
): Effect.Effect<ReadonlyArray<PosSource.PullBatch>, PosSource.PosSourceError> =>
  Effect.map(Stream.runCollect(source.pull(cursor, { since })), Chunk.toReadonlyArray)

/**
 * Runs an effect that sleeps (backoff, Retry-After, timeouts) under TestClock: whenever it is only waiting for
 * time, the clock jumps to its next wake-up; otherwise the event loop gets a turn (in-process HTTP uses promises).
 */
export const withTime = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      const sleeps = yield* TestClock.sleeps()
      const next = Chunk.head(sleeps)
      if (Option.isSome(next) && Option.isNone(yield* Fiber.poll(fiber))) {
        const now = yield* TestClock.currentTimeMillis
        yield* TestClock.adjust(Math.max(0, Math.min(...sleeps) - now))
      }
    }
    return yield* Fiber.join(fiber)
  })

/** A small account: three items, two customers with a home address each. The fixtures are recorded on it too. */
export const seedSmall = (control: Simulator.Control) =>
  Effect.gen(function* () {
    const boots = yield* control.addItem({
      publicId: "BOOT-42",
      description: "Trail boot, size 42",
      upc: "012345678905"
    })
    const socks = yield* control.addItem({ publicId: "SOCK-M", description: "Wool socks (M)" })
    const mug = yield* control.addItem({ publicId: "MUG-1", description: "Camp mug" })
    const { customer: ana, address: anaHome } = yield* Simulator.addCustomerWithAddress(
      control,
      { firstName: "Ana", lastName: "García", email: "ana@example.com" },
      {
        line_1: "12 Main St",
        line_2: "Apt 3",
        city: "Portland",
        state: "OR",
        postal_code: "97205",
        country: "US",
        phone: "503-555-0100"
      }
    )
    const { customer: bo, address: boHome } = yield* Simulator.addCustomerWithAddress(
      control,
      { firstName: "Bo", lastName: "Lind" },
      { line_1: "1 Elm Rd", city: "Austin", state: "TX", postal_code: "78701", country: "US" }
    )
    return { boots, socks, mug, ana, anaHome, bo, boHome }
  })

export type Small = Effect.Effect.Success<ReturnType<typeof seedSmall>>

/** A simulator holding the small account. */
export const smallAccount = (options?: Simulator.Options) =>
  Effect.gen(function* () {
    const sim = yield* Simulator.make(options)
    return { sim, s: yield* seedSmall(sim.control) }
  })

/** An order by Ana or Bo shipped to their home: one mug, unless `extra` says otherwise. */
export const orderBy = (
  s: Small,
  who: "ana" | "bo",
  at: DateTime.DateTime.Input,
  extra: Partial<Simulator.OrderInput> = {}
): Simulator.OrderInput => ({
  customerId: s[who].id,
  shippingAddressId: (who === "ana" ? s.anaHome : s.boHome).id,
  lines: [{ itemId: s.mug.id, qty: 1, unitPrice: "8.00" }],
  at,
  ...extra
})

/** Heartland's clock when a write-back lands, after the orders were created: it stands at 2024-03-05T12:00Z. */
export const writeBackClock = () => SimClock.make({ start: Date.parse("2024-03-05T12:00:00Z"), scale: 0 })

/** The shipment of order 1001 the write-back tests and the write-back fixture send. */
export const shipment = {
  orderId: "1001",
  orderNumber: "SO-1001",
  carrier: "UPS",
  service: "Ground",
  trackingNumber: "1Z999AA10123456784",
  shipDate: "2024-03-05",
  items: []
} as const
