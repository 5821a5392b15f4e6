/**
 * An in-memory Lightspeed Retail (R-Series) account behind an `@effect/platform` HttpApp, faithful to the facts
 * in POS-APIS.md: OAuth authorize/token endpoints with expiring access tokens and rotating refresh tokens; Sale and
 * Quote endpoints with `param=operator,value` filters, `sort`, `limit`, `load_relations` and cursor paging through
 * `@attributes.next`; the shape quirks (object-or-array, `""` for empty containers, string scalars); the leaky
 * bucket with its headers and 429s; and switchable faults (pos-testkit `Faults`, on `/API/` paths).
 *
 * The pieces are in `internal/`: the account and every change to it (`account`), Lightspeed's JSON rendering
 * (`render`), OAuth (`oauth`), the leaky bucket (`bucket`), the API routes (`api`) and demo data (`demo`).
 *
 * Time comes from the ambient `Clock` unless `clock` is given: run the simulator and the adapter under one
 * pos-testkit `SimClock` to play hours of bucket time in seconds.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Faults } from "@posbridge/pos-testkit"
import { Clock, Effect } from "effect"
import { type Merchant, makeAccount } from "./internal/account.js"
import { makeApi } from "./internal/api.js"
import { makeBucket } from "./internal/bucket.js"
import { type Client, defaultClient, makeOAuth } from "./internal/oauth.js"
import { apiError } from "./internal/render.js"

export type {
  AddressInput,
  LineInput,
  Merchant,
  PersonInput,
  SaleInput,
  SaleView
} from "./internal/account.js"
export { type DemoOptions, runDemoActivity, seedDemo } from "./internal/demo.js"
export { type Client, defaultClient }

export interface Options {
  readonly accountId: string
  /** Registered OAuth apps. Default: `{ clientId: "sim-client", clientSecret: "sim-secret" }`. */
  readonly clients?: ReadonlyArray<Client> | undefined
  /** Bucket size in drips. Default 90 (one register). */
  readonly bucketSize?: number | undefined
  /** Drips leaked per second. Default 1. */
  readonly dripRate?: number | undefined
  /** Access-token lifetime. Default 3600 s. */
  readonly accessTokenTtlSeconds?: number | undefined
  /** Origin used in `@attributes.next` links. Default `https://api.lightspeedapp.com`. */
  readonly apiBaseUrl?: string | undefined
  /** Unconfirmed in the real API; the simulator assumes the pessimistic case: a write bumps `updatetime`. */
  readonly writeBumpsUpdatetime?: boolean | undefined
  readonly faults?: Faults.FaultPlan | undefined
  /** Seed for tokens, codes and demo data. Default 1. */
  readonly seed?: number | undefined
  /** Where the simulator's time comes from (e.g. a pos-testkit `SimClock`). Default: the ambient `Clock`. */
  readonly clock?: Clock.Clock | undefined
}

export interface Stats {
  /** Every request the app answered. */
  readonly requests: number
  /** Requests to `/API/`. */
  readonly apiRequests: number
  /** 429s from the leaky bucket (not injected faults). */
  readonly rateLimited: number
  readonly unauthorized: number
  readonly tokenGrants: number
  readonly tokenRefreshes: number
  readonly faultsInjected: number
  /** Drips charged to the bucket. */
  readonly costCharged: number
  /** Bucket level before the first API request, and simulated times of the first and last charged requests. */
  readonly firstChargedAt: number | undefined
  readonly lastChargedAt: number | undefined
  readonly bucketSize: number
  readonly dripRate: number
  readonly puts: number
}

/** The account as the merchant changes it, plus what a test does to tokens and faults and reads back. */
export interface Control extends Merchant {
  /** Access tokens die early (refresh tokens still work): the adapter must refresh on the 401. */
  readonly revokeAccessTokens: Effect.Effect<void>
  /** The merchant revoked the app: every token dies. */
  readonly revokeGrant: Effect.Effect<void>
  /** Issues a refresh token directly, as if the merchant had just authorized `clientId`. */
  readonly grant: (clientId?: string) => Effect.Effect<string>
  readonly setFaults: (plan: Faults.FaultPlan) => Effect.Effect<void>
  readonly faultHistory: Effect.Effect<ReadonlyArray<Faults.Decision>>
  readonly stats: Effect.Effect<Stats>
}

export interface Simulator {
  readonly app: HttpApp.Default
  readonly control: Control
}

/** Faults are injected on the API only: OAuth answers normally. */
const faultPaths = ["/API/"]

export const make = (options: Options): Effect.Effect<Simulator> =>
  Effect.gen(function* () {
    const bucketSize = options.bucketSize ?? 90
    const dripRate = options.dripRate ?? 1
    const now = options.clock === undefined ? Clock.currentTimeMillis : options.clock.currentTimeMillis
    const injector = yield* Faults.makeInjector({ ...(options.faults ?? Faults.none), paths: faultPaths })
    const account = makeAccount({
      accountId: options.accountId,
      now,
      writeBumpsUpdatetime: options.writeBumpsUpdatetime ?? true
    })
    const oauth = makeOAuth({
      clients: options.clients ?? [defaultClient],
      accessTokenTtlMillis: (options.accessTokenTtlSeconds ?? 3600) * 1000,
      prng: Faults.makePrng(options.seed ?? 1),
      now
    })
    const bucket = makeBucket({ size: bucketSize, dripRate })
    const api = makeApi({
      account: (accountId) => (accountId === account.accountId ? account : undefined),
      oauth,
      bucket,
      apiBaseUrl: options.apiBaseUrl ?? "https://api.lightspeedapp.com",
      now
    })
    const requests = { all: 0, api: 0 }

    const app: HttpApp.Default = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://simulator.invalid")
      requests.all++
      if (url.pathname === "/auth/oauth/authorize" && request.method === "GET") return yield* oauth.authorize(url)
      if (url.pathname === "/auth/oauth/token" && request.method === "POST") return yield* oauth.token(request)
      if (url.pathname.startsWith("/API/")) {
        requests.api++
        const fault = yield* injector.next({ method: request.method, path: url.pathname })
        return yield* Faults.applyToServer(fault, api.route(request, url))
      }
      return apiError(404, "Not Found")
    })

    const control: Control = {
      ...account.merchant,
      revokeAccessTokens: oauth.revokeAccessTokens,
      revokeGrant: oauth.revokeGrant,
      grant: oauth.grant,
      setFaults: (plan) => injector.setPlan({ ...plan, paths: faultPaths }),
      faultHistory: injector.history,
      stats: Effect.map(injector.history, (history) => ({
        requests: requests.all,
        apiRequests: requests.api,
        ...api.counts,
        ...oauth.counts,
        ...bucket.counts,
        faultsInjected: history.filter((d) => d.fault !== undefined).length,
        bucketSize,
        dripRate
      }))
    }
    return { app, control }
  })
