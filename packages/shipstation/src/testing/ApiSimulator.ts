/**
 * A simulated ShipStation V1 REST API for tests: `GET /stores`, `POST /stores/refreshstore` and
 * `GET /stores/getrefreshstatus`, HTTP Basic per configured API key (wrong credentials → 401), a rate limit per
 * key in fixed windows with `X-Rate-Limit-*` headers on every authenticated answer (429 with `Retry-After` when
 * exceeded, counted), and a mode that answers every call 401, 429 or 503.
 *
 * When a store is asked to refresh, the simulator does what ShipStation does next: it polls that Custom Store's
 * integration URL (posbridge's `/shipstation/{storeId}`) with the store's username and password, page 1 then each
 * later page once (pos-testkit's `ShipStationClient.poll`), over the window from the end of its last successful
 * poll (minus an overlap) to now, after a configurable delay. Each poll is recorded, and `getrefreshstatus`
 * reports the store as updating while one is pending. A `refreshstore` without `storeId` refreshes every store of
 * the account, as ShipStation does, and is counted so tests can assert it never happens.
 *
 * Time comes from `Clock` (the request fiber's, so a test's `TestClock` drives windows, delays and records). The
 * app is runtime-agnostic: `layerServer` serves it on whatever `HttpServer` the test provides (Node's on a random
 * port, `NodeHttpServer.layer(createServer, { port: 0 })`).
 *
 * ShipStation's real delay between a refresh call and its poll, its `refreshStatusId` values and its date format
 * in `getrefreshstatus` are not confirmed; the simulator's are its own.
 *
 * @since 0.0.0
 */
import type { HttpApp } from "@effect/platform"
import { Headers, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { ShipStationClient } from "@posbridge/pos-testkit"
import {
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  FiberSet,
  Layer,
  Option,
  Ref,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"

export interface SimStore {
  readonly storeId: number
  readonly storeName: string
  /** Default "Custom Store" (ShipStation's exact value for a Custom Store is unconfirmed). */
  readonly marketplaceName?: string | undefined
  /** A Custom Store's URL (posbridge's `…/shipstation/{storeId}`); absent for a marketplace store. */
  readonly integrationUrl?: string | null | undefined
  /** The Custom Store's credentials ShipStation polls with. */
  readonly username?: string | undefined
  readonly password?: string | undefined
  /** Default true. */
  readonly active?: boolean | undefined
}

export interface Account {
  readonly apiKey: string
  readonly apiSecret: string
  readonly stores: ReadonlyArray<SimStore>
}

export interface Options {
  readonly accounts: ReadonlyArray<Account>
  /** Calls per key per window. Default 40, ShipStation's documented figure. */
  readonly limit?: number | undefined
  /** Default one minute. */
  readonly window?: Duration.DurationInput | undefined
  /** Between a refresh call and the poll it starts. Default 0. */
  readonly pollDelay?: Duration.DurationInput | undefined
  /** How far before the last poll's end the next poll's window starts. Default 1 minute. */
  readonly overlap?: Duration.DurationInput | undefined
  /** A store's first window starts this long before now. Default 1 day. */
  readonly firstLookback?: Duration.DurationInput | undefined
}

/** Answer every call with this status instead of serving it ("normal": serve). */
export type Mode = "normal" | 401 | 429 | 503

export type Endpoint = "listStores" | "refreshStore" | "refreshStatus" | "unknown"

export interface RecordedCall {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly endpoint: Endpoint
  /** The key that authenticated, if any. */
  readonly apiKey: string | undefined
  /** The store id the call named (query or JSON body), if any. */
  readonly storeId: number | undefined
  /** A `refreshstore` that named no store: ShipStation refreshes every store of the account. */
  readonly allStores: boolean
  readonly status: number
}

export interface Poll {
  readonly storeId: number
  /** When the refresh that led to this poll was received. */
  readonly requestedAt: number
  readonly startedAt: number
  readonly finishedAt: number
  readonly window: { readonly start: number; readonly end: number }
  /** HTTP status of the last page read (0: no answer, or no integration URL to poll). */
  readonly status: number
  readonly pages: number
  /** OrderIDs served, in page order. */
  readonly orders: ReadonlyArray<string>
  readonly error: string | undefined
}

export interface Service {
  /** The API as an `HttpApp`. */
  readonly app: HttpApp.Default
  readonly calls: Effect.Effect<ReadonlyArray<RecordedCall>>
  readonly polls: Effect.Effect<ReadonlyArray<Poll>>
  /** Waits until at least `count` polls are recorded; returns them all. */
  readonly awaitPolls: (count: number) => Effect.Effect<ReadonlyArray<Poll>>
  /** 429s sent (real and forced). */
  readonly tooManyRequests: Effect.Effect<number>
  /** `refreshstore` calls that named no store. */
  readonly allStoreRefreshes: Effect.Effect<number>
  readonly setMode: (mode: Mode) => Effect.Effect<void>
}

export class ApiSimulator extends Context.Tag("@posbridge/shipstation/testing/ApiSimulator")<ApiSimulator, Service>() {
  static readonly layer = (options: Options): Layer.Layer<ApiSimulator> => Layer.scoped(ApiSimulator, make(options))

  /** The simulator, served on the `HttpServer` the caller provides. */
  static readonly layerServer = (options: Options): Layer.Layer<ApiSimulator, never, HttpServer.HttpServer> =>
    Layer.scopedDiscard(Effect.flatMap(ApiSimulator, (sim) => HttpServer.serveEffect(sim.app))).pipe(
      Layer.provideMerge(ApiSimulator.layer(options))
    )
}

/** `http://127.0.0.1:port` of the `HttpServer` in context (a TCP server listening on all interfaces). */
export const baseUrl: Effect.Effect<string, never, HttpServer.HttpServer> = HttpServer.addressWith((address) =>
  Effect.succeed(address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "")
)

interface StoreState {
  readonly lastEnd: Option.Option<number>
  readonly lastRefreshAttempt: Option.Option<number>
  readonly refreshDate: Option.Option<number>
  /** A poll is pending or running. */
  readonly busy: boolean
  /** Another refresh arrived while busy: poll once more afterwards. */
  readonly again: boolean
}

interface KeyWindow {
  readonly start: number
  readonly count: number
}

const decodeBasic = (authorization: string | undefined): { key: string; secret: string } | undefined => {
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(authorization ?? "")
  if (m === null) return undefined
  try {
    const binary = atob(m[1]!)
    const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
    const colon = text.indexOf(":")
    return colon < 0 ? undefined : { key: text.slice(0, colon), secret: text.slice(colon + 1) }
  } catch {
    return undefined
  }
}

/** `…/shipstation/{id}` → the server's base URL and posbridge's store id. */
const exportTarget = (integrationUrl: string): { base: string; storeId: string } | undefined => {
  try {
    const url = new URL(integrationUrl)
    const m = /^(.*)\/shipstation\/([^/]+)\/?$/.exec(url.pathname)
    return m === null ? undefined : { base: `${url.origin}${m[1]}`, storeId: m[2]! }
  } catch {
    return undefined
  }
}

const endpointOf = (method: string, path: string): Endpoint => {
  const p = path.replace(/\/+$/, "").toLowerCase()
  if (method === "GET" && p === "/stores") return "listStores"
  if (method === "POST" && p === "/stores/refreshstore") return "refreshStore"
  if (method === "GET" && p === "/stores/getrefreshstatus") return "refreshStatus"
  return "unknown"
}

const iso = (millis: Option.Option<number>) =>
  Option.match(millis, { onNone: () => null, onSome: (m) => new Date(m).toISOString() })

export const make = (options: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const limit = options.limit ?? 40
    const windowMillis = Duration.toMillis(options.window ?? Duration.minutes(1))
    const pollDelay = Duration.decode(options.pollDelay ?? Duration.zero)
    const overlapMillis = Duration.toMillis(options.overlap ?? Duration.minutes(1))
    const lookbackMillis = Duration.toMillis(options.firstLookback ?? Duration.days(1))

    const mode = yield* Ref.make<Mode>("normal")
    const calls = yield* Ref.make<ReadonlyArray<RecordedCall>>([])
    const polls = yield* SubscriptionRef.make<ReadonlyArray<Poll>>([])
    const tooMany = yield* Ref.make(0)
    const allStores = yield* Ref.make(0)
    const windows = yield* Ref.make(new Map<string, KeyWindow>())
    const states = yield* Ref.make(
      new Map<number, StoreState>(
        options.accounts.flatMap((a) =>
          a.stores.map((s) => [
            s.storeId,
            {
              lastEnd: Option.none(),
              lastRefreshAttempt: Option.none(),
              refreshDate: Option.none(),
              busy: false,
              again: false
            }
          ])
        )
      )
    )
    const fibers = yield* FiberSet.make()

    const updateState = (storeId: number, f: (s: StoreState) => StoreState) =>
      Ref.update(states, (m) => {
        const current = m.get(storeId)
        return current === undefined ? m : new Map(m).set(storeId, f(current))
      })

    /** One poll of the store's export, as ShipStation would make it. */
    const pollOnce = (store: SimStore, requestedAt: number) =>
      Effect.gen(function* () {
        const startedAt = yield* Clock.currentTimeMillis
        const state = (yield* Ref.get(states)).get(store.storeId)!
        const window = {
          start: Option.match(state.lastEnd, {
            onNone: () => startedAt - lookbackMillis,
            onSome: (end) => end - overlapMillis
          }),
          end: startedAt
        }
        const target = store.integrationUrl ? exportTarget(store.integrationUrl) : undefined
        const result: Either.Either<ShipStationClient.PollResult, string> =
          target === undefined || store.username === undefined
            ? Either.left("the store has no integration URL of the form …/shipstation/{id} and credentials to poll")
            : yield* ShipStationClient.poll(
                target.base,
                target.storeId,
                { username: store.username, password: store.password ?? "" },
                window
              ).pipe(
                Effect.catchAllDefect((defect) =>
                  Effect.fail(`no answer: ${defect instanceof Error ? defect.message : String(defect)}`)
                ),
                Effect.either
              )
        const finishedAt = yield* Clock.currentTimeMillis
        const common = { storeId: store.storeId, requestedAt, startedAt, finishedAt, window }
        const poll: Poll = Either.match(result, {
          onLeft: (error) => ({ ...common, status: 0, pages: 0, orders: [], error }),
          onRight: (r) => ({
            ...common,
            status: r.status,
            pages: r.pages,
            orders: r.orders.map((o) => o.posRef),
            error: r.status === 200 ? undefined : r.body.slice(0, 200)
          })
        })
        if (poll.status === 200) {
          yield* updateState(store.storeId, (s) => ({ ...s, lastEnd: Option.some(window.end) }))
        }
        yield* updateState(store.storeId, (s) => ({ ...s, refreshDate: Option.some(finishedAt) }))
        yield* SubscriptionRef.update(polls, (all) => [...all, poll])
      })

    /** Polls after the delay; once more when another refresh arrived meanwhile. */
    const pollLoop = (store: SimStore, requestedAt: number): Effect.Effect<void> =>
      Effect.gen(function* () {
        if (Duration.toMillis(pollDelay) > 0) yield* Effect.sleep(pollDelay)
        yield* pollOnce(store, requestedAt)
        const again = yield* Ref.modify(states, (m) => {
          const s = m.get(store.storeId)!
          return [s.again, new Map(m).set(store.storeId, { ...s, again: false, busy: s.again })]
        })
        if (again) yield* pollLoop(store, yield* Clock.currentTimeMillis)
      })

    const refresh = (store: SimStore, now: number) =>
      Effect.gen(function* () {
        const start = yield* Ref.modify(states, (m) => {
          const s = m.get(store.storeId)!
          const next = { ...s, lastRefreshAttempt: Option.some(now), busy: true, again: s.busy }
          return [!s.busy, new Map(m).set(store.storeId, next)]
        })
        if (start) yield* FiberSet.run(fibers, pollLoop(store, now))
      })

    const json = (status: number, body: unknown) => ({ status, body })

    const serve = (
      endpoint: Endpoint,
      account: Account,
      request: HttpServerRequest.HttpServerRequest,
      url: URL,
      now: number
    ): Effect.Effect<{ status: number; body: unknown; storeId: number | undefined; allStores: boolean }> =>
      Effect.gen(function* () {
        const find = (id: number) => account.stores.find((s) => s.storeId === id)
        switch (endpoint) {
          case "listStores": {
            const showInactive = url.searchParams.get("showInactive")?.toLowerCase() === "true"
            const current = yield* Ref.get(states)
            const list = account.stores
              .filter((s) => showInactive || s.active !== false)
              .map((s) => ({
                storeId: s.storeId,
                storeName: s.storeName,
                marketplaceId: 0,
                marketplaceName: s.marketplaceName ?? "Custom Store",
                accountName: null,
                email: null,
                integrationUrl: s.integrationUrl ?? null,
                active: s.active !== false,
                companyName: "",
                refreshDate: iso(current.get(s.storeId)?.refreshDate ?? Option.none()),
                lastRefreshAttempt: iso(current.get(s.storeId)?.lastRefreshAttempt ?? Option.none()),
                autoRefresh: true
              }))
            return { ...json(200, list), storeId: undefined, allStores: false }
          }
          case "refreshStore": {
            const text = yield* Effect.orElseSucceed(request.text, () => "")
            let body: unknown
            try {
              body = text === "" ? {} : JSON.parse(text)
            } catch {
              return {
                ...json(400, { message: "The request body is not JSON." }),
                storeId: undefined,
                allStores: false
              }
            }
            const raw =
              typeof body === "object" && body !== null ? (body as Record<string, unknown>).storeId : undefined
            if (raw === undefined || raw === null) {
              // What ShipStation does without a storeId, and what posbridge must never cause.
              yield* Ref.update(allStores, (n) => n + 1)
              for (const store of account.stores) if (store.active !== false) yield* refresh(store, now)
              return {
                ...json(200, { success: true, message: "Store refresh initiated" }),
                storeId: undefined,
                allStores: true
              }
            }
            const store = typeof raw === "number" ? find(raw) : undefined
            if (store === undefined) {
              return {
                ...json(400, { message: `Store ${String(raw)} was not found.` }),
                storeId: typeof raw === "number" ? raw : undefined,
                allStores: false
              }
            }
            yield* refresh(store, now)
            return {
              ...json(200, { success: true, message: "Store refresh initiated" }),
              storeId: store.storeId,
              allStores: false
            }
          }
          case "refreshStatus": {
            const id = Number(url.searchParams.get("storeId"))
            const store = Number.isSafeInteger(id) ? find(id) : undefined
            if (store === undefined) {
              return {
                ...json(400, { message: `Store ${url.searchParams.get("storeId") ?? "(none)"} was not found.` }),
                storeId: Number.isSafeInteger(id) ? id : undefined,
                allStores: false
              }
            }
            const s = (yield* Ref.get(states)).get(store.storeId)!
            return {
              ...json(200, {
                storeId: store.storeId,
                refreshStatusId: s.busy ? 2 : 4,
                refreshStatus: s.busy ? "Updating orders" : "Idle",
                lastRefreshAttempt: iso(s.lastRefreshAttempt),
                refreshDate: iso(s.refreshDate)
              }),
              storeId: store.storeId,
              allStores: false
            }
          }
          default:
            return { ...json(404, { message: "Not found." }), storeId: undefined, allStores: false }
        }
      })

    const rateHeaders = (w: KeyWindow, now: number, remaining: number) => ({
      "x-rate-limit-limit": String(limit),
      "x-rate-limit-remaining": String(Math.max(remaining, 0)),
      "x-rate-limit-reset": String(Math.max(Math.ceil((w.start + windowMillis - now) / 1000), 0))
    })

    const app: HttpApp.Default = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const now = yield* Clock.currentTimeMillis
      const url = new URL(request.url, "http://ssapi.invalid")
      const endpoint = endpointOf(request.method, url.pathname)
      const credentials = decodeBasic(request.headers.authorization)
      const account = options.accounts.find(
        (a) => credentials !== undefined && a.apiKey === credentials.key && a.apiSecret === credentials.secret
      )
      const forced = yield* Ref.get(mode)
      const record = (status: number, storeId: number | undefined, all: boolean) =>
        Ref.update(calls, (all_) => [
          ...all_,
          {
            at: now,
            method: request.method,
            path: url.pathname,
            endpoint,
            apiKey: account?.apiKey,
            storeId,
            allStores: all,
            status
          }
        ])
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        HttpServerResponse.unsafeJson(body, { status, headers: Headers.fromInput(headers) })

      if (account === undefined || forced === 401) {
        yield* record(401, undefined, false)
        return answer(401, { message: "Unauthorized" }, { "www-authenticate": 'Basic realm="ShipStation"' })
      }
      // The key's fixed window: it starts with the first call after the previous one ended.
      // The key's fixed window starts with the first call after the previous one ended; a 429 does not count.
      const [counted, allowed] = yield* Ref.modify(
        windows,
        (m): [readonly [KeyWindow, boolean], Map<string, KeyWindow>] => {
          const current = m.get(account.apiKey)
          const w = current === undefined || now >= current.start + windowMillis ? { start: now, count: 0 } : current
          if (forced === 429 || w.count >= limit) return [[w, false], new Map(m).set(account.apiKey, w)]
          const next = { ...w, count: w.count + 1 }
          return [[next, true], new Map(m).set(account.apiKey, next)]
        }
      )
      if (!allowed) {
        yield* Ref.update(tooMany, (n) => n + 1)
        yield* record(429, undefined, false)
        const headers = rateHeaders(counted, now, 0)
        return answer(
          429,
          { message: "Too Many Requests" },
          { ...headers, "retry-after": headers["x-rate-limit-reset"] }
        )
      }
      const headers = rateHeaders(counted, now, limit - counted.count)
      if (forced === 503) {
        yield* record(503, undefined, false)
        return answer(503, { message: "Service Unavailable" }, headers)
      }
      const served = yield* serve(endpoint, account, request, url, now)
      yield* record(served.status, served.storeId, served.allStores)
      return answer(served.status, served.body, headers)
    })

    return {
      app,
      calls: Ref.get(calls),
      polls: SubscriptionRef.get(polls),
      awaitPolls: (count) =>
        polls.changes.pipe(
          Stream.filter((all) => all.length >= count),
          Stream.runHead,
          Effect.map(Option.getOrElse(() => []))
        ),
      tooManyRequests: Ref.get(tooMany),
      allStoreRefreshes: Ref.get(allStores),
      setMode: (m) => Ref.set(mode, m)
    } satisfies Service
  })
