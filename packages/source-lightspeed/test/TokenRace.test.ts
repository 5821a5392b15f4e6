/**
 * Two runners of one Lightspeed store (two adapter instances, each with its own access-token cache, sharing one
 * vault on a real database: two connections to one SQLite file, two pools on one PostgreSQL database) sync it
 * while the simulator expires every access token before each round, so both refresh at once and the refresh
 * token rotates under them. Neither may ever be parked (an `auth` failure), every pull must succeed, and the
 * vault must hold the one refresh token Lightspeed still accepts.
 *
 * `POSBRIDGE_TOKEN_RACES` sets the rounds (10 here; `pnpm race:tokens` runs 100 on each engine).
 */
import * as path from "node:path"
import * as HttpClient from "@effect/platform/HttpClient"
import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { PosSource, TokenVault } from "@posbridge/core"
import { Faults, SimServer } from "@posbridge/pos-testkit"
import { PgStore, SqliteStore, SqlTokenVault } from "@posbridge/store-sql"
import {
  Context,
  Duration,
  Effect,
  Either,
  Encoding,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  type Scope
} from "effect"
import { pgDatabase, tempDir, withPostgres } from "../../store-sql/test/support/Databases.js"
import * as LightspeedSource from "../src/LightspeedSource.js"
import * as Settings from "../src/Settings.js"
import { Simulator } from "../src/testing/index.js"
import { line, person, pullAll, settings, storeSettings } from "./helpers.js"

const races = Number(process.env.POSBRIDGE_TOKEN_RACES ?? "10")
const storeId = "shop-1"
const key = SqlTokenVault.layer({ key: Redacted.make(Encoding.encodeBase64(new Uint8Array(32).fill(5))) })

const vaultOn = (client: Layer.Layer<SqlClient.SqlClient, unknown>) =>
  Effect.map(Layer.build(key.pipe(Layer.provide(client))), (ctx) => Context.get(ctx, TokenVault.TokenVault))

type Vaults = Effect.Effect<readonly [TokenVault.TokenVaultService, TokenVault.TokenVaultService], unknown, Scope.Scope>

const race = (engine: string, vaults: Vaults) =>
  Effect.gen(function* () {
    const [vaultA, vaultB] = yield* vaults
    // A bucket that never throttles: the rounds measure token races, not the leaky bucket.
    const sim = yield* Simulator.make({ accountId: "12345", bucketSize: 1_000_000, dripRate: 10_000 })
    const http = yield* SimServer.makeClient(sim.app)
    // The store was connected: the OAuth callback stored its first refresh token.
    yield* vaultA.set(storeId, Settings.refreshTokenVaultKey, Redacted.make(yield* sim.control.grant()))
    const runner = (vault: TokenVault.TokenVaultService) =>
      LightspeedSource.makeWithInternals(storeSettings("invoices"), settings(), { baseBackoff: "50 millis" }).pipe(
        Effect.provideService(HttpClient.HttpClient, http),
        Effect.provideService(TokenVault.TokenVault, vault)
      )
    const runners = [yield* runner(vaultA), yield* runner(vaultB)] as const
    const prng = Faults.makePrng(races)
    const failures: Array<string> = []
    let parked = 0
    for (let round = 1; round <= races; round++) {
      yield* sim.control.revokeAccessTokens
      yield* sim.control.addSale({ customer: person("Ada", `${round}`), lines: [line("A", round)] })
      // Each runner starts within a few milliseconds of the other: the interleavings vary from round to round.
      const pulls = runners.map((r) =>
        Effect.either(Effect.zipRight(Effect.sleep(Duration.millis(prng.nextInt(6))), pullAll(r.service)))
      )
      for (const result of yield* Effect.all(pulls, { concurrency: "unbounded" })) {
        if (Either.isRight(result)) {
          expect(result.right.flatMap((b) => b.documents)).toHaveLength(round)
          continue
        }
        const e = result.left
        failures.push(`round ${round}: ${e instanceof PosSource.PosSourceError ? `${e.kind}: ${e.message}` : e}`)
        if (e instanceof PosSource.PosSourceError && e.kind === "auth") parked++
      }
      // After every round the vault holds the one refresh token Lightspeed still accepts.
      const live = yield* sim.control.liveRefreshTokens
      const stored = Option.map(yield* vaultB.get(storeId, Settings.refreshTokenVaultKey), Redacted.value)
      expect({ round, live: live.length, vaultHoldsIt: Option.getOrUndefined(stored) === live[0] }).toEqual({
        round,
        live: 1,
        vaultHoldsIt: true
      })
    }
    const stats = yield* sim.control.stats
    console.log(
      `token races on ${engine}: ${races} rounds, ${parked} parked, ${failures.length} failed pulls; ` +
        `${stats.tokenRefreshes} refreshes, ${stats.refreshRefused} refused (${stats.refreshReused} for a token ` +
        "already rotated by the other runner)"
    )
    expect(failures).toEqual([])
    expect(parked).toBe(0)
    // The races did happen: runners presented tokens the other had already rotated, and recovered.
    const lost = (yield* runners[0].tokens.racesLost) + (yield* runners[1].tokens.racesLost)
    expect(stats.refreshReused).toBeGreaterThan(0)
    expect(lost).toBeGreaterThanOrEqual(stats.refreshReused)
  }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))

const timeout = 60_000 + races * 3_000

describe("two runners racing a Lightspeed token refresh", () => {
  it.scopedLive(
    `on SQLite (two connections on one file): ${races} races, never parked`,
    () =>
      race(
        "SQLite",
        Effect.gen(function* () {
          const filename = path.join(yield* tempDir, "vault.db")
          const a = yield* vaultOn(SqliteStore.layerClient({ filename, synchronous: "normal" }))
          const b = yield* vaultOn(SqliteStore.layerClient({ filename, synchronous: "normal" }))
          return [a, b] as const
        })
      ),
    timeout
  )
})

await withPostgres(() =>
  describe("two runners racing a Lightspeed token refresh", () => {
    it.scopedLive(
      `on PostgreSQL (two pools on one database): ${races} races, never parked`,
      () =>
        race(
          "PostgreSQL",
          Effect.gen(function* () {
            const { url } = yield* pgDatabase
            const a = yield* vaultOn(PgStore.layerClient({ url }))
            const b = yield* vaultOn(PgStore.layerClient({ url }))
            return [a, b] as const
          })
        ),
      timeout
    )
  })
)

describe("a runner whose rotated refresh token can no longer be stored", () => {
  it.live("re-reads the vault when the merchant re-authorized during its refresh, and rotates the new grant", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make({ accountId: "12345" })
      const inner = yield* SimServer.makeClient(sim.app)
      const vault = yield* TokenVault.makeMemory
      const first = yield* sim.control.grant()
      yield* vault.set(storeId, Settings.refreshTokenVaultKey, Redacted.make(first))
      const regrant = yield* sim.control.grant()
      /** Each refresh token presented → the one issued in its place. */
      const issued = new Map<string, string>()
      let reauthorized = false
      const http = HttpClient.transform(inner, (effect, request) =>
        Effect.gen(function* () {
          const response = yield* effect
          if (request.url.endsWith("/auth/oauth/token")) {
            const form = new URLSearchParams(
              request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
            )
            const body = (yield* response.json) as { refresh_token?: string }
            if (body.refresh_token !== undefined) issued.set(form.get("refresh_token") ?? "", body.refresh_token)
            // The OAuth callback (another replica) stores the merchant's new grant while this answer travels.
            if (!reauthorized) {
              reauthorized = true
              yield* vault.set(storeId, Settings.refreshTokenVaultKey, Redacted.make(regrant))
            }
          }
          return response
        })
      )
      const { service, tokens } = yield* LightspeedSource.makeWithInternals(storeSettings("invoices"), settings()).pipe(
        Effect.provideService(HttpClient.HttpClient, http),
        Effect.provideService(TokenVault.TokenVault, vault)
      )
      yield* pullAll(service)
      // The merchant's new authorization is kept (rotated once), not overwritten by the rotation of the old one.
      const stored = Option.map(yield* vault.get(storeId, Settings.refreshTokenVaultKey), Redacted.value)
      expect(Option.getOrUndefined(stored)).toBe(issued.get(regrant))
      expect(issued.has(first)).toBe(true)
      expect(yield* tokens.racesLost).toBe(1)
      expect((yield* sim.control.stats).tokenRefreshes).toBe(2)
    })
  )
})

describe("a runner that keeps losing the refresh race", () => {
  it.live("gives up for now with a transient error after five attempts, never parking the store", () =>
    Effect.gen(function* () {
      const sim = yield* Simulator.make({ accountId: "12345" })
      const http = yield* SimServer.makeClient(sim.app)
      const memory = yield* TokenVault.makeMemory
      yield* memory.set(storeId, Settings.refreshTokenVaultKey, Redacted.make(yield* sim.control.grant()))
      // Before each of this runner's writes lands, another runner (a re-authorization) has stored a newer token.
      const vault: TokenVault.TokenVaultService = {
        ...memory,
        compareAndSet: (s, n, expected, next) =>
          Effect.flatMap(sim.control.grant(), (fresh) =>
            Effect.zipRight(memory.set(s, n, Redacted.make(fresh)), memory.compareAndSet(s, n, expected, next))
          )
      }
      const { service, tokens } = yield* LightspeedSource.makeWithInternals(storeSettings("invoices"), settings()).pipe(
        Effect.provideService(HttpClient.HttpClient, http),
        Effect.provideService(TokenVault.TokenVault, vault)
      )
      const error = yield* Effect.flip(pullAll(service))
      expect(error).toBeInstanceOf(PosSource.PosSourceError)
      expect({ kind: error.kind, message: error.message }).toEqual({
        kind: "transient",
        message: `The Lightspeed refresh token of store ${storeId} kept changing under this runner (5 attempts); retrying later`
      })
      expect(yield* tokens.racesLost).toBe(4)
      expect((yield* sim.control.stats).tokenRefreshes).toBe(5)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
  )
})
