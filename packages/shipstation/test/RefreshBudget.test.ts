import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Option } from "effect"
import { RefreshBudget } from "../src/index.js"

type Event =
  | { readonly _tag: "Request"; readonly gap: number; readonly store: number }
  | {
      readonly _tag: "Observe"
      readonly gap: number
      readonly limit: number
      readonly remaining: number
      readonly resetSeconds: number
    }
  | { readonly _tag: "TooMany"; readonly gap: number; readonly resetSeconds: Option.Option<number> }

interface Grant {
  readonly at: number
  readonly store: number
  /** Position in the sequence of everything that happened (events and grants). */
  readonly seq: number
}

interface Run {
  readonly grants: ReadonlyArray<Grant>
  /** Events with the instant and sequence position at which they happened. */
  readonly happened: ReadonlyArray<{ readonly event: Event; readonly at: number; readonly seq: number }>
}

/**
 * Drives a budget as the server's refresher would: at every event's instant it first grants every call the
 * budget allows, sleeping until each `Wait`'s instant when that comes before the next event; after the last event
 * it drains the queue. `respond` is what ShipStation answers to a grant (a faithful model in the liveness test).
 */
const drive = (
  config: RefreshBudget.Config,
  events: ReadonlyArray<Event>,
  respond?: (at: number) => RefreshBudget.Observed
): Run => {
  let budget = RefreshBudget.make<number>(config)
  let now = 0
  let seq = 0
  const grants: Array<Grant> = []
  const happened: Array<Run["happened"][number]> = []
  const grantUntil = (limit: number) => {
    for (let guard = 0; guard < 100_000; guard++) {
      const decision = RefreshBudget.next(budget, now)
      budget = decision.budget
      if (decision._tag === "Idle") return
      if (decision._tag === "Wait") {
        if (decision.until > limit) return
        now = decision.until
        continue
      }
      grants.push({ at: now, store: decision.store, seq: seq++ })
      if (respond) budget = RefreshBudget.observe(budget, respond(now), now)
    }
    throw new Error("the budget did not settle")
  }
  let clock = 0
  for (const event of events) {
    clock += event.gap
    grantUntil(clock)
    now = clock
    happened.push({ event, at: now, seq: seq++ })
    switch (event._tag) {
      case "Request":
        budget = RefreshBudget.request(budget, event.store)
        break
      case "Observe":
        budget = RefreshBudget.observe(budget, event, now)
        break
      case "TooMany":
        budget = RefreshBudget.rateLimited(budget, event.resetSeconds, now)
        break
    }
    grantUntil(now)
  }
  grantUntil(Number.POSITIVE_INFINITY)
  expect(RefreshBudget.waiting(budget)).toEqual([])
  return { grants, happened }
}

const configs = fc.record({
  limit: fc.integer({ min: 3, max: 12 }),
  reserve: fc.integer({ min: 0, max: 2 }),
  windowMillis: fc.constantFrom(1_000, 10_000, 60_000)
})

const gap = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 0, max: 90_000 }))
const request = fc.record({ _tag: fc.constant("Request" as const), gap, store: fc.integer({ min: 0, max: 14 }) })

const events = (limitOfKey: fc.Arbitrary<number>) =>
  fc.array(
    fc.oneof(
      { arbitrary: request, weight: 6 },
      {
        arbitrary: fc.record({
          _tag: fc.constant("Observe" as const),
          gap,
          limit: limitOfKey,
          remaining: fc.integer({ min: 0, max: 15 }),
          resetSeconds: fc.integer({ min: 0, max: 90 })
        }),
        weight: 2
      },
      {
        arbitrary: fc.record({
          _tag: fc.constant("TooMany" as const),
          gap,
          resetSeconds: fc.option(fc.integer({ min: 0, max: 90 }), { nil: undefined }).map(Option.fromNullable)
        }),
        weight: 1
      }
    ),
    { maxLength: 80 }
  )

/** The key's limit in force at sequence position `seq`: the configured one until a header said otherwise. */
const limitAt = (config: RefreshBudget.Config, run: Run, seq: number) => {
  let limit = config.limit
  for (const h of run.happened) if (h.seq < seq && h.event._tag === "Observe") limit = h.event.limit
  return limit
}

describe("RefreshBudget", () => {
  it.prop(
    "calls granted in any window never exceed the limit minus the reserve",
    [configs.chain((config) => fc.tuple(fc.constant(config), events(fc.constant(config.limit))))],
    ([[config, evs]]) => {
      const run = drive(config, evs)
      // Every window of length W that holds grants has a last grant g; all of its grants are in (g - W, g].
      for (const g of run.grants) {
        const inWindow = run.grants.filter((o) => o.at > g.at - config.windowMillis && o.seq <= g.seq)
        expect(inWindow.length).toBeLessThanOrEqual(config.limit - config.reserve)
      }
      // and the fixed windows ShipStation counts in, whatever their alignment
      for (const offset of [0, 1, config.windowMillis / 2, config.windowMillis - 1]) {
        const perWindow = new Map<number, number>()
        for (const g of run.grants) {
          const w = Math.floor((g.at - offset) / config.windowMillis)
          perWindow.set(w, (perWindow.get(w) ?? 0) + 1)
        }
        for (const count of perWindow.values()) expect(count).toBeLessThanOrEqual(config.limit - config.reserve)
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "a limit announced by the headers replaces the documented one, and is kept with the reserve",
    [configs.chain((config) => fc.tuple(fc.constant(config), events(fc.integer({ min: 3, max: 12 }))))],
    ([[config, evs]]) => {
      const run = drive(config, evs)
      for (const g of run.grants) {
        const inWindow = run.grants.filter((o) => o.at > g.at - config.windowMillis && o.seq <= g.seq)
        expect(inWindow.length).toBeLessThanOrEqual(limitAt(config, run, g.seq) - config.reserve)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "after a 429 nothing is granted before ShipStation's reset (a full window when it gave none)",
    [configs.chain((config) => fc.tuple(fc.constant(config), events(fc.constant(config.limit))))],
    ([[config, evs]]) => {
      const run = drive(config, evs)
      for (const h of run.happened) {
        if (h.event._tag !== "TooMany") continue
        const wait = Option.match(h.event.resetSeconds, {
          onNone: () => config.windowMillis,
          onSome: (s) => Math.max(s, 1) * 1000
        })
        for (const g of run.grants) if (g.seq > h.seq) expect(g.at).toBeGreaterThanOrEqual(h.at + wait)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "after headers say R calls remain, at most R minus the reserve are granted before their reset",
    [configs.chain((config) => fc.tuple(fc.constant(config), events(fc.constant(config.limit))))],
    ([[config, evs]]) => {
      const run = drive(config, evs)
      for (const g of run.grants) {
        const last = run.happened.filter((h) => h.seq < g.seq && h.event._tag === "Observe").at(-1)
        if (last === undefined || last.event._tag !== "Observe") continue
        if (g.at >= last.at + last.event.resetSeconds * 1000) continue
        const since = run.grants.filter((o) => o.seq > last.seq && o.seq <= g.seq).length
        expect(since).toBeLessThanOrEqual(last.event.remaining - config.reserve)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "with the key to itself, every waiting store is served within ceil(waiting / (limit - reserve)) windows (+1 s when resets are whole seconds)",
    [
      configs,
      fc.array(request, { minLength: 1, maxLength: 120 }),
      // where ShipStation's fixed windows start, relative to our clock
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      // X-Rate-Limit-Reset exact, or in whole seconds rounded up (a header that outlives the window by < 1 s)
      fc.boolean()
    ],
    ([config, evs, phase, wholeSeconds]) => {
      const W = config.windowMillis
      const offset = phase * W
      const counts = new Map<number, number>()
      let tooMany = 0
      // A faithful ShipStation: fixed windows, counting only our calls, exact reset.
      const respond = (at: number): RefreshBudget.Observed => {
        const w = Math.floor((at - offset) / W)
        const count = (counts.get(w) ?? 0) + 1
        counts.set(w, count)
        if (count > config.limit) tooMany++
        const end = offset + (w + 1) * W
        return {
          limit: config.limit,
          remaining: Math.max(config.limit - count, 0),
          resetSeconds: wholeSeconds ? Math.ceil((end - at) / 1000) : (end - at) / 1000
        }
      }
      const run = drive(config, evs, respond)
      expect(tooMany).toBe(0)
      // Which stores wait, kept here from requests and grants alone.
      const waitingSince = new Map<number, { at: number; bound: number }>()
      const timeline = [
        ...run.happened.map((h) => ({ seq: h.seq, at: h.at, request: h.event as Event & { _tag: "Request" } })),
        ...run.grants.map((g) => ({ seq: g.seq, at: g.at, grant: g }))
      ].sort((a, b) => a.seq - b.seq)
      for (const step of timeline) {
        if ("request" in step) {
          const store = step.request.store
          if (waitingSince.has(store)) continue
          const waiting = waitingSince.size + 1
          const bound = Math.ceil(waiting / (config.limit - config.reserve)) * W
          expect(RefreshBudget.worstCaseWaitMillis({ ...config, waiting })).toBe(bound)
          waitingSince.set(store, { at: step.at, bound })
        } else if ("grant" in step) {
          const since = waitingSince.get(step.grant.store)
          expect(since, `store ${step.grant.store} granted without asking`).toBeDefined()
          expect(step.at - since!.at).toBeLessThanOrEqual(since!.bound + (wholeSeconds ? 1_000 : 0))
          waitingSince.delete(step.grant.store)
        }
      }
      expect(waitingSince.size).toBe(0)
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("serves stores first come, first served; a store asking again keeps its place or queues behind the others", () => {
    const config = { limit: 3, reserve: 2, windowMillis: 1_000 }
    let budget = RefreshBudget.make<string>(config)
    for (const store of ["a", "b", "a", "c", "a"]) budget = RefreshBudget.request(budget, store)
    expect(RefreshBudget.waiting(budget)).toEqual(["a", "b", "c"])
    const served: Array<string> = []
    let now = 0
    for (let i = 0; i < 20 && RefreshBudget.waiting(budget).length > 0; i++) {
      const decision = RefreshBudget.next(budget, now)
      budget = decision.budget
      if (decision._tag === "Grant") {
        served.push(decision.store)
        // a, served first, asks again at once: it goes behind b and c
        if (decision.store === "a" && served.length === 1) budget = RefreshBudget.request(budget, "a")
      } else if (decision._tag === "Wait") {
        expect(decision.until).toBe(now + 1_000)
        now = decision.until
      }
    }
    expect(served).toEqual(["a", "b", "c", "a"])
  })

  it("assumes 40 calls a minute with 2 in reserve until headers say otherwise", () => {
    let budget = RefreshBudget.make<number>()
    expect(RefreshBudget.available(budget, 0)).toBe(38)
    budget = RefreshBudget.observe(budget, { limit: 40, remaining: 10, resetSeconds: 30 }, 0)
    expect(RefreshBudget.available(budget, 0)).toBe(8)
    expect(RefreshBudget.available(budget, 30_000)).toBe(38)
    budget = RefreshBudget.rateLimited(budget, Option.some(12), 30_000)
    expect(RefreshBudget.nextCallAt(budget, 30_000)).toBe(42_000)
    expect(RefreshBudget.available(budget, 41_999)).toBe(0)
  })

  it("refuses a configuration that could never grant a call", () => {
    expect(() => RefreshBudget.make({ limit: 2, reserve: 2 })).toThrow(RangeError)
    expect(RefreshBudget.worstCaseWaitMillis({ limit: 40, reserve: 2, windowMillis: 60_000, waiting: 200 })).toBe(
      6 * 60_000
    )
  })
})
