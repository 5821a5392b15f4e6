/**
 * A runner stopped while it refreshes (its store moved to another runner, a graceful shutdown) must still store the
 * token Lightspeed rotated to: the token it presented is dead from the moment Lightspeed answers, so losing the
 * answer would leave only a dead token in the vault and park the store on whichever runner syncs it next. Found by
 * the rolling-restart oracle (`pnpm restart:rolling`): a Lightspeed store parked right after moving runners.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import { TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Duration, Effect, Either, Fiber, Option, Redacted } from "effect"
import * as LightspeedSource from "../src/LightspeedSource.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"
import { line, person, pullAll, settings, storeSettings } from "./helpers.js"

const storeId = "shop-1"

describe("a runner stopped in the middle of a token refresh", () => {
  it.scopedLive("still stores the rotated token, so the next runner syncs the store instead of parking it", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make({ accountId: "12345", bucketSize: 1_000_000, dripRate: 10_000 })
      const http = yield* SimServer.makeClient(sim.app)
      const vault = yield* TokenVault.makeMemory
      yield* vault.set(storeId, Settings.refreshTokenVaultKey, Redacted.make(yield* sim.control.grant()))
      // The runner being stopped writes to its vault slowly: the stop lands after Lightspeed answered the refresh
      // and before the new token is stored.
      let refreshAnswered = false
      const slowVault: TokenVault.TokenVaultService = {
        ...vault,
        compareAndSet: (...args) =>
          Effect.zipRight(
            Effect.sync(() => {
              refreshAnswered = true
            }),
            Effect.zipRight(Effect.sleep(Duration.millis(300)), vault.compareAndSet(...args))
          )
      }
      const runner = (v: TokenVault.TokenVaultService) =>
        LightspeedSource.makeWithInternals(storeSettings("invoices"), settings(), { baseBackoff: "50 millis" }).pipe(
          Effect.provideService(HttpClient.HttpClient, http),
          Effect.provideService(TokenVault.TokenVault, v)
        )
      yield* sim.control.addSale({ customer: person("Ada", "1"), lines: [line("A", 1)] })
      const stopping = yield* runner(slowVault)
      const fiber = yield* Effect.fork(pullAll(stopping.service))
      while (!refreshAnswered) yield* Effect.sleep(Duration.millis(5))
      yield* Fiber.interrupt(fiber)

      const next = yield* runner(vault)
      const pulled = yield* Effect.either(pullAll(next.service))
      expect(Either.isRight(pulled) ? "synced" : `failed: ${pulled.left.message}`).toBe("synced")
      const live = yield* sim.control.liveRefreshTokens
      const stored = Option.map(yield* vault.get(storeId, Settings.refreshTokenVaultKey), Redacted.value)
      expect(Option.isSome(stored) && live.includes(stored.value)).toBe(true)
    })
  )
})
