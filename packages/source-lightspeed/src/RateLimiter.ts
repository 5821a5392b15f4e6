/**
 * Client-side model of Lightspeed's leaky bucket, fed by the response headers (`X-LS-API-Bucket-Level:
 * 12.5/90`, `X-LS-API-Drip-Rate`, `X-LS-API-Request-Cost`). Before each request it waits until the bucket has
 * room for the request's expected cost, so the bucket never overflows once its level is known. The bucket size
 * is read from the header (it varies by account), never assumed. Time comes from `Clock`, so `TestClock` or a
 * scaled clock drives it.
 */
import { Clock, Duration, Effect, Option, Ref } from "effect"

export interface Bucket {
  /** Level right after the last observed response. */
  readonly level: number
  readonly size: number
  /** Drips per second. */
  readonly drip: number
  /** Clock millis when `level` was observed. */
  readonly at: number
}

export interface Stats {
  readonly waits: number
  readonly waitedMillis: number
}

export interface RateLimiter {
  /** Waits until a request of kind `costKey` fits in the bucket, then reserves its expected cost. */
  readonly acquire: (costKey: string) => Effect.Effect<void>
  /** Reads the bucket headers of a response. */
  readonly observe: (headers: Readonly<Record<string, string | undefined>>, costKey: string) => Effect.Effect<void>
  /** A 429: the bucket is full. Returns how long to wait (Retry-After, else the time to drain one request). */
  readonly rejected: (
    headers: Readonly<Record<string, string | undefined>>,
    costKey: string
  ) => Effect.Effect<Duration.Duration>
  readonly bucket: Effect.Effect<Option.Option<Bucket>>
  readonly stats: Effect.Effect<Stats>
}

export interface Options {
  /** Drips kept free below the size, for header rounding. Default 0.1. */
  readonly margin?: number | undefined
  /** Expected cost of a request kind never seen yet. Default 1. */
  readonly defaultCost?: number | undefined
}

const header = (headers: Readonly<Record<string, string | undefined>>, name: string) => headers[name.toLowerCase()]

/** `"12.5/90"` → `{ level: 12.5, size: 90 }`. */
export const parseLevel = (value: string | undefined): { level: number; size: number } | undefined => {
  const m = /^\s*([\d.]+)\s*\/\s*([\d.]+)\s*$/.exec(value ?? "")
  if (m === null) return undefined
  const level = Number(m[1])
  const size = Number(m[2])
  return Number.isFinite(level) && Number.isFinite(size) && size > 0 ? { level, size } : undefined
}

const positive = (value: string | undefined): number | undefined => {
  const n = Number(value)
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined
}

interface State {
  readonly bucket: Option.Option<Bucket>
  readonly costs: ReadonlyMap<string, number>
  readonly stats: Stats
}

export const make = (options: Options = {}): Effect.Effect<RateLimiter> =>
  Effect.gen(function* () {
    const margin = options.margin ?? 0.1
    const defaultCost = options.defaultCost ?? 1
    const state = yield* Ref.make<State>({
      bucket: Option.none(),
      costs: new Map(),
      stats: { waits: 0, waitedMillis: 0 }
    })
    const lock = yield* Effect.makeSemaphore(1)

    const levelAt = (b: Bucket, now: number) => Math.max(0, b.level - (b.drip * (now - b.at)) / 1000)

    const acquire = (costKey: string) =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          const s = yield* Ref.get(state)
          if (Option.isNone(s.bucket)) return
          const b = s.bucket.value
          const cost = s.costs.get(costKey) ?? defaultCost
          const now = yield* Clock.currentTimeMillis
          const level = levelAt(b, now)
          const excess = level + cost + margin - b.size
          let at = now
          if (excess > 0) {
            const waitMillis = Math.ceil((excess / b.drip) * 1000)
            yield* Effect.sleep(Duration.millis(waitMillis))
            at = yield* Clock.currentTimeMillis
            yield* Ref.update(state, (x) => ({
              ...x,
              stats: { waits: x.stats.waits + 1, waitedMillis: x.stats.waitedMillis + waitMillis }
            }))
          }
          // Reserve the cost until the response tells the real level (keeps concurrent callers honest).
          yield* Ref.update(state, (x) => ({
            ...x,
            bucket: Option.some({ ...b, level: levelAt(b, at) + cost, at })
          }))
        })
      )

    const observe = (headers: Readonly<Record<string, string | undefined>>, costKey: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.update(state, (s) => {
          const parsed = parseLevel(header(headers, "x-ls-api-bucket-level"))
          const drip = positive(header(headers, "x-ls-api-drip-rate"))
          const cost = positive(header(headers, "x-ls-api-request-cost"))
          const costs = cost === undefined ? s.costs : new Map(s.costs).set(costKey, cost)
          if (parsed === undefined) return { ...s, costs }
          const previous = Option.getOrUndefined(s.bucket)
          return {
            ...s,
            costs,
            bucket: Option.some({ level: parsed.level, size: parsed.size, drip: drip ?? previous?.drip ?? 1, at: now })
          }
        })
      )

    const rejected = (headers: Readonly<Record<string, string | undefined>>, costKey: string) =>
      Effect.gen(function* () {
        yield* observe(headers, costKey)
        const now = yield* Clock.currentTimeMillis
        const retryAfter = positive(header(headers, "retry-after"))
        const s = yield* Ref.get(state)
        // Whatever the header said, after a 429 the bucket is treated as full.
        yield* Ref.set(state, {
          ...s,
          bucket: Option.map(s.bucket, (b) => ({ ...b, level: b.size, at: now }))
        })
        if (retryAfter !== undefined) return Duration.seconds(retryAfter)
        const b = Option.getOrUndefined(s.bucket)
        const cost = s.costs.get(costKey) ?? defaultCost
        return Duration.millis(Math.ceil((cost / (b?.drip ?? 1)) * 1000))
      })

    return {
      acquire,
      observe,
      rejected,
      bucket: Effect.map(Ref.get(state), (s) => s.bucket),
      stats: Effect.map(Ref.get(state), (s) => s.stats)
    }
  })
