/**
 * A client of ShipStation's V1 REST API ("legacy", still maintained), for the three calls posbridge needs to
 * make ShipStation poll a store now rather than on its own schedule: list the account's stores (to find our
 * Custom Store's id by its integration URL), ask one store to refresh, and read a store's refresh status.
 *
 * HTTP Basic with the account's API key and secret; every answer carries ShipStation's rate-limit headers
 * (`X-Rate-Limit-Limit`, `-Remaining`, `-Reset`), which feed `RefreshBudget`. Errors are one readable sentence
 * each and never contain the key or the secret.
 *
 * `refreshStore` always names one store: ShipStation refreshes EVERY store of the account when `storeId` is
 * missing, so the parameter is required by the type and checked again at run time, before any request.
 *
 * @since 0.0.0
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Context, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import * as IntegrationUrl from "./internal/integrationUrl.js"

/** ShipStation's production API. */
export const defaultBaseUrl = "https://ssapi.shipstation.com"

/** An account's API key pair (ShipStation → Settings → Account → API Settings). */
export interface Credentials {
  readonly apiKey: Redacted.Redacted<string>
  readonly apiSecret: Redacted.Redacted<string>
}

/** What the rate-limit headers of one answer said. */
export class RateLimit extends Schema.Class<RateLimit>("RateLimit")({
  /** `X-Rate-Limit-Limit`: calls allowed per window for this key. */
  limit: Schema.Number,
  /** `X-Rate-Limit-Remaining`: calls left in the current window. */
  remaining: Schema.Number,
  /** `X-Rate-Limit-Reset`: seconds until the window resets. */
  resetSeconds: Schema.Number
}) {}

/** An answer's value and its rate-limit headers (none when ShipStation sent no complete, numeric set). */
export interface Answer<A> {
  readonly value: A
  readonly rateLimit: Option.Option<RateLimit>
}

/** One store of the account, as `GET /stores` lists it. */
export const Store = Schema.Struct({
  storeId: Schema.Int,
  storeName: Schema.String,
  marketplaceName: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" }),
  /** A Custom Store's URL; absent or null for marketplaces. Its exact form is unconfirmed. */
  integrationUrl: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  active: Schema.Boolean,
  refreshDate: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  lastRefreshAttempt: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" })
})
export type Store = typeof Store.Type

/** `POST /stores/refreshstore`'s answer. */
export const RefreshStarted = Schema.Struct({
  success: Schema.Boolean,
  message: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
})
export type RefreshStarted = typeof RefreshStarted.Type

/** `GET /stores/getrefreshstatus`'s answer. Dates are kept as ShipStation wrote them (their zone is Pacific). */
export const RefreshStatus = Schema.Struct({
  storeId: Schema.Int,
  refreshStatusId: Schema.optionalWith(Schema.Int, { nullable: true, as: "Option" }),
  refreshStatus: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  lastRefreshAttempt: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" }),
  refreshDate: Schema.optionalWith(Schema.String, { nullable: true, as: "Option" })
})
export type RefreshStatus = typeof RefreshStatus.Type

export const Operation = Schema.Literal("listStores", "refreshStore", "refreshStatus")
export type Operation = typeof Operation.Type

const doing: Record<Operation, string> = {
  listStores: "listing the account's stores",
  refreshStore: "asking it to refresh a store",
  refreshStatus: "reading a store's refresh status"
}

/** 401 or 403: the key pair is wrong, revoked, or not allowed to do this. */
export class ApiRefused extends Schema.TaggedError<ApiRefused>()("ApiRefused", {
  operation: Operation,
  status: Schema.Number
}) {
  override get message() {
    return `ShipStation refused the API key (HTTP ${this.status}) when ${doing[this.operation]}: check the API key and secret in the store's settings.`
  }
}

/** 429: the key's calls for this window are used up. */
export class ApiRateLimited extends Schema.TaggedError<ApiRateLimited>()("ApiRateLimited", {
  operation: Operation,
  /** Seconds until ShipStation's window resets (`X-Rate-Limit-Reset`, else `Retry-After`), when it said. */
  resetSeconds: Schema.Option(Schema.Number)
}) {
  override get message() {
    const reset = Option.match(this.resetSeconds, {
      onNone: () => "it did not say when it resets",
      onSome: (s) => `it resets in ${s} second${s === 1 ? "" : "s"}`
    })
    return `ShipStation's rate limit for this API key is used up (HTTP 429) when ${doing[this.operation]}; ${reset}.`
  }
}

/** 5xx, no answer at all, or no answer in time. ShipStation's own poll schedule is unaffected. */
export class ApiUnavailable extends Schema.TaggedError<ApiUnavailable>()("ApiUnavailable", {
  operation: Operation,
  reason: Schema.Literal("status", "network", "timeout"),
  status: Schema.optional(Schema.Number),
  detail: Schema.String
}) {
  override get message() {
    const what =
      this.reason === "status"
        ? `answered HTTP ${this.status}`
        : this.reason === "timeout"
          ? `did not answer within ${this.detail}`
          : `could not be reached (${this.detail})`
    return `ShipStation's API ${what} when ${doing[this.operation]}.`
  }
}

/** A 2xx whose body is not what ShipStation documents. */
export class ApiBadAnswer extends Schema.TaggedError<ApiBadAnswer>()("ApiBadAnswer", {
  operation: Operation,
  status: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `ShipStation's answer (HTTP ${this.status}) to ${doing[this.operation]} was not what was expected: ${this.detail}`
  }
}

/** Any other 4xx (an unknown store id, say), or a refresh answered `success: false`. */
export class ApiRejected extends Schema.TaggedError<ApiRejected>()("ApiRejected", {
  operation: Operation,
  status: Schema.Number,
  detail: Schema.String
}) {
  override get message() {
    return `ShipStation rejected ${doing[this.operation]} (HTTP ${this.status}): ${this.detail}`
  }
}

/** A call that would have named no store; refused before any request. */
export class StoreIdRequired extends Schema.TaggedError<StoreIdRequired>()("StoreIdRequired", {
  operation: Operation,
  given: Schema.String
}) {
  override get message() {
    return `Refused to call ShipStation without a valid store id (got ${this.given}) when ${doing[this.operation]}: without one ShipStation refreshes every store of the account.`
  }
}

/** Discovery found no store, or more than one, for our integration URL. */
export class StoreNotDiscovered extends Schema.TaggedError<StoreNotDiscovered>()("StoreNotDiscovered", {
  reason: Schema.Literal("invalid", "none", "inactive", "several"),
  /** Our integration URL, normalised (no credentials). */
  integrationUrl: Schema.String,
  /** The matching store ids ("inactive", "several"). */
  matches: Schema.Array(Schema.Number),
  /** The Custom Store URLs the key can see, normalised ("none"). */
  seen: Schema.Array(Schema.String)
}) {
  override get message() {
    const url = this.integrationUrl
    switch (this.reason) {
      case "invalid":
        return `The integration URL to look for in ShipStation is not a URL: ${url}.`
      case "none":
        return this.seen.length === 0
          ? `No ShipStation store of this API key has the integration URL ${url}: the key sees no Custom Store with an integration URL; set the ShipStation store id in the settings.`
          : `No ShipStation store of this API key has the integration URL ${url}; Custom Store URLs seen: ${this.seen.join(", ")}. Set the ShipStation store id in the settings.`
      case "inactive":
        return `The ShipStation store${this.matches.length === 1 ? "" : "s"} with the integration URL ${url} (id ${this.matches.join(", ")}) ${this.matches.length === 1 ? "is" : "are"} inactive: activate it in ShipStation or set the store id in the settings.`
      default:
        return `${this.matches.length} active ShipStation stores have the integration URL ${url} (ids ${this.matches.join(", ")}): set the store id in the settings.`
    }
  }
}

export type ApiError = ApiRefused | ApiRateLimited | ApiUnavailable | ApiBadAnswer | ApiRejected

export interface ListOptions {
  /** Include inactive stores (ShipStation's default: no). */
  readonly showInactive?: boolean | undefined
}

export interface Service {
  readonly baseUrl: string
  /** `GET /stores`. */
  readonly listStores: (
    credentials: Credentials,
    options?: ListOptions
  ) => Effect.Effect<Answer<ReadonlyArray<Store>>, ApiError>
  /** `POST /stores/refreshstore` with `{"storeId": storeId}`; fails `StoreIdRequired` before any request without a valid id. */
  readonly refreshStore: (
    credentials: Credentials,
    storeId: number
  ) => Effect.Effect<Answer<RefreshStarted>, ApiError | StoreIdRequired>
  /** `GET /stores/getrefreshstatus?storeId=`. */
  readonly refreshStatus: (
    credentials: Credentials,
    storeId: number
  ) => Effect.Effect<Answer<RefreshStatus>, ApiError | StoreIdRequired>
  /**
   * The id of the one active store whose integration URL equals `integrationUrl` after normalising (scheme and
   * host case, default port, trailing slash; query string and user info ignored).
   */
  readonly discoverStoreId: (
    credentials: Credentials,
    integrationUrl: string
  ) => Effect.Effect<Answer<number>, ApiError | StoreNotDiscovered>
}

export interface Options {
  /** Default `https://ssapi.shipstation.com`. */
  readonly baseUrl?: string | undefined
  /** Per call. Default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

export class ShipStationApi extends Context.Tag("@posbridge/shipstation/ShipStationApi")<ShipStationApi, Service>() {
  static readonly layer = (options: Options = {}): Layer.Layer<ShipStationApi, never, HttpClient.HttpClient> =>
    Layer.effect(ShipStationApi, make(options))
}

const numeric = (value: string | undefined): number | undefined =>
  value !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : undefined

/** The rate-limit headers of an answer, when all three are present and numeric. */
export const parseRateLimit = (headers: Readonly<Record<string, string | undefined>>): Option.Option<RateLimit> => {
  const limit = numeric(headers["x-rate-limit-limit"])
  const remaining = numeric(headers["x-rate-limit-remaining"])
  const resetSeconds = numeric(headers["x-rate-limit-reset"])
  return limit === undefined || remaining === undefined || resetSeconds === undefined
    ? Option.none()
    : Option.some(new RateLimit({ limit, remaining, resetSeconds }))
}

/** A refresh request's body: there is no way to build one without a store id. */
export const refreshStoreBody = (storeId: number): { readonly storeId: number } => ({ storeId })

const validStoreId = (storeId: unknown): storeId is number =>
  typeof storeId === "number" && Number.isSafeInteger(storeId) && storeId > 0

const basic = (credentials: Credentials): string => {
  const bytes = new TextEncoder().encode(
    `${Redacted.value(credentials.apiKey)}:${Redacted.value(credentials.apiSecret)}`
  )
  return `Basic ${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))}`
}

/** Text from ShipStation (or a transport) made fit for a message: short, and without the key or the secret. */
const scrub = (text: string, credentials: Credentials): string => {
  let out = text
  for (const secret of [Redacted.value(credentials.apiKey), Redacted.value(credentials.apiSecret)]) {
    if (secret.length > 0) out = out.split(secret).join("[redacted]")
  }
  out = out.replace(/\s+/g, " ").trim()
  return out.length > 200 ? `${out.slice(0, 200)}…` : out
}

const bodyMessage = (text: string): string => {
  try {
    const json: unknown = JSON.parse(text)
    if (typeof json === "object" && json !== null) {
      const record = json as Record<string, unknown>
      for (const key of ["message", "Message", "ExceptionMessage"]) {
        if (typeof record[key] === "string" && record[key] !== "") return record[key]
      }
    }
  } catch {
    // not JSON: the text itself
  }
  return text === "" ? "no message" : text
}

/** A client over `HttpClient`. */
export const make = (options: Options = {}): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const baseUrl = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))

    /** Sends `request` and decodes a 2xx body with `schema`; everything else becomes one of the tagged errors. */
    const call = <A, I>(
      operation: Operation,
      credentials: Credentials,
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>
    ): Effect.Effect<Answer<A>, ApiError> =>
      Effect.gen(function* () {
        const response = yield* http
          .execute(
            request.pipe(HttpClientRequest.setHeader("authorization", basic(credentials)), HttpClientRequest.acceptJson)
          )
          .pipe(
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () => new ApiUnavailable({ operation, reason: "timeout", detail: Duration.format(timeout) })
            }),
            Effect.catchTags({
              RequestError: (e) =>
                new ApiUnavailable({
                  operation,
                  reason: "network",
                  detail: scrub(e.description ?? e.reason, credentials)
                }),
              ResponseError: (e) =>
                new ApiUnavailable({
                  operation,
                  reason: "network",
                  detail: scrub(e.description ?? e.reason, credentials)
                })
            })
          )
        const rateLimit = parseRateLimit(response.headers)
        const text = yield* readText(operation, response, credentials)
        const status = response.status
        if (status === 401 || status === 403) return yield* new ApiRefused({ operation, status })
        if (status === 429) {
          const retryAfter = Option.fromNullable(numeric(response.headers["retry-after"]))
          return yield* new ApiRateLimited({
            operation,
            resetSeconds: Option.orElse(
              Option.map(rateLimit, (r) => r.resetSeconds),
              () => retryAfter
            )
          })
        }
        if (status >= 500) {
          return yield* new ApiUnavailable({ operation, reason: "status", status, detail: `HTTP ${status}` })
        }
        if (status < 200 || status >= 300) {
          return yield* new ApiRejected({ operation, status, detail: scrub(bodyMessage(text), credentials) })
        }
        const json = yield* Effect.try({
          try: (): unknown => JSON.parse(text),
          catch: () => new ApiBadAnswer({ operation, status, detail: "the body is not JSON." })
        })
        const value = yield* Schema.decodeUnknown(schema)(json, { onExcessProperty: "ignore" }).pipe(
          Effect.mapError(
            (e) =>
              new ApiBadAnswer({
                operation,
                status,
                detail: scrub(e.message.split("\n").slice(0, 4).join(" "), credentials)
              })
          )
        )
        return { value, rateLimit }
      })

    const readText = (
      operation: Operation,
      response: HttpClientResponse.HttpClientResponse,
      credentials: Credentials
    ): Effect.Effect<string, ApiUnavailable> =>
      response.text.pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new ApiUnavailable({ operation, reason: "timeout", detail: Duration.format(timeout) })
        }),
        Effect.catchTag(
          "ResponseError",
          (e) =>
            new ApiUnavailable({
              operation,
              reason: "network",
              detail: scrub(e.description ?? "the answer's body could not be read", credentials)
            })
        )
      )

    const listStores = Effect.fn("ShipStationApi.listStores")(function* (
      credentials: Credentials,
      listOptions: ListOptions = {}
    ) {
      const request = HttpClientRequest.get(`${baseUrl}/stores`).pipe(
        HttpClientRequest.setUrlParam("showInactive", listOptions.showInactive === true ? "true" : "false")
      )
      return yield* call("listStores", credentials, request, Schema.Array(Store))
    })

    const refreshStore = Effect.fn("ShipStationApi.refreshStore")(function* (
      credentials: Credentials,
      storeId: number
    ) {
      if (!validStoreId(storeId)) {
        return yield* new StoreIdRequired({ operation: "refreshStore", given: String(storeId) })
      }
      const request = HttpClientRequest.post(`${baseUrl}/stores/refreshstore`).pipe(
        HttpClientRequest.bodyUnsafeJson(refreshStoreBody(storeId))
      )
      const answer = yield* call("refreshStore", credentials, request, RefreshStarted)
      if (!answer.value.success) {
        return yield* new ApiRejected({
          operation: "refreshStore",
          status: 200,
          detail: scrub(answer.value.message || "success was false", credentials)
        })
      }
      return answer
    })

    const refreshStatus = Effect.fn("ShipStationApi.refreshStatus")(function* (
      credentials: Credentials,
      storeId: number
    ) {
      if (!validStoreId(storeId)) {
        return yield* new StoreIdRequired({ operation: "refreshStatus", given: String(storeId) })
      }
      const request = HttpClientRequest.get(`${baseUrl}/stores/getrefreshstatus`).pipe(
        HttpClientRequest.setUrlParam("storeId", String(storeId))
      )
      const answer = yield* call("refreshStatus", credentials, request, RefreshStatus)
      if (answer.value.storeId !== storeId) {
        return yield* new ApiBadAnswer({
          operation: "refreshStatus",
          status: 200,
          detail: `it is about store ${answer.value.storeId}, not ${storeId}.`
        })
      }
      return answer
    })

    const discoverStoreId = Effect.fn("ShipStationApi.discoverStoreId")(function* (
      credentials: Credentials,
      integrationUrl: string
    ) {
      const ours = IntegrationUrl.normalise(integrationUrl)
      if (ours === undefined) {
        return yield* new StoreNotDiscovered({
          reason: "invalid",
          integrationUrl: scrub(integrationUrl.replace(/\?.*$/s, ""), credentials),
          matches: [],
          seen: []
        })
      }
      const answer = yield* listStores(credentials, { showInactive: true })
      const custom = answer.value.flatMap((store) =>
        Option.match(store.integrationUrl, { onNone: () => [], onSome: (url) => [{ store, url }] })
      )
      const matches = custom.filter((c) => IntegrationUrl.normalise(c.url) === ours).map((c) => c.store)
      const active = matches.filter((s) => s.active)
      if (active.length === 1) return { value: active[0]!.storeId, rateLimit: answer.rateLimit }
      const ids = (stores: ReadonlyArray<Store>) => stores.map((s) => s.storeId)
      return yield* new StoreNotDiscovered(
        active.length > 1
          ? { reason: "several", integrationUrl: ours, matches: ids(active), seen: [] }
          : matches.length > 0
            ? { reason: "inactive", integrationUrl: ours, matches: ids(matches), seen: [] }
            : {
                reason: "none",
                integrationUrl: ours,
                matches: [],
                seen: custom.map((c) => `${IntegrationUrl.display(c.url)} (store ${c.store.storeId})`)
              }
      )
    })

    return { baseUrl, listStores, refreshStore, refreshStatus, discoverStoreId } satisfies Service
  })
