/**
 * One Lightspeed API call with everything the real API demands: the bucket pacing (RateLimiter), the bearer
 * token (refresh once on a 401, then retry once), 429 → wait `Retry-After` and retry, 5xx / timeouts / unreadable
 * bodies → retry with exponential backoff. Failures that remain are `PosSourceError`s with a kind the scheduler
 * acts on.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { PosSource } from "@posbridge/core"
import { Duration, Effect, Either } from "effect"
import type { RateLimiter } from "../RateLimiter.js"
import type { TokenManager } from "./tokens.js"

export interface Options {
  readonly http: HttpClient.HttpClient
  readonly tokens: TokenManager
  readonly limiter: RateLimiter
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Attempts for 5xx, timeouts and unreadable bodies. Default 6. */
  readonly maxAttempts?: number | undefined
  /** 429s tolerated for one call. Default 20. */
  readonly maxRateLimited?: number | undefined
  readonly baseBackoff?: Duration.DurationInput | undefined
}

export interface Api {
  /** Sends the request and returns the parsed JSON body of a 2xx answer. */
  readonly json: (
    request: HttpClientRequest.HttpClientRequest,
    costKey: string
  ) => Effect.Effect<unknown, PosSource.PosSourceError>
  readonly calls: Effect.Effect<{ readonly requests: number; readonly rateLimited: number; readonly retries: number }>
}

type Outcome =
  | { readonly _tag: "Ok"; readonly body: unknown }
  | { readonly _tag: "Unauthorized" }
  | { readonly _tag: "RateLimited"; readonly wait: Duration.Duration }
  | { readonly _tag: "Transient"; readonly message: string }
  | { readonly _tag: "Fatal"; readonly error: PosSource.PosSourceError }

const describe = (request: HttpClientRequest.HttpClientRequest) => {
  const path = request.url.replace(/^https?:\/\/[^/]+/, "").replace(/\?.*$/, "")
  return `${request.method} ${path}`
}

export const make = (options: Options): Api => {
  const timeout = Duration.decode(options.requestTimeout ?? "30 seconds")
  const maxAttempts = options.maxAttempts ?? 6
  const maxRateLimited = options.maxRateLimited ?? 20
  const baseBackoff = Duration.toMillis(Duration.decode(options.baseBackoff ?? "500 millis"))
  const counters = { requests: 0, rateLimited: 0, retries: 0 }

  const once = (request: HttpClientRequest.HttpClientRequest, costKey: string) =>
    Effect.gen(function* () {
      yield* options.limiter.acquire(costKey)
      const token = yield* options.tokens.current
      counters.requests++
      const result = yield* options.http.execute(HttpClientRequest.bearerToken(request, token)).pipe(
        Effect.flatMap((response) =>
          Effect.map(response.text, (text) => ({ status: response.status, headers: response.headers, text }))
        ),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new Error(`no answer within ${Duration.format(timeout)}`)
        }),
        Effect.either
      )
      if (Either.isLeft(result)) {
        return { _tag: "Transient", message: `${describe(request)} failed: ${result.left.message}` } as Outcome
      }
      const { status, headers, text } = result.right
      if (status === 401) {
        yield* options.tokens.invalidate(token)
        return { _tag: "Unauthorized" } as Outcome
      }
      if (status === 429) {
        counters.rateLimited++
        return { _tag: "RateLimited", wait: yield* options.limiter.rejected(headers, costKey) } as Outcome
      }
      yield* options.limiter.observe(headers, costKey)
      if (status >= 500) return { _tag: "Transient", message: `${describe(request)} answered ${status}` } as Outcome
      if (status < 200 || status >= 300) {
        return {
          _tag: "Fatal",
          error: new PosSource.PosSourceError({
            kind: status === 403 ? "auth" : status === 404 ? "permanent" : "config",
            message: `Lightspeed refused ${describe(request)} (${status}): ${text.slice(0, 200)}`
          })
        } as Outcome
      }
      try {
        return { _tag: "Ok", body: JSON.parse(text) } as Outcome
      } catch {
        return { _tag: "Transient", message: `${describe(request)} answered a body that is not valid JSON` } as Outcome
      }
    })

  const json = (request: HttpClientRequest.HttpClientRequest, costKey: string) =>
    Effect.gen(function* () {
      let attempts = 0
      let rateLimited = 0
      let reauthorized = false
      while (true) {
        const outcome = yield* once(request, costKey)
        switch (outcome._tag) {
          case "Ok":
            return outcome.body
          case "Fatal":
            return yield* outcome.error
          case "Unauthorized":
            if (reauthorized) {
              return yield* new PosSource.PosSourceError({
                kind: "auth",
                message: "Lightspeed rejected a freshly refreshed access token: the connection must be authorized again"
              })
            }
            reauthorized = true
            continue
          case "RateLimited":
            if (++rateLimited > maxRateLimited) {
              return yield* new PosSource.PosSourceError({
                kind: "rate-limited",
                message: `Lightspeed kept answering 429 for ${describe(request)}`,
                retryAfterMillis: Duration.toMillis(outcome.wait)
              })
            }
            yield* Effect.sleep(outcome.wait)
            continue
          case "Transient": {
            if (++attempts >= maxAttempts) {
              return yield* new PosSource.PosSourceError({
                kind: "transient",
                message: `${outcome.message} (gave up after ${attempts} attempts)`
              })
            }
            counters.retries++
            yield* Effect.logDebug(`Lightspeed: ${outcome.message}; retrying`)
            yield* Effect.sleep(Duration.millis(Math.min(30_000, baseBackoff * 2 ** (attempts - 1))))
          }
        }
      }
    })

  return { json, calls: Effect.sync(() => ({ ...counters })) }
}
