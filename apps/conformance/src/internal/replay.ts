/**
 * Replay clients for the adapter checks, built on pos-testkit's strict `ReplayHttpClient`:
 * - `strict`: the recording in order, plus the virtual time of every request (for the Retry-After check) and an
 *   optional kill switch that stops the adapter when it asks for exchange k (the resumability check).
 * - `resume`: what a restarted adapter talks to. It answers each request with a recorded exchange that matches
 *   it exactly (first from the current position on, then from the start: caches are cold after a restart), or,
 *   failing that, with a recorded exchange whose request differs only in the instants inside query values (a
 *   resumed pull asks "changed since cursor − overlap", which was never recorded). Among those it picks the one
 *   recorded with the latest instant not after the requested one, whose answer holds everything the live POS
 *   would have answered: re-reads are absorbed by the refresh rule, exactly as after a real crash.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { type RecordedExchange, ReplayHttpClient } from "@posbridge/pos-testkit"
import { Clock, Data, Effect, Option, Ref } from "effect"

export class Killed extends Data.TaggedError("Killed")<{ readonly atExchange: number }> {
  override get message() {
    return `stopped before exchange #${this.atExchange}`
  }
}

export interface Timed {
  readonly index: number
  readonly atMillis: number
}

export const strict = (
  exchanges: ReadonlyArray<RecordedExchange.Exchange>,
  options: { readonly killAt?: number } = {}
) =>
  Effect.gen(function* () {
    const { client, replay } = yield* ReplayHttpClient.make(exchanges)
    const times = yield* Ref.make<ReadonlyArray<Timed>>([])
    const wrapped = HttpClient.transform(client, (effect) =>
      Effect.gen(function* () {
        const index = yield* replay.consumed
        if (options.killAt !== undefined && index >= options.killAt)
          return yield* Effect.die(new Killed({ atExchange: index }))
        const atMillis = yield* Clock.currentTimeMillis
        const response = yield* effect
        yield* Ref.update(times, (t) => [...t, { index, atMillis }])
        return response
      })
    )
    return { client: wrapped, replay, times: Ref.get(times) }
  })

const instant = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g

const mask = (value: string) => value.replace(instant, "<instant>")
const instantsOf = (value: string): ReadonlyArray<number> =>
  Array.from(value.matchAll(instant), (m) => Date.parse(m[0]))

const params = (url: URL): ReadonlyArray<readonly [string, string]> =>
  [...url.searchParams.entries()].sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))

/** The request instant sum is a comparable "how far back does this ask" for same-shaped requests. */
const shapeMatch = (recorded: URL, actual: URL): Option.Option<number> => {
  if (recorded.pathname !== actual.pathname) return Option.none()
  const r = params(recorded)
  const a = params(actual)
  if (r.length !== a.length) return Option.none()
  let recordedInstants = 0
  let actualInstants = 0
  let differs = false
  for (let i = 0; i < r.length; i++) {
    const [rk, rv] = r[i]!
    const [ak, av] = a[i]!
    if (rk !== ak || mask(rv) !== mask(av)) return Option.none()
    if (rv !== av) {
      differs = true
      recordedInstants += instantsOf(rv).reduce((x, y) => x + y, 0)
      actualInstants += instantsOf(av).reduce((x, y) => x + y, 0)
    }
  }
  return differs ? Option.some(actualInstants - recordedInstants) : Option.none()
}

export const resume = (exchanges: ReadonlyArray<RecordedExchange.Exchange>, startAt: number, maxRequests: number) =>
  Effect.gen(function* () {
    const position = yield* Ref.make(startAt)
    const count = yield* Ref.make(0)
    const tryExchange = (exchange: RecordedExchange.Exchange, request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function* () {
        const single = yield* ReplayHttpClient.make([exchange], { onMismatch: "fail" })
        return yield* single.client.execute(request).pipe(Effect.option)
      })
    const client = HttpClient.make((request, url) =>
      Effect.gen(function* () {
        const n = yield* Ref.getAndUpdate(count, (c) => c + 1)
        if (n >= maxRequests) {
          return yield* Effect.die(
            new Error(`the resumed pull made more than ${maxRequests} requests without finishing`)
          )
        }
        const from = yield* Ref.get(position)
        const order = [...exchanges.keys()].slice(from).concat([...exchanges.keys()].slice(0, from))
        for (const i of order) {
          const answer = yield* tryExchange(exchanges[i]!, request)
          if (Option.isSome(answer)) {
            yield* Ref.set(position, i + 1)
            return answer.value
          }
        }
        // No exact match: a cursor-derived query. Prefer the latest recorded instant not after the requested one.
        const candidates = order.flatMap((i) => {
          const ex = exchanges[i]!
          if (ex.request.method !== request.method) return []
          const gap = shapeMatch(new URL(ex.request.url, "http://x"), url)
          return Option.isSome(gap) ? [{ i, gap: gap.value }] : []
        })
        const notAfter = candidates.filter((c) => c.gap >= 0).sort((a, b) => a.gap - b.gap)
        const before = candidates.filter((c) => c.gap < 0).sort((a, b) => b.gap - a.gap)
        for (const c of [...notAfter, ...before]) {
          const ex = exchanges[c.i]!
          const retargeted = { ...ex, request: { ...ex.request, url: `${url.pathname}${url.search}` } }
          const answer = yield* tryExchange(retargeted, request)
          if (Option.isSome(answer)) {
            yield* Ref.set(position, c.i + 1)
            return answer.value
          }
        }
        return yield* Effect.die(
          new Error(
            `the resumed pull asked ${request.method} ${url.pathname}${url.search}, which the recording cannot answer`
          )
        )
      })
    )
    return client
  })
