/**
 * An in-test POS: documents with POS modified times, pulled in pages ordered by (modified time, id) from a
 * cursor, with switchable faults (always fail, delay per response) and counters the tests read (pull starts,
 * pulls in flight). It is a fake on purpose: these tests are about the engine's behaviour, not an adapter's.
 */
import { type Decimal, type Order, PosSource, StoreId, StoreSettings } from "@posbridge/core"
import { Clock, DateTime, Effect, Option, Schema, Stream } from "effect"

export interface Gauge {
  current: number
  max: number
}

export const makeGauge = (): Gauge => ({ current: 0, max: 0 })

export interface FakePosOptions {
  readonly pageSize?: number
  /** Simulated time each response takes (TestClock). */
  readonly delayMillis?: number
  /** Shared across fakes to measure global concurrency. */
  readonly gauge?: Gauge
  readonly reportTotal?: boolean
}

export interface FakePos {
  readonly source: PosSource.PosSourceService
  /** Creates or re-saves document `n` at `at` (the version number goes into the content). */
  readonly save: (n: number, at: DateTime.Utc, version?: number) => void
  readonly documents: Map<string, Order.Order>
  /** Simulated epoch millis of each pull start. */
  readonly pullStarts: Array<number>
  /** Pulls of this store in flight (must never exceed 1). */
  readonly inFlight: Gauge
  fault: PosSource.PosSourceError | undefined
  delayMillis: number
}

const toStoreId = Schema.decodeSync(StoreId.StoreId)

export const order = (storeId: string, n: number, at: DateTime.Utc, version = 1): Order.Order => ({
  storeId: toStoreId(storeId),
  kind: "orders",
  posRef: `${n}`,
  orderNumber: `N-${n}`,
  orderDate: at,
  posModifiedAt: at,
  status: "paid",
  customerCode: `c${n}`,
  billTo: { name: `Customer ${n}` },
  lines: [],
  orderTotal: "1.00" as Decimal.Decimal,
  customerNotes: `version ${version}`
})

export const cursorOf = (o: Order.Order) => `${DateTime.toEpochMillis(o.posModifiedAt)}|${o.posRef.padStart(10, "0")}`

export const makeFakePos = (storeId: string, options: FakePosOptions = {}): FakePos => {
  const pageSize = options.pageSize ?? 100
  const documents = new Map<string, Order.Order>()
  const pullStarts: Array<number> = []
  const inFlight = makeGauge()
  const enter = (g: Gauge) => {
    g.current++
    g.max = Math.max(g.max, g.current)
  }
  const fake: FakePos = {
    documents,
    pullStarts,
    inFlight,
    fault: undefined,
    delayMillis: options.delayMillis ?? 0,
    save: (n, at, version = 1) => {
      documents.set(`${n}`, order(storeId, n, at, version))
    },
    source: {
      adapterId: "fake",
      pull: (cursor, { since }) =>
        Stream.unwrap(
          Effect.gen(function* () {
            pullStarts.push(yield* Clock.currentTimeMillis)
            let position = Option.getOrElse(cursor, () => `${DateTime.toEpochMillis(since)}|`)
            let pages = 0
            let seen = 0
            const respond = Effect.gen(function* () {
              enter(inFlight)
              if (options.gauge) enter(options.gauge)
              if (fake.delayMillis > 0) yield* Effect.sleep(fake.delayMillis)
              if (fake.fault) return yield* Effect.fail(fake.fault)
              const sorted = [...documents.values()]
                .filter((o) => cursorOf(o) > position)
                .sort((a, b) => (cursorOf(a) < cursorOf(b) ? -1 : 1))
              return { page: sorted.slice(0, pageSize), total: sorted.length + seen }
            }).pipe(
              Effect.ensuring(
                Effect.sync(() => {
                  inFlight.current--
                  if (options.gauge) options.gauge.current--
                })
              )
            )
            return Stream.repeatEffectOption(
              Effect.gen(function* () {
                const { page, total } = yield* Effect.mapError(respond, Option.some)
                const last = page[page.length - 1]
                if (last === undefined) return yield* Effect.fail(Option.none())
                position = cursorOf(last)
                pages++
                seen += page.length
                const batch: PosSource.PullBatch = {
                  documents: page.map((o) => ({ order: o })),
                  cursor: position,
                  progress: options.reportTotal ? { pages, seen, total } : { pages, seen }
                }
                return batch
              })
            )
          })
        ),
      recordShipment: () => Effect.succeed({ summary: "nothing" })
    }
  }
  return fake
}

export const settings = (id: string, password = "s3cret-password"): StoreSettings.StoreSettings =>
  Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
    id,
    adapter: "fake",
    documentKind: "orders",
    shipstation: { username: "ss", password }
  })

export const authError = (message: string) => new PosSource.PosSourceError({ kind: "auth", message })
export const transientError = (message: string, retryAfterMillis?: number) =>
  new PosSource.PosSourceError(
    retryAfterMillis === undefined ? { kind: "transient", message } : { kind: "transient", message, retryAfterMillis }
  )
