import { describe, expect, it } from "@effect/vitest"
import { ShipStationClient } from "@posbridge/pos-testkit"
import { Clock, Effect, Option, TestClock } from "effect"
import { RefreshBudget, ShipStationApi } from "../src/index.js"
import { ApiSimulator } from "../src/testing/index.js"
import { client, clientLayer, credentials, fakeExport, keyA, simulatorLayer } from "./support/ApiHarness.js"

const T = Date.parse("2024-05-01T10:00:00Z")
const minute = 60_000
const a = credentials(keyA)

const exportStore = { id: "alpha", username: "alpha-user", password: "alpha-pass" }
const orders = [
  { id: "old", modified: T - 2 * 24 * 60 * minute },
  { id: "a", modified: T - 180 * minute },
  { id: "b", modified: T - 120 * minute },
  { id: "c", modified: T - 90 * minute },
  { id: "d", modified: T - 30 * minute },
  { id: "e", modified: T - minute },
  { id: "f", modified: T + 5 * minute }
]

/** The simulator with store 301 pointing at a fresh fake export; the test gets both. */
const setup = (options: Partial<ApiSimulator.Options> = {}, password = exportStore.password) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(T)
    const exporter = yield* fakeExport({ ...exportStore, orders })
    const layer = simulatorLayer({
      accounts: [
        {
          ...keyA,
          stores: [
            {
              storeId: 301,
              storeName: "Bridge alpha",
              integrationUrl: `${exporter.baseUrl}/shipstation/alpha?SS-UserName=x&SS-Password=y`,
              username: exportStore.username,
              password
            }
          ]
        }
      ],
      ...options
    })
    return { exporter, layer }
  })

describe("ApiSimulator", () => {
  it.scoped("a refresh makes it poll the store's export like ShipStation: page 1, then each later page once", () =>
    Effect.gen(function* () {
      const { exporter, layer } = yield* setup()
      yield* Effect.gen(function* () {
        const sim = yield* ApiSimulator.ApiSimulator
        const api = yield* client()
        yield* api.refreshStore(a, 301)
        const [poll] = yield* sim.awaitPolls(1)
        expect(poll).toMatchObject({
          storeId: 301,
          requestedAt: T,
          startedAt: T,
          window: { start: T - 24 * 60 * minute, end: T },
          status: 200,
          pages: 3,
          orders: ["a", "b", "c", "d", "e"],
          error: undefined
        })
        const requests = yield* exporter.requests
        expect(requests.map((r) => r.page)).toEqual([1, 2, 3])
        expect(new Set(requests.map((r) => `${r.start}–${r.end}`))).toEqual(
          new Set([`${ShipStationClient.formatDate(T - 24 * 60 * minute)}–${ShipStationClient.formatDate(T)}`])
        )
        const status = yield* api.refreshStatus(a, 301)
        expect(status.value.refreshStatus).toEqual(Option.some("Idle"))
        expect(status.value.refreshDate).toEqual(Option.some(new Date(T).toISOString()))

        // the next poll starts a minute before the last one ended
        yield* TestClock.adjust("10 minutes")
        yield* api.refreshStore(a, 301)
        const polls = yield* sim.awaitPolls(2)
        expect(polls[1]).toMatchObject({
          window: { start: T - minute, end: T + 10 * minute },
          orders: ["e", "f"],
          pages: 1
        })
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped("the poll waits for the configured delay, and the status says updating meanwhile", () =>
    Effect.gen(function* () {
      const { layer } = yield* setup({ pollDelay: "30 seconds" })
      yield* Effect.gen(function* () {
        const sim = yield* ApiSimulator.ApiSimulator
        const api = yield* client()
        yield* api.refreshStore(a, 301)
        yield* api.refreshStore(a, 301)
        const updating = yield* api.refreshStatus(a, 301)
        expect(updating.value.refreshStatusId).toEqual(Option.some(2))
        expect(updating.value.lastRefreshAttempt).toEqual(Option.some(new Date(T).toISOString()))
        yield* TestClock.adjust("29 seconds")
        expect(yield* sim.polls).toEqual([])
        yield* TestClock.adjust("1 second")
        const [first] = yield* sim.awaitPolls(1)
        expect(first).toMatchObject({ requestedAt: T, startedAt: T + 30_000, status: 200 })
        // the second refresh arrived while the first was pending: one more poll, not one per call
        yield* TestClock.adjust("30 seconds")
        const polls = yield* sim.awaitPolls(2)
        expect(polls[1]).toMatchObject({ startedAt: T + 60_000, window: { start: T + 30_000 - minute } })
        yield* TestClock.adjust("5 minutes")
        expect(yield* sim.polls).toHaveLength(2)
        expect((yield* api.refreshStatus(a, 301)).value.refreshStatusId).toEqual(Option.some(4))
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped(
    "a poll the export refuses is recorded, and the next window still starts where the last good one ended",
    () =>
      Effect.gen(function* () {
        const { layer } = yield* setup({}, "wrong-password")
        yield* Effect.gen(function* () {
          const sim = yield* ApiSimulator.ApiSimulator
          const api = yield* client()
          yield* api.refreshStore(a, 301)
          yield* TestClock.adjust("5 minutes")
          yield* api.refreshStore(a, 301)
          const polls = yield* sim.awaitPolls(2)
          expect(polls.map((p) => [p.status, p.window.start])).toEqual([
            [401, T - 24 * 60 * minute],
            [401, T + 5 * minute - 24 * 60 * minute]
          ])
          expect(polls[0]!.error).toBe("no")
        }).pipe(Effect.provide(layer))
      })
  )

  describe("rate limit", () => {
    const stores = Array.from({ length: 25 }, (_, i) => ({ storeId: 1000 + i, storeName: `Store ${i}` }))
    const layer = simulatorLayer({ accounts: [{ ...keyA, stores }], limit: 10 })

    it.effect("calls beyond the key's limit are answered 429 and counted", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const sim = yield* ApiSimulator.ApiSimulator
        const api = yield* client()
        const results = yield* Effect.forEach(stores, (s) => Effect.either(api.refreshStore(a, s.storeId)))
        expect(results.filter((r) => r._tag === "Left")).toHaveLength(15)
        expect(yield* sim.tooManyRequests).toBe(15)
        yield* TestClock.adjust("1 minute")
        expect((yield* api.refreshStore(a, 1000)).rateLimit).toEqual(
          Option.some(expect.objectContaining({ limit: 10, remaining: 9, resetSeconds: 60 }))
        )
      }).pipe(Effect.provide(layer))
    )

    it.effect("25 stores on one key driven by RefreshBudget: no 429, each refreshed within the computed bound", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(T)
        const sim = yield* ApiSimulator.ApiSimulator
        const api = yield* ShipStationApi.ShipStationApi.pipe(Effect.provide(clientLayer))
        const config = { limit: 10, reserve: 2, windowMillis: minute }
        let budget = RefreshBudget.make<number>(config)
        for (const s of stores) budget = RefreshBudget.request(budget, s.storeId)
        const bound = RefreshBudget.worstCaseWaitMillis({ ...config, waiting: stores.length })
        expect(bound).toBe(4 * minute)
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          const decision = RefreshBudget.next(budget, now)
          budget = decision.budget
          if (decision._tag === "Idle") break
          if (decision._tag === "Wait") {
            yield* TestClock.adjust(decision.until - now)
            continue
          }
          const answer = yield* api.refreshStore(a, decision.store)
          if (Option.isSome(answer.rateLimit)) budget = RefreshBudget.observe(budget, answer.rateLimit.value, now)
        }
        const calls = yield* sim.calls
        expect(yield* sim.tooManyRequests).toBe(0)
        expect(yield* sim.allStoreRefreshes).toBe(0)
        expect(calls.map((c) => c.storeId).sort()).toEqual(stores.map((s) => s.storeId))
        for (const c of calls) expect(c.at - T).toBeLessThanOrEqual(bound)
        expect(Math.max(...calls.map((c) => c.at)) - T).toBe(3 * minute)
      }).pipe(Effect.provide(layer))
    )
  })
})
