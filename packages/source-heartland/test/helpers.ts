import { HttpClient } from "@effect/platform"
import { type PosSource, StoreId } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Chunk, DateTime, Effect, Fiber, Option, Stream, TestClock } from "effect"
import * as HeartlandSource from "../src/HeartlandSource.js"
import * as Settings from "../src/Settings.js"
import type * as Simulator from "../src/Simulator.js"

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

/** A small account: two customers (one address each), three items. */
export const seedSmall = (control: Simulator.Control) =>
  Effect.gen(function* () {
    const boots = yield* control.addItem({ publicId: "BOOT-42", description: "Trail boot, size 42" })
    const socks = yield* control.addItem({ publicId: "SOCK-M", description: "Wool socks (M)" })
    const mug = yield* control.addItem({ publicId: "MUG-1", description: "Camp mug" })
    const ana = yield* control.addCustomer({ firstName: "Ana", lastName: "García", email: "ana@example.com" })
    const anaHome = yield* control.addAddress(ana.id, {
      first_name: "Ana",
      last_name: "García",
      line_1: "12 Main St",
      city: "Portland",
      state: "OR",
      postal_code: "97205",
      country: "US"
    })
    const bo = yield* control.addCustomer({ firstName: "Bo", lastName: "Søren" })
    const boHome = yield* control.addAddress(bo.id, {
      first_name: "Bo",
      last_name: "Søren",
      line_1: "1 Elm Rd",
      city: "Austin",
      state: "TX",
      postal_code: "78701",
      country: "US"
    })
    return { boots, socks, mug, ana, anaHome, bo, boHome }
  })
