/**
 * An in-memory Heartland Retail API for tests, benchmarks and the server's `heartland-demo` store: Sales
 * Orders, Invoices, lines, customers, addresses and items behind the same paths, `_filter` operators, sorting,
 * paging and bearer auth as the real API (POS-APIS.md), with switchable faults (5xx, timeouts, truncated bodies,
 * 429 + Retry-After) from pos-testkit.
 *
 * `make` returns `{ app, control }`: `app` is an HttpRouter (serve it with pos-testkit's SimServer in-process or
 * over real HTTP), `control` changes the account the way a merchant would. One simulator serves any number of
 * accounts (`accounts`): each at `/{id}/api/…` (a store's `baseUrl` is the simulator's plus `/{id}`), the first
 * also at `/api/…`; `account(id)` is that account's control. Every save of an order or invoice goes to the
 * simulator's change log (`changes`, pos-testkit `ChangeLog`) and every walk through a list to its pulls monitor
 * (`pulls`, pos-testkit `Pulls`, one feed per list: `orders`, `invoices`).
 *
 * The pieces are in `internal/`: the account and every change to it (`account`), list queries (`query`), the
 * HTTP routes and their rendering (`routes`) and demo data (`demo`).
 */
import { HttpRouter } from "@effect/platform"
import { ChangeLog, Faults, Pulls } from "@posbridge/pos-testkit"
import { Clock, DateTime, Effect } from "effect"
import { type Account, type Merchant, makeAccount } from "./internal/account.js"
import { makeRoutes, type RouteName, zeroRoutes } from "./internal/routes.js"

export type {
  AddressInput,
  Json,
  LineInput,
  Merchant,
  OrderInput,
  OrderPatch,
  SimAddress,
  SimCustomer,
  SimDocument,
  SimItem,
  SimLine
} from "./internal/account.js"
export {
  addCustomerWithAddress,
  demoStep,
  runDemo,
  type Seeded,
  type SeedOptions,
  seedDemo
} from "./internal/demo.js"
export type { RouteName }

export interface Options {
  /** The API token the simulator accepts. Default `sim-token`. */
  readonly token?: string | undefined
  readonly faults?: Faults.FaultPlan | undefined
  /** Where the simulator's time comes from (e.g. a pos-testkit `SimClock`). Default: the ambient `Clock`. */
  readonly clock?: Clock.Clock | undefined
  /**
   * Whether a PUT on an order moves its `updated_at` (unconfirmed for the real API; default true, the case that
   * could cause an export loop).
   */
  readonly writeBumpsUpdatedAt?: boolean | undefined
  /** Largest `per_page` honoured. Default 500. */
  readonly maxPerPage?: number | undefined
  /** The accounts, by id, each at `/{id}/api/…`; the first also at `/api/…`. Default one, `"default"`. */
  readonly accounts?: ReadonlyArray<string> | undefined
  /** A list walk idle this long counts as abandoned (pos-testkit `Pulls`). */
  readonly pullIdleMillis?: number | undefined
}

export interface Stats {
  /** Requests that reached a handler (faulted requests are in `faults`). */
  readonly requests: number
  readonly byRoute: Readonly<Record<RouteName, number>>
  readonly unauthorized: number
  /** Faults injected so far (429s among them). */
  readonly faults: number
  readonly rateLimited: number
}

/** One account as the merchant changes it, and its part of the change log. */
export interface AccountControl extends Merchant {
  readonly accountId: string
  /** Every save of this account's orders and invoices, oldest first. */
  readonly changes: Effect.Effect<ReadonlyArray<ChangeLog.Change>>
}

/** The first account, plus what a test does to the token and faults and reads back (for every account). */
export interface Control extends AccountControl {
  readonly setFaults: (plan: Faults.FaultPlan) => Effect.Effect<void>
  /** Changes the accepted token (the old one is then rejected with 401). */
  readonly setToken: (token: string) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly resetStats: Effect.Effect<void>
}

export interface Simulator {
  readonly app: HttpRouter.HttpRouter
  readonly control: Control
  readonly accounts: ReadonlyArray<string>
  readonly account: (id: string) => AccountControl | undefined
  readonly changes: ChangeLog.ChangeLog
  readonly pulls: Pulls.Monitor
}

export const make = (options: Options = {}): Effect.Effect<Simulator> =>
  Effect.gen(function* () {
    const injector = yield* Faults.makeInjector(options.faults ?? Faults.none)
    const millis = options.clock === undefined ? Clock.currentTimeMillis : options.clock.currentTimeMillis
    const changes = ChangeLog.make()
    const pulls = Pulls.make({ idleMillis: options.pullIdleMillis })
    const ids = options.accounts !== undefined && options.accounts.length > 0 ? options.accounts : ["default"]
    const accounts = new Map<string, Account>(
      ids.map((accountId) => [
        accountId,
        makeAccount({
          accountId,
          changes,
          now: Effect.map(millis, (ms) => DateTime.unsafeMake(ms)),
          writeBumpsUpdatedAt: options.writeBumpsUpdatedAt ?? true
        })
      ])
    )
    const first = accounts.get(ids[0]!)!
    let token = options.token ?? "sim-token"
    const routes = makeRoutes({
      account: (id) => (id === undefined ? first : accounts.get(id)),
      authorized: (_, authorization) => authorization === `Bearer ${token}`,
      maxPerPage: options.maxPerPage ?? 500,
      pulls,
      now: millis
    })
    const app = routes.router.pipe(
      HttpRouter.use(Faults.middleware),
      HttpRouter.provideService(Faults.FaultInjector, injector)
    )
    // setPlan restarts the injector's history; faults counted before a plan switch are carried here.
    let faultBase = { faults: 0, rateLimited: 0 }
    const stats = Effect.map(injector.history, (history): Stats => {
      const faulted = history.filter((d) => d.fault !== undefined)
      return {
        requests: Object.values(routes.counts.byRoute).reduce((a, b) => a + b, 0),
        byRoute: { ...routes.counts.byRoute },
        unauthorized: routes.counts.unauthorized,
        faults: faultBase.faults + faulted.length,
        rateLimited: faultBase.rateLimited + faulted.filter((d) => d.fault?._tag === "RateLimited").length
      }
    })
    const controlOf = (account: Account): AccountControl => ({
      ...account.merchant,
      accountId: account.accountId,
      changes: Effect.sync(() => changes.entries({ account: account.accountId }))
    })
    const controls = new Map([...accounts].map(([id, account]) => [id, controlOf(account)]))
    const control: Control = {
      ...controls.get(first.accountId)!,
      setFaults: (plan) =>
        Effect.gen(function* () {
          const s = yield* stats
          faultBase = { faults: s.faults, rateLimited: s.rateLimited }
          yield* injector.setPlan(plan)
        }),
      setToken: (next) =>
        Effect.sync(() => {
          token = next
        }),
      stats,
      resetStats: Effect.zipRight(
        Effect.sync(() => {
          routes.counts.byRoute = zeroRoutes()
          routes.counts.unauthorized = 0
          faultBase = { faults: 0, rateLimited: 0 }
        }),
        injector.setPlan(options.faults ?? Faults.none)
      )
    }
    return { app, control, accounts: ids, account: (id) => controls.get(id), changes, pulls }
  })
