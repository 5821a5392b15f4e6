/**
 * Switchable, reproducible fault injection for simulators and adapter tests.
 *
 * A `FaultPlan` says which requests fail and how: a scripted sequence (request 0 → 503, request 1 → ok, …), then
 * seeded probabilities. The decision for the n-th request is a pure function of (plan, n), so a failing run is
 * replayed exactly by re-using its seed. The same `FaultInjector` drives both a server-side middleware (for
 * `HttpRouter`/`HttpServer` simulators) and a client-side wrapper (to fault-test an adapter against any
 * `HttpClient`, for example a replay, without a server).
 *
 * @since 0.0.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { parseUrl } from "./internal/httpParts.js"
import { tryParseJson } from "./internal/json.js"
import { HeaderMap } from "./RecordedExchange.js"

// ---------------------------------------------------------------------------------------------------------------
// Faults and plans (Schemas, so a simulator can take a plan from config or a CLI flag)
// ---------------------------------------------------------------------------------------------------------------

/** Answer with an error status instead of the real response. */
export const ServerError = Schema.TaggedStruct("ServerError", {
  status: Schema.Int.pipe(Schema.between(400, 599)),
  body: Schema.optional(Schema.String),
  headers: Schema.optional(HeaderMap)
})
export type ServerError = typeof ServerError.Type

/** Never respond (no `delayMillis`), or respond normally after `delayMillis`. */
export const Timeout = Schema.TaggedStruct("Timeout", {
  delayMillis: Schema.optional(Schema.NonNegativeInt)
})
export type Timeout = typeof Timeout.Type

/** Answer with the real status and headers but a truncated, invalid JSON body. */
export const Malformed = Schema.TaggedStruct("Malformed", {})
export type Malformed = typeof Malformed.Type

/** Answer 429 with `Retry-After`, plus any POS-specific headers. */
export const RateLimited = Schema.TaggedStruct("RateLimited", {
  retryAfterSeconds: Schema.NonNegativeInt,
  headers: Schema.optional(HeaderMap)
})
export type RateLimited = typeof RateLimited.Type

export const Fault = Schema.Union(ServerError, Timeout, Malformed, RateLimited)
export type Fault = typeof Fault.Type

export const serverError = (status = 503, options: { body?: string; headers?: Record<string, string> } = {}): Fault =>
  ServerError.make({ status, ...options })
export const timeout = (delayMillis?: number): Fault => Timeout.make(delayMillis === undefined ? {} : { delayMillis })
export const malformed: Fault = Malformed.make({})
export const rateLimited = (retryAfterSeconds: number, headers?: Record<string, string>): Fault =>
  RateLimited.make(headers === undefined ? { retryAfterSeconds } : { retryAfterSeconds, headers })

export const WeightedFault = Schema.Struct({
  probability: Schema.Number.pipe(Schema.between(0, 1)),
  fault: Fault
})
export type WeightedFault = typeof WeightedFault.Type

/**
 * Which requests fail. Requests are counted from 0 among those whose path starts with one of `paths` (all
 * requests when absent). Request n < script.length gets `script[n]` (`null` = no fault); later requests draw
 * one uniform number from (seed, n) and take the first `random` entry whose cumulative probability exceeds it.
 */
export const FaultPlan = Schema.Struct({
  seed: Schema.optional(Schema.Int),
  script: Schema.optional(Schema.Array(Schema.NullOr(Fault))),
  random: Schema.optional(Schema.Array(WeightedFault)),
  paths: Schema.optional(Schema.Array(Schema.String))
})
export type FaultPlan = typeof FaultPlan.Type

/** No faults. */
export const none: FaultPlan = {}

/** Exactly these outcomes for the first requests (`null` = pass through), then none. */
export const scripted = (
  script: ReadonlyArray<Fault | null>,
  options: { readonly paths?: ReadonlyArray<string> } = {}
): FaultPlan => ({ script, ...options })

/** Seeded probabilities, e.g. `random(42, [{ probability: 0.1, fault: serverError(503) }])`. */
export const random = (
  seed: number,
  faults: ReadonlyArray<WeightedFault>,
  options: { readonly paths?: ReadonlyArray<string> } = {}
): FaultPlan => ({ seed, random: faults, ...options })

// ---------------------------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------------------------

// mulberry32: tiny, fast and identical on every JS runtime and Effect version, so a seed printed by a failing CI
// run reproduces locally (Effect's own Random makes no cross-version promise).
const mulberry32 = (state: number): number => {
  let t = (state + 0x6d2b79f5) | 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** A uniform number in [0, 1) that depends only on `seed` and `index`. */
export const uniformAt = (seed: number, index: number): number =>
  mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca77)) | 0)

/** A sequential seeded generator for simulators that need reproducible data (ids, amounts, delays). */
export interface Prng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, bound). */
  readonly nextInt: (bound: number) => number
  readonly pick: <A>(items: ReadonlyArray<A>) => A
}

export const makePrng = (seed: number): Prng => {
  let index = 0
  const next = () => uniformAt(seed, index++)
  const nextInt = (bound: number) => Math.floor(next() * bound)
  return {
    next,
    nextInt,
    pick: <A>(items: ReadonlyArray<A>): A => {
      if (items.length === 0) throw new RangeError("Prng.pick: empty array")
      return items[nextInt(items.length)] as A
    }
  }
}

/** The fault for the `index`-th counted request under `plan`, or `undefined`. Pure. */
export const decide = (plan: FaultPlan, index: number): Fault | undefined => {
  if (plan.script !== undefined && index < plan.script.length) return plan.script[index] ?? undefined
  if (plan.random === undefined || plan.random.length === 0) return undefined
  const u = uniformAt(plan.seed ?? 0, index)
  let cumulative = 0
  for (const entry of plan.random) {
    cumulative += entry.probability
    if (u < cumulative) return entry.fault
  }
  return undefined
}

const applies = (plan: FaultPlan, path: string): boolean =>
  plan.paths === undefined || plan.paths.some((prefix) => path.startsWith(prefix))

// ---------------------------------------------------------------------------------------------------------------
// The injector
// ---------------------------------------------------------------------------------------------------------------

export interface RequestInfo {
  readonly method: string
  readonly path: string
}

/** One decision, kept so a failing test can print what was injected where. */
export interface Decision {
  readonly index: number
  readonly method: string
  readonly path: string
  readonly fault: Fault | undefined
}

interface InjectorState {
  readonly plan: FaultPlan
  readonly count: number
  readonly history: ReadonlyArray<Decision>
}

export interface FaultInjectorService {
  /** Decides the fault for one request (and counts it, when the plan's `paths` cover it). */
  readonly next: (request: RequestInfo) => Effect.Effect<Fault | undefined>
  /** Switches to a new plan and restarts counting from request 0. */
  readonly setPlan: (plan: FaultPlan) => Effect.Effect<void>
  readonly plan: Effect.Effect<FaultPlan>
  readonly history: Effect.Effect<ReadonlyArray<Decision>>
}

export const makeInjector = (plan: FaultPlan = none): Effect.Effect<FaultInjectorService> =>
  Effect.map(Ref.make<InjectorState>({ plan, count: 0, history: [] }), (state) => ({
    next: (request) =>
      Ref.modify(state, (s): [Fault | undefined, InjectorState] => {
        if (!applies(s.plan, request.path)) return [undefined, s]
        const fault = decide(s.plan, s.count)
        const decision: Decision = { index: s.count, method: request.method, path: request.path, fault }
        return [fault, { ...s, count: s.count + 1, history: [...s.history, decision] }]
      }),
    setPlan: (plan) => Ref.set(state, { plan, count: 0, history: [] }),
    plan: Effect.map(Ref.get(state), (s) => s.plan),
    history: Effect.map(Ref.get(state), (s) => s.history)
  }))

/** The fault switch shared by a simulator's routes or a client wrapper. */
export class FaultInjector extends Context.Tag("@posbridge/pos-testkit/Faults/FaultInjector")<
  FaultInjector,
  FaultInjectorService
>() {
  static readonly layer = (plan: FaultPlan = none): Layer.Layer<FaultInjector> => Layer.effect(this, makeInjector(plan))
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering faults
// ---------------------------------------------------------------------------------------------------------------

/** Cuts a body so that it is no longer valid JSON (what a dropped connection or a proxy bug produces). */
export const truncate = (text: string): string => {
  const cut = text.slice(0, Math.max(1, Math.floor(text.length / 2)))
  return tryParseJson(cut).ok || cut.trim() === "" ? `${cut}{"` : cut
}

interface ErrorResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

const errorResponse = (fault: ServerError | RateLimited): ErrorResponse =>
  fault._tag === "ServerError"
    ? {
        status: fault.status,
        headers: { "content-type": "application/json", ...fault.headers },
        body: fault.body ?? JSON.stringify({ error: "simulated_fault", status: fault.status })
      }
    : {
        status: 429,
        headers: {
          "content-type": "application/json",
          "retry-after": String(fault.retryAfterSeconds),
          ...fault.headers
        },
        body: JSON.stringify({ error: "rate_limited", retryAfterSeconds: fault.retryAfterSeconds })
      }

// Statuses whose web Response cannot carry a body, so there is nothing to corrupt.
const NULL_BODY_STATUS = new Set([101, 204, 205, 304])

// Interruptible on purpose: HttpApp.toHandled runs apps uninterruptibly, and a client that gives up must be able
// to abandon a request that never answers.
const delayOrNever = (fault: Timeout): Effect.Effect<void> =>
  Effect.interruptible(fault.delayMillis === undefined ? Effect.never : Effect.sleep(fault.delayMillis))

/** Applies a fault to a server response effect (the real handler runs only when the fault needs it). */
export const applyToServer = <E, R>(
  fault: Fault | undefined,
  respond: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> => {
  if (fault === undefined) return respond
  switch (fault._tag) {
    case "ServerError":
    case "RateLimited": {
      const r = errorResponse(fault)
      return Effect.succeed(HttpServerResponse.text(r.body, { status: r.status, headers: r.headers }))
    }
    case "Timeout":
      return Effect.zipRight(delayOrNever(fault), respond)
    case "Malformed":
      return Effect.map(respond, (response) => {
        const body = response.body
        const text =
          body._tag === "Uint8Array"
            ? new TextDecoder().decode(body.body)
            : body._tag === "Raw" && typeof body.body === "string"
              ? body.body
              : '{"malformed":true}'
        const contentType = body._tag === "Empty" ? "application/json" : (body.contentType ?? "application/json")
        return HttpServerResponse.setBody(response, HttpBody.text(truncate(text), contentType))
      })
  }
}

/**
 * Server middleware: each request asks the `FaultInjector` for a fault. Use with `HttpRouter.use(Faults.middleware)`
 * or `HttpServer.serve(app, Faults.middleware)`.
 */
export const middleware = <E, R>(
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R | FaultInjector | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function* () {
    const injector = yield* FaultInjector
    const request = yield* HttpServerRequest.HttpServerRequest
    const fault = yield* injector.next({ method: request.method, path: parseUrl(request.url).pathname })
    return yield* applyToServer(fault, app)
  })

const requestPath = (request: HttpClientRequest.HttpClientRequest): string =>
  Either.match(UrlParams.makeUrl(request.url, request.urlParams, request.hash), {
    onLeft: () => parseUrl(request.url).pathname,
    onRight: (url) => url.pathname
  })

/** Wraps any `HttpClient` so that requests are faulted as the injector decides, before reaching it. */
export const wrapClient = (client: HttpClient.HttpClient, injector: FaultInjectorService): HttpClient.HttpClient =>
  HttpClient.transform(client, (effect, request) =>
    Effect.flatMap(injector.next({ method: request.method, path: requestPath(request) }), (fault) => {
      if (fault === undefined) return effect
      switch (fault._tag) {
        case "ServerError":
        case "RateLimited": {
          const r = errorResponse(fault)
          return Effect.succeed(
            HttpClientResponse.fromWeb(request, new Response(r.body, { status: r.status, headers: r.headers }))
          )
        }
        case "Timeout":
          return Effect.zipRight(delayOrNever(fault), effect)
        case "Malformed":
          return Effect.flatMap(effect, (response) =>
            NULL_BODY_STATUS.has(response.status)
              ? Effect.succeed(response)
              : Effect.map(Effect.orDie(response.text), (text) =>
                  HttpClientResponse.fromWeb(
                    request,
                    new Response(truncate(text), { status: response.status, headers: response.headers })
                  )
                )
          )
      }
    })
  )

/**
 * Replaces the `HttpClient` in context with a fault-injecting one and provides its `FaultInjector` (to switch
 * plans or read the history). Requires the underlying `HttpClient`, e.g. `ReplayHttpClient.layer(...)`.
 */
export const layerClient = (
  plan: FaultPlan = none
): Layer.Layer<HttpClient.HttpClient | FaultInjector, never, HttpClient.HttpClient> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const injector = yield* makeInjector(plan)
      return Context.make(HttpClient.HttpClient, wrapClient(client, injector)).pipe(
        Context.add(FaultInjector, injector)
      )
    })
  )
