/**
 * Issue 18, acceptance 2: 200 stores on one ShipStation API key with changes arriving continuously. The key's
 * loop (what its owning runner runs) against the ShipStation API simulator, in simulated time: the key's limit is
 * never exceeded (0 × 429), no call ever names no store, and every store is refreshed within the bound computed
 * from the limit and the number of stores waiting.
 */

import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { MemoryOrderStore, OrderStore } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { RefreshBudget } from "@posbridge/shipstation"
import { ApiSimulator } from "@posbridge/shipstation/testing"
import { Duration, Effect, Logger, LogLevel, Option, Redacted, Ref, TestClock } from "effect"
import type * as Config from "../src/Config.js"
import * as Refresher from "../src/Refresher.js"

const stores = 200
const key = { apiKey: "key-200-stores", apiSecret: "secret-200-stores" }
const minInterval = Duration.minutes(5)

const settings = (i: number): Config.ShipStationApiSettings => ({
  apiKey: Redacted.make(key.apiKey),
  apiSecret: Redacted.make(key.apiSecret),
  storeId: Option.some(i + 1),
  integrationUrl: Option.none(),
  autoRefresh: true,
  minInterval,
  baseUrl: "http://ssapi.simulated"
})
const ids = Array.from({ length: stores }, (_, i) => `store-${i}`)

describe("one API key shared by 200 stores", () => {
  it.scoped(
    "changes arriving continuously for 20 minutes: never a 429, never a call without a store, each store refreshed within the bound",
    () =>
      Effect.gen(function* () {
        const api = yield* ApiSimulator.make({
          accounts: [
            {
              ...key,
              stores: ids.map((_, i) => ({ storeId: i + 1, storeName: `Store ${i}` }))
            }
          ],
          limit: 40,
          window: Duration.minutes(1)
        })
        const client = yield* SimServer.makeClient(api.app)
        const warnings = yield* Ref.make<ReadonlyMap<string, string>>(new Map())
        const { enqueue, loop } = yield* Refresher.keyLoop("key", {
          settingsOf: (storeId) => {
            const i = ids.indexOf(storeId)
            return Effect.succeed(i < 0 ? Option.none() : Option.some(settings(i)))
          },
          warnings
        }).pipe(Effect.provideService(HttpClient.HttpClient, client))
        yield* Effect.forkScoped(loop)

        // Every store has new versions waiting all the time: each asks every 10 s (the owner debounces).
        const wantedSince = new Map<string, number>()
        const waits: Array<number> = []
        let served = 0
        const minutes = 20
        for (let second = 0; second < minutes * 60; second++) {
          const now = second * 1000
          for (const id of ids) {
            if (second % 10 !== ids.indexOf(id) % 10) continue
            const queued = yield* enqueue(id, { reason: "arrival", posRef: Option.none() }, false)
            if (queued.outcome === "queued" && !wantedSince.has(id)) wantedSince.set(id, now)
          }
          yield* TestClock.adjust(Duration.seconds(1))
          yield* Effect.yieldNow()
          const calls = (yield* api.calls).filter((c) => c.endpoint === "refreshStore")
          for (const c of calls.slice(served)) {
            const id = `store-${(c.storeId ?? 0) - 1}`
            const since = wantedSince.get(id)
            if (since !== undefined) waits.push(c.at - since)
            wantedSince.delete(id)
          }
          served = calls.length
        }
        const calls = (yield* api.calls).filter((c) => c.endpoint === "refreshStore")
        expect(yield* api.tooManyRequests).toBe(0)
        expect(yield* api.allStoreRefreshes).toBe(0)
        expect(calls.every((c) => c.status === 200)).toBe(true)
        // Each store is refreshed about once per its 5-minute interval, every one of them.
        const perStore = new Map<number, number>()
        for (const c of calls) perStore.set(c.storeId ?? 0, (perStore.get(c.storeId ?? 0) ?? 0) + 1)
        expect(perStore.size).toBe(stores)
        expect(Math.min(...perStore.values())).toBeGreaterThanOrEqual(minutes / 5 - 1)
        // The bound: ceil(200 / (40 - 2)) = 6 windows of a minute (+1 s for whole-second resets).
        const bound =
          RefreshBudget.worstCaseWaitMillis({
            limit: 40,
            windowMillis: 60_000,
            reserve: RefreshBudget.defaults.reserve,
            waiting: stores
          }) + 1_000
        expect(bound).toBe(6 * 60_000 + 1_000)
        expect(waits.length).toBeGreaterThan(stores * 3)
        expect(Math.max(...waits)).toBeLessThanOrEqual(bound)
        // Nothing failed, so nothing was shown as a warning.
        expect((yield* Ref.get(warnings)).size).toBe(0)
        const recorded = yield* (yield* OrderStore.OrderStore).refreshCalls("store-0", 100)
        expect(recorded.length).toBe(perStore.get(1))
        expect(recorded.every((r) => r.outcome === "requested" && r.reason === "arrival")).toBe(true)
      }).pipe(Effect.provide(MemoryOrderStore.layer()), Logger.withMinimumLogLevel(LogLevel.None)),
    120_000
  )
})
