/**
 * Randomized soak: thousands of ShipStation polls against a continuously changing POS, reproducible from the
 * printed seed. Each step may add orders (some arriving late, stamped minutes in the past), re-save or change
 * existing ones, touch one, sync the bridge, move the bridge clock, and poll with a contiguous, overlapping or
 * same-minute window from a ShipStation clock skewed by up to ±10 minutes. At the end every version the POS saved
 * (its simulator's change log) and every touch must have been served by a later poll (the no-missed-order
 * invariant, PosOracle), and every poll's pages must hold each order once.
 *
 * A late save is reported up to the adapter's overlap in the past, never more: the adapter re-reads that far
 * behind its cursor (HeartlandSource, 5 minutes), and a save the POS shows later than that is beyond what any
 * cursor can see (README, "The oracle").
 */
import { Faults } from "@posbridge/pos-testkit"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Cause, Effect, Exit } from "effect"
import * as Bridge from "./Bridge.js"
import type * as Report from "./Report.js"
import * as Driver from "./scenarios/Driver.js"
import * as PosFixtures from "./scenarios/PosFixtures.js"

export interface Options {
  readonly polls: number
  readonly seed: number
  readonly mutation?: Bridge.Mutation | undefined
}

const minute = Driver.minute
const maxOrders = 200
/** How late a save may be reported: within the adapter's re-read overlap. */
const maxLateness = heartland.overlapMillis

export const run = (options: Options): Effect.Effect<Report.CaseResult> =>
  Effect.gen(function* () {
    const started = Date.now()
    const rng = Faults.makePrng(options.seed)
    const exit = yield* Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const bridge = yield* Bridge.make({ mutation: options.mutation, pageSize: 5 })
          const d = Driver.make(bridge)
          d.offset = Math.round((rng.next() * 20 - 10) * minute)
          const store = Bridge.stores.orders
          /**
           * When a save made now is reported as modified: `lateBy` earlier, but never before the order's last save
           * (the POS stamps saves of one document in order; a later one stamped earlier is an old version).
           */
          const lateSave = (id: number, lateBy: number) =>
            Effect.map(bridge.pos.order(id), (doc) => {
              const now = bridge.clock.now()
              const last = doc === undefined ? 0 : Date.parse(doc.updated_at)
              return new Date(Math.min(now, Math.max(now - lateBy, last + 1)))
            })
          const body = Effect.gen(function* () {
            const p = yield* PosFixtures.setup(d)
            const ids: Array<number> = []
            for (let i = 0; i < options.polls; i++) {
              // The POS account stays at a few hundred orders (the simulator scans them all on every list), and
              // keeps changing through re-saves and edits.
              const adds = ids.length < maxOrders ? rng.nextInt(3) : 0
              for (let a = 0; a < adds; a++) {
                const lateBy = rng.next() < 0.3 ? rng.nextInt(maxLateness) : 0
                const o = yield* PosFixtures.addOrder(d, p, { at: bridge.clock.now() - lateBy })
                ids.push(o.id)
              }
              if (ids.length > 0 && rng.next() < 0.4) {
                const id = rng.pick(ids)
                const lateBy = rng.next() < 0.3 ? rng.nextInt(maxLateness) : 0
                const change = rng.next() < 0.5 ? { shippingCharge: `${rng.nextInt(20)}.00` } : {}
                yield* bridge.pos.updateOrder(id, { ...change, at: yield* lateSave(id, lateBy) })
              }
              if (ids.length > 0 && rng.next() < 0.03) yield* bridge.touch(store.id, String(rng.pick(ids)))
              if (rng.next() < 0.7) yield* bridge.sync(store.id)
              // The server prunes expired snapshots every 10 minutes; a step is about a minute of bridge time.
              if (i % 10 === 9) yield* Effect.orDie(bridge.store.pruneSnapshots)
              // The simulator's fault injector keeps every request in a list it copies on each request; switching
              // to the same (empty) plan starts a new list, so the soak stays linear in the number of polls.
              if (i % 100 === 99) yield* bridge.pos.setFaults(Faults.none)
              bridge.clock.advance(5_000 + rng.nextInt(115_000))
              const last = d.lastEnd.get(store.id)
              const kind = rng.next()
              const start =
                last === undefined
                  ? undefined
                  : kind < 0.5
                    ? last + minute
                    : kind < 0.8
                      ? last - rng.nextInt(10) * minute
                      : last
              // ShipStation never asks for a window that ends before it starts.
              const end = Driver.floorMinute(Driver.ssNow(d))
              yield* Driver.poll(d, store, {
                ...(start === undefined ? {} : { start: Math.min(start, end) }),
                ...(rng.next() < 0.1 && ids.length > 0
                  ? {
                      betweenPages: () =>
                        Effect.gen(function* () {
                          yield* bridge.pos.updateOrder(rng.pick(ids), { at: new Date(bridge.clock.now()) })
                          yield* bridge.sync(store.id)
                        })
                    }
                  : {})
              })
            }
            yield* bridge.sync(store.id)
            yield* Driver.finish(d)
          })
          yield* Effect.withClock(body, bridge.clock.clock)
          return { problems: d.problems, versions: d.mustServe().length, served: d.served.length }
        })
      )
    )
    const millis = Date.now() - started
    const problems = Exit.isSuccess(exit)
      ? exit.value.problems.map((p) => `${p} (reproduce with --soak --polls ${options.polls} --seed ${options.seed})`)
      : [`the soak crashed: ${Cause.pretty(exit.cause).split("\n")[0]} (seed ${options.seed})`]
    return {
      name: `soak ${options.polls} polls, seed ${options.seed}`,
      status: problems.length === 0 ? "passed" : "failed",
      problems: problems.slice(0, 20),
      millis,
      details: {
        seed: options.seed,
        polls: options.polls,
        pollsPerSecond: Math.round((options.polls / millis) * 1000 * 10) / 10,
        ...(Exit.isSuccess(exit) ? { versions: exit.value.versions, ordersServed: exit.value.served } : {}),
        missed: problems.length
      }
    }
  })
