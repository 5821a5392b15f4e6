/**
 * Backfill of 10,000 Sales Orders from the simulator (in-process HTTP), printing how many item and address
 * requests the adapter made next to the number of distinct items and customers/addresses involved.
 *   pnpm --filter @posbridge/source-heartland bench   (ORDERS=2000 for a quicker run)
 */
import { HttpClient } from "@effect/platform"
import { StoreId } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { DateTime, Effect, Option, Stream } from "effect"
import * as HeartlandSource from "../src/HeartlandSource.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"

const orders = Number(process.env.ORDERS ?? 10_000)

const program = Effect.gen(function* () {
  const sim = yield* Simulator.make()
  const seeded = yield* Simulator.seedDemo(sim.control, {
    seed: 1,
    orders,
    customers: 2_000,
    items: 500,
    start: "2024-01-01T00:00:00Z"
  })
  const client = yield* SimServer.makeClient(sim.app)
  const source = yield* Effect.provideService(
    HeartlandSource.make(
      { id: StoreId.StoreId.make("heartland-bench"), documentKind: "orders" },
      Settings.make({ baseUrl: "https://bench.retail.heartland.us", apiToken: "sim-token", perPage: 100 }),
      { concurrency: 8 }
    ),
    HttpClient.HttpClient,
    client
  )
  const started = performance.now()
  let documents = 0
  let batches = 0
  yield* source.pull(Option.none(), { since: DateTime.unsafeMake("2023-12-31T00:00:00Z") }).pipe(
    Stream.runForEach((batch) =>
      Effect.sync(() => {
        documents += batch.documents.length
        batches++
      })
    )
  )
  const seconds = (performance.now() - started) / 1000
  const run = source.lastRun()
  const stats = yield* sim.control.stats
  const referencedItems = new Set((yield* sim.control.orders).flatMap((o) => o.lines.map((l) => l.item_id))).size
  const referencedCustomers = new Set((yield* sim.control.orders).map((o) => o.customer_id)).size
  const referencedAddresses = new Set(
    (yield* sim.control.orders).flatMap((o) => [o.shipping_address_id, o.billing_address_id]).filter((a) => a !== null)
  ).size
  console.log(
    `backfill: ${documents} orders in ${batches} batches, ${seconds.toFixed(1)} s (${(documents / seconds).toFixed(0)} orders/s)`
  )
  console.log(
    `requests: ${stats.requests} total — list ${run.listRequests}, lines ${run.lineRequests}, items ${run.itemRequests}, address books ${run.addressRequests}`
  )
  console.log(
    `items:     ${run.itemRequests} requests for ${referencedItems} distinct items (${seeded.items.length} in the catalogue)`
  )
  console.log(
    `addresses: ${run.addressRequests} requests for ${referencedAddresses} distinct addresses of ${referencedCustomers} distinct customers`
  )
  const ok = documents === orders && run.itemRequests <= referencedItems && run.addressRequests <= referencedAddresses
  console.log(ok ? "OK: every order read once; item/address requests bounded by distinct items/addresses" : "FAILED")
  if (!ok) process.exitCode = 1
})

Effect.runPromise(program)
