/**
 * Heartland HTTP: bearer auth, status classification, 429 `Retry-After`, retries with backoff for 5xx,
 * timeouts and truncated bodies. A 401 is never retried: it parks the store until the token is changed.
 */
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { PosSource } from "@posbridge/core"
import { Duration, Effect, ParseResult, Schema } from "effect"

export interface RetryPolicy {
  /** First backoff for 5xx/timeouts; doubles each attempt up to `maxBackoffMillis`. */
  readonly baseBackoffMillis: number
  readonly maxBackoffMillis: number
  /** Attempts per request for transient failures (5xx, timeouts, truncated bodies). */
  readonly maxAttempts: number
  /** Attempts per request when Heartland keeps answering 429 (each waits its Retry-After). */
  readonly maxRateLimitedAttempts: number
  /** Retry-After when a 429 has none. */
  readonly defaultRetryAfterMillis: number
  readonly timeoutMillis: number
}

export const defaultRetryPolicy: RetryPolicy = {
  baseBackoffMillis: 500,
  maxBackoffMillis: 30_000,
  maxAttempts: 8,
  maxRateLimitedAttempts: 30,
  defaultRetryAfterMillis: 5_000,
  timeoutMillis: 60_000
}

export interface ClientConfig {
  readonly storeId: string
  readonly baseUrl: string
  readonly token: string
  readonly retry: RetryPolicy
}

const error = (kind: PosSource.PosSourceError["kind"], message: string, retryAfterMillis?: number) =>
  new PosSource.PosSourceError(retryAfterMillis === undefined ? { kind, message } : { kind, message, retryAfterMillis })

/** `Retry-After` in seconds or as an HTTP date. */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMillis)
}

const snippet = (body: string) => (body.length > 200 ? `${body.slice(0, 200)}…` : body).replace(/\s+/g, " ")

export interface HeartlandClient {
  readonly get: <A, I>(
    path: string,
    params: ReadonlyArray<readonly [string, string]>,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<A, PosSource.PosSourceError>
  readonly put: <A, I>(
    path: string,
    body: unknown,
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<A, PosSource.PosSourceError>
}

export const make = (config: ClientConfig): Effect.Effect<HeartlandClient, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const policy = config.retry
    const where = `Heartland (${config.baseUrl}) for store ${config.storeId}`

    const classify = (
      response: HttpClientResponse.HttpClientResponse,
      label: string
    ): Effect.Effect<string, PosSource.PosSourceError> =>
      Effect.gen(function* () {
        const body = yield* response.text.pipe(
          Effect.mapError(() => error("transient", `${where}: the response to ${label} broke off`))
        )
        const status = response.status
        if (status >= 200 && status < 300) return body
        if (status === 401) {
          return yield* error(
            "auth",
            `Heartland rejected the API token for store ${config.storeId}; update the token in the store's settings.`
          )
        }
        if (status === 403) {
          return yield* error(
            "auth",
            `Heartland refused ${label} for store ${config.storeId}: the API token lacks permission; give its user access to sales orders, invoices, customers and items.`
          )
        }
        if (status === 429) {
          const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
          const wait = parseRetryAfter(response.headers["retry-after"], now) ?? policy.defaultRetryAfterMillis
          return yield* error(
            "rate-limited",
            `${where} is rate limiting; retrying in ${Math.ceil(wait / 1000)} s`,
            wait
          )
        }
        if (status === 408 || status >= 500) {
          return yield* error("transient", `${where} answered ${status} to ${label}`)
        }
        if (status === 404) return yield* error("permanent", `${where}: ${label} was not found (404)`)
        return yield* error("permanent", `${where} answered ${status} to ${label}: ${snippet(body)}`)
      })

    const send = <A, I>(request: HttpClientRequest.HttpClientRequest, label: string, schema: Schema.Schema<A, I>) => {
      const once = http.execute(request).pipe(
        Effect.mapError((e) => error("transient", `${where}: ${label} failed (${e.reason})`)),
        Effect.flatMap((response) => classify(response, label)),
        Effect.timeoutFail({
          duration: Duration.millis(policy.timeoutMillis),
          onTimeout: () => error("transient", `${where}: ${label} timed out after ${policy.timeoutMillis / 1000} s`)
        }),
        Effect.flatMap((body) =>
          Effect.try({
            try: () => (body === "" ? null : JSON.parse(body)),
            // A body cut off in transit is transient; valid JSON of the wrong shape is not (below).
            catch: () => error("transient", `${where}: the response to ${label} is not complete JSON`)
          })
        ),
        Effect.flatMap((json) =>
          Schema.decodeUnknown(schema)(json).pipe(
            Effect.mapError((e) =>
              error(
                "malformed",
                `${where}: unexpected response to ${label}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
              )
            )
          )
        )
      )
      const loop = (transient: number, limited: number): Effect.Effect<A, PosSource.PosSourceError> =>
        Effect.catchIf(
          once,
          (e) =>
            (e.kind === "transient" && transient + 1 < policy.maxAttempts) ||
            (e.kind === "rate-limited" && limited + 1 < policy.maxRateLimitedAttempts),
          (e) => {
            const wait =
              e.kind === "rate-limited"
                ? (e.retryAfterMillis ?? policy.defaultRetryAfterMillis)
                : Math.min(policy.maxBackoffMillis, policy.baseBackoffMillis * 2 ** transient)
            return Effect.logDebug(`${e.message}; retrying in ${wait} ms`).pipe(
              Effect.zipRight(Effect.sleep(Duration.millis(wait))),
              Effect.zipRight(e.kind === "rate-limited" ? loop(transient, limited + 1) : loop(transient + 1, limited))
            )
          }
        )
      return loop(0, 0)
    }

    const authorized = (request: HttpClientRequest.HttpClientRequest) =>
      request.pipe(HttpClientRequest.bearerToken(config.token), HttpClientRequest.acceptJson)

    return {
      get: (path, params, schema) =>
        send(
          authorized(HttpClientRequest.get(`${config.baseUrl}${path}`)).pipe(HttpClientRequest.setUrlParams(params)),
          `GET ${path}`,
          schema
        ),
      put: (path, body, schema) =>
        send(
          authorized(HttpClientRequest.put(`${config.baseUrl}${path}`)).pipe(HttpClientRequest.bodyUnsafeJson(body)),
          `PUT ${path}`,
          schema
        )
    }
  })
