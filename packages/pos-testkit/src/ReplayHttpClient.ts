/**
 * An `HttpClient` that answers from a recorded fixture, strictly in order. Each outgoing request must match the
 * next recorded exchange on method, path, query (an order-insensitive multiset of decoded parameters) and, when
 * the recording has one, the body (deep JSON equality, or form parameters). The host is ignored. The value
 * `"<redacted>"` in a recording matches anything, so redacted secrets replay.
 *
 * A mismatch is a bug in the test or the adapter, not a condition the adapter should handle, so by default it is
 * raised as a defect: retry policies do not retry it and a `TestClock` backoff cannot hang on it. `verify` turns
 * it back into a typed `ReplayMismatch` failure and also fails when recorded exchanges were never requested.
 *
 * @since 0.0.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { type ActualRequest, compare, describeRecorded } from "./internal/compare.js"
import { pathAndQuery, requestBodyText, requestContentType } from "./internal/httpParts.js"
import type { Exchange, RecordedResponse } from "./RecordedExchange.js"

/** One field that differs between the recorded and the actual request. */
export const Difference = Schema.Struct({
  field: Schema.String,
  expected: Schema.String,
  actual: Schema.String
})
export type Difference = typeof Difference.Type

/**
 * A request that does not match the next recorded exchange, or a request made after the last one.
 * `exchangeIndex` is the 0-based index of the exchange that was expected (equal to the number of exchanges for
 * an extra request).
 */
export class ReplayMismatch extends Schema.TaggedError<ReplayMismatch>()("ReplayMismatch", {
  exchangeIndex: Schema.Number,
  request: Schema.String,
  expectedRequest: Schema.optional(Schema.String),
  differences: Schema.Array(Difference)
}) {
  override get message(): string {
    const lines = this.differences.map((d) => `  - ${d.field}: expected ${d.expected} but got ${d.actual}`)
    const head =
      this.expectedRequest === undefined
        ? `unexpected request ${this.request}: all ${this.exchangeIndex} recorded exchanges were already consumed (exchange #${this.exchangeIndex} does not exist)`
        : `request ${this.request} does not match recorded exchange #${this.exchangeIndex} (${this.expectedRequest})`
    return [head, ...lines].join("\n")
  }
}

/** Recorded exchanges that no request consumed: the adapter stopped early or skipped a request. */
export class UnconsumedExchanges extends Schema.TaggedError<UnconsumedExchanges>()("UnconsumedExchanges", {
  total: Schema.Number,
  consumed: Schema.Number,
  remaining: Schema.Array(Schema.Struct({ index: Schema.Number, request: Schema.String }))
}) {
  override get message(): string {
    const list = this.remaining.map((r) => `  - exchange #${r.index}: ${r.request}`)
    return [
      `${this.remaining.length} recorded exchange(s) were never requested (consumed ${this.consumed} of ${this.total}):`,
      ...list
    ].join("\n")
  }
}

export interface Options {
  /**
   * `"die"` (default): a mismatch is a defect carrying the `ReplayMismatch`.
   * `"fail"`: a mismatch is an `HttpClientError.RequestError` (reason `Transport`) whose `cause` is the mismatch,
   * for tests that want to see how an adapter handles transport errors.
   */
  readonly onMismatch?: "die" | "fail" | undefined
  /** Header names also compared when the recording has them (case-insensitive). Default: none. */
  readonly matchHeaders?: ReadonlyArray<string> | undefined
  /** `layer` only: when the scope closes after success, die if exchanges remain unconsumed. Default `true`. */
  readonly checkOnClose?: boolean | undefined
}

/** Control over a running replay: how far it got and the final check. */
export class Replay extends Context.Tag("@posbridge/pos-testkit/ReplayHttpClient/Replay")<
  Replay,
  {
    readonly consumed: Effect.Effect<number>
    readonly mismatches: Effect.Effect<ReadonlyArray<ReplayMismatch>>
    /** Fails with the first mismatch seen, else with the exchanges never requested. */
    readonly assertAllConsumed: Effect.Effect<void, ReplayMismatch | UnconsumedExchanges>
  }
>() {}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

const NULL_BODY_STATUS = new Set([204, 205, 304])

/** A web `Response` for a recorded response; JSON bodies get `content-type: application/json` unless recorded. */
export const toWebResponse = (recorded: RecordedResponse): Response => {
  const headers = new Headers(recorded.headers ?? {})
  let body: string | null = null
  if (recorded.body !== undefined && !NULL_BODY_STATUS.has(recorded.status)) {
    if (typeof recorded.body === "string") {
      body = recorded.body
    } else {
      body = JSON.stringify(recorded.body)
      if (!headers.has("content-type")) headers.set("content-type", "application/json")
    }
  }
  return new Response(body, { status: recorded.status, headers })
}

// ---------------------------------------------------------------------------------------------------------------
// Constructors
// ---------------------------------------------------------------------------------------------------------------

interface State {
  readonly next: number
  readonly mismatches: ReadonlyArray<ReplayMismatch>
}

/** Builds a replaying client and its control without a layer. */
export const make = (
  exchanges: ReadonlyArray<Exchange>,
  options: Options = {}
): Effect.Effect<{ readonly client: HttpClient.HttpClient; readonly replay: Replay["Type"] }> =>
  Effect.gen(function* () {
    const state = yield* Ref.make<State>({ next: 0, mismatches: [] })
    const matchHeaders = options.matchHeaders ?? []

    const handle = (request: HttpClientRequest.HttpClientRequest, url: URL) =>
      Effect.gen(function* () {
        const actual: ActualRequest = {
          method: request.method,
          url,
          headers: request.headers,
          contentType: requestContentType(request),
          bodyText: yield* requestBodyText(request)
        }
        const described = `${request.method} ${pathAndQuery(url)}`
        const outcome = yield* Ref.modify(state, (s): [Exchange | ReplayMismatch, State] => {
          const exchange = exchanges[s.next]
          if (exchange === undefined) {
            const mismatch = new ReplayMismatch({
              exchangeIndex: exchanges.length,
              request: described,
              differences: [{ field: "request", expected: "no further request", actual: described }]
            })
            return [mismatch, { ...s, mismatches: [...s.mismatches, mismatch] }]
          }
          const differences = compare(exchange, actual, matchHeaders)
          if (differences.length === 0) return [exchange, { ...s, next: s.next + 1 }]
          const mismatch = new ReplayMismatch({
            exchangeIndex: s.next,
            request: described,
            expectedRequest: describeRecorded(exchange),
            differences
          })
          return [mismatch, { ...s, mismatches: [...s.mismatches, mismatch] }]
        })
        if (outcome instanceof ReplayMismatch) {
          return yield* options.onMismatch === "fail"
            ? Effect.fail(
                new HttpClientError.RequestError({
                  request,
                  reason: "Transport",
                  cause: outcome,
                  description: outcome.message
                })
              )
            : Effect.die(outcome)
        }
        return HttpClientResponse.fromWeb(request, toWebResponse(outcome.response))
      })

    const client = HttpClient.make((request, url) => handle(request, url))

    const replay: Replay["Type"] = {
      consumed: Effect.map(Ref.get(state), (s) => s.next),
      mismatches: Effect.map(Ref.get(state), (s) => s.mismatches),
      assertAllConsumed: Effect.flatMap(
        Ref.get(state),
        (s): Effect.Effect<void, ReplayMismatch | UnconsumedExchanges> => {
          const first = s.mismatches[0]
          if (first !== undefined) return Effect.fail(first)
          if (s.next >= exchanges.length) return Effect.void
          return Effect.fail(
            new UnconsumedExchanges({
              total: exchanges.length,
              consumed: s.next,
              remaining: exchanges.slice(s.next).map((exchange, i) => ({
                index: s.next + i,
                request: describeRecorded(exchange)
              }))
            })
          )
        }
      )
    }
    return { client, replay }
  })

/**
 * Provides `HttpClient.HttpClient` answering from `exchanges`, plus the `Replay` control. Unless
 * `checkOnClose: false`, closing the layer after a successful effect dies when exchanges remain unconsumed.
 */
export const layer = (
  exchanges: ReadonlyArray<Exchange>,
  options: Options = {}
): Layer.Layer<HttpClient.HttpClient | Replay> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const { client, replay } = yield* make(exchanges, options)
      if (options.checkOnClose !== false) {
        yield* Effect.addFinalizer((exit) =>
          Exit.isSuccess(exit) ? Effect.orDie(replay.assertAllConsumed) : Effect.void
        )
      }
      return Context.make(HttpClient.HttpClient, client).pipe(Context.add(Replay, replay))
    })
  )

/** Fails with the first mismatch seen, else with the exchanges never requested. */
export const assertAllConsumed: Effect.Effect<void, ReplayMismatch | UnconsumedExchanges, Replay> = Effect.flatMap(
  Replay,
  (replay) => replay.assertAllConsumed
)

/** Finds a `ReplayMismatch` in a cause, whether raised as a defect, a failure, or inside a `RequestError`. */
export const findMismatch = <E>(cause: Cause.Cause<E>): Option.Option<ReplayMismatch> =>
  Cause.find(cause, (reason) => {
    const value = reason._tag === "Die" ? reason.defect : reason._tag === "Fail" ? reason.error : undefined
    if (value instanceof ReplayMismatch) return Option.some(value)
    if (value instanceof HttpClientError.RequestError && value.cause instanceof ReplayMismatch) {
      return Option.some(value.cause)
    }
    return Option.none()
  })

/**
 * Runs an adapter effect against the replay and checks the conversation: fails with the first `ReplayMismatch`
 * (even when the adapter swallowed it), then with the effect's own failure, then with `UnconsumedExchanges`.
 */
export const verify = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | ReplayMismatch | UnconsumedExchanges, R | Replay> =>
  Effect.gen(function* () {
    const replay = yield* Replay
    const exit = yield* Effect.exit(self)
    const mismatches = yield* replay.mismatches
    const first = mismatches[0] ?? (Exit.isFailure(exit) ? Option.getOrUndefined(findMismatch(exit.cause)) : undefined)
    if (first !== undefined) return yield* Effect.fail(first)
    const value = yield* exit
    yield* replay.assertAllConsumed
    return value
  })
