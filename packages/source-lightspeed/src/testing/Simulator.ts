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
 *
 * One simulator serves any number of accounts (`accountId`, then `accounts`), each under its own
 * `/API/V3/Account/{id}/` with its own bucket; tokens open the one account they were granted for. Every save of a
 * Sale goes to the simulator's change log (`changes`, pos-testkit `ChangeLog`), every walk through the Sale list
 * to its pulls monitor (`pulls`, pos-testkit `Pulls`, feed `sales`).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ChangeLog, Faults, Pulls } from "@posbridge/pos-testkit"
import { Clock, Effect } from "effect"
import { type Account, type Merchant, makeAccount } from "./internal/account.js"
import { makeApi } from "./internal/api.js"
import { type Bucket, makeBucket } from "./internal/bucket.js"
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
  /** The first account (the one `control` is, and the one an authorize URL without `account_id` approves). */
  readonly accountId: string
  /** More accounts, each with its own data, bucket and tokens. */
  readonly accounts?: ReadonlyArray<string> | undefined
  /** A Sale-list walk idle this long counts as abandoned (pos-testkit `Pulls`). */
  readonly pullIdleMillis?: number | undefined
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
  /** Refresh grants refused (`invalid_grant`): a dead, unknown or revoked refresh token. */
  readonly refreshRefused: number
  /** Of those, the ones presenting a refresh token that an earlier refresh had already rotated away. */
  readonly refreshReused: number
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

/** One account as the merchant changes it, its tokens, and its part of the change log. */
export interface AccountControl extends Merchant {
  /** Access tokens die early (refresh tokens still work): the adapter must refresh on the 401. */
  readonly revokeAccessTokens: Effect.Effect<void>
  /** The merchant revoked the app: every token of the account dies. */
  readonly revokeGrant: Effect.Effect<void>
  /** Issues a refresh token directly, as if the merchant had just authorized `clientId`. */
  readonly grant: (clientId?: string) => Effect.Effect<string>
  /** The refresh tokens Lightspeed would accept now: one per grant, the latest of its rotations. */
  readonly liveRefreshTokens: Effect.Effect<ReadonlyArray<string>>
  /** Every save of this account's invoices and orders, oldest first. */
  readonly changes: Effect.Effect<ReadonlyArray<ChangeLog.Change>>
}

/** The first account, plus what a test does to faults and reads back (for the whole simulator). */
export interface Control extends AccountControl {
  readonly setFaults: (plan: Faults.FaultPlan) => Effect.Effect<void>
  readonly faultHistory: Effect.Effect<ReadonlyArray<Faults.Decision>>
  readonly stats: Effect.Effect<Stats>
}

export interface Simulator {
  readonly app: HttpApp.Default
  readonly control: Control
  readonly accounts: ReadonlyArray<string>
  readonly account: (id: string) => AccountControl | undefined
  readonly changes: ChangeLog.ChangeLog
  readonly pulls: Pulls.Monitor
}

/** Faults are injected on the API only: OAuth answers normally. */
const faultPaths = ["/API/"]

export const make = (options: Options): Effect.Effect<Simulator> =>
  Effect.gen(function* () {
    const bucketSize = options.bucketSize ?? 90
    const dripRate = options.dripRate ?? 1
    const now = options.clock === undefined ? Clock.currentTimeMillis : options.clock.currentTimeMillis
    const injector = yield* Faults.makeInjector({ ...(options.faults ?? Faults.none), paths: faultPaths })
    const changes = ChangeLog.make()
    const pulls = Pulls.make({ idleMillis: options.pullIdleMillis })
    const ids = [options.accountId, ...(options.accounts ?? []).filter((id) => id !== options.accountId)]
    const accounts = new Map<string, { readonly account: Account; readonly bucket: Bucket }>(
      ids.map((accountId) => [
        accountId,
        {
          account: makeAccount({
            accountId,
            changes,
            now,
            writeBumpsUpdatetime: options.writeBumpsUpdatetime ?? true
          }),
          bucket: makeBucket({ size: bucketSize, dripRate })
        }
      ])
    )
    const oauth = makeOAuth({
      clients: options.clients ?? [defaultClient],
      defaultAccount: options.accountId,
      hasAccount: (id) => accounts.has(id),
      accessTokenTtlMillis: (options.accessTokenTtlSeconds ?? 3600) * 1000,
      prng: Faults.makePrng(options.seed ?? 1),
      now
    })
    const first = accounts.get(options.accountId)!
    const api = makeApi({
      account: (accountId) => accounts.get(accountId)?.account,
      oauth,
      bucket: (accountId) => accounts.get(accountId)?.bucket ?? first.bucket,
      pulls,
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

    const controlOf = (account: Account): AccountControl => ({
      ...account.merchant,
      revokeAccessTokens: oauth.revokeAccessTokens(account.accountId),
      revokeGrant: oauth.revokeGrant(account.accountId),
      grant: (clientId) => oauth.grant(account.accountId, clientId),
      liveRefreshTokens: Effect.map(now, (nowMs) => oauth.liveRefreshTokens(account.accountId, nowMs)),
      changes: Effect.sync(() => changes.entries({ account: account.accountId }))
    })
    const controls = new Map([...accounts].map(([id, a]) => [id, controlOf(a.account)]))
    const control: Control = {
      ...controls.get(options.accountId)!,
      setFaults: (plan) => injector.setPlan({ ...plan, paths: faultPaths }),
      faultHistory: injector.history,
      stats: Effect.map(injector.history, (history) => ({
        requests: requests.all,
        apiRequests: requests.api,
        ...api.counts,
        ...oauth.counts,
        ...first.bucket.counts,
        faultsInjected: history.filter((d) => d.fault !== undefined).length,
        bucketSize,
        dripRate
      }))
    }
    return { app, control, accounts: ids, account: (id) => controls.get(id), changes, pulls }
  })
