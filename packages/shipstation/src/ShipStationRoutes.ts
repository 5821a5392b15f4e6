/**
 * The endpoint ShipStation calls: `GET|POST /shipstation/{storeId}?action=export|shipnotify`.
 *
 * Every failure gets its own status and a short plain-text sentence, because ShipStation shows non-2xx
 * bodies to the merchant and a 200 with an error body hides the failure (PROTOCOL.md, failure mode 6):
 * 400 bad parameter or body, 401 bad credentials or an unknown store (the same answer, so store ids cannot be
 * listed), 413 body too large, 503 when the order store cannot answer, 500 for anything unexpected. 415 is never used: any content type is read.
 * The raw query string is never logged (it may carry SS-Password).
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import {
  Echo,
  Lru,
  Metrics,
  type Order,
  OrderStore,
  OrderWindow,
  ShipNotice,
  StoreDirectory,
  type StoreSettings
} from "@posbridge/core"
import {
  Cause,
  Clock,
  Data,
  DateTime,
  Duration,
  Effect,
  Either,
  FiberRef,
  LogLevel,
  Metric,
  Option,
  Redacted,
  Stream
} from "effect"
import * as Credentials from "./Credentials.js"
import * as ExportQuery from "./ExportQuery.js"
import * as ExportXml from "./ExportXml.js"
import * as FieldRules from "./FieldRules.js"
import { concat } from "./internal/bytes.js"
import * as ShipNoticeMatch from "./ShipNoticeMatch.js"
import * as ShipNoticeXml from "./ShipNoticeXml.js"

export const path = "/shipstation/:storeId" as const

export interface Options {
  /** Largest accepted ship-notice body; a larger one is answered 413. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /**
   * How many export pages are kept as sent, to be sent again while they hold the same versions of the same
   * orders (a page read again: a retry, a second reader; see `ExportXml.Pages`). Default 128; 0 keeps none.
   */
  readonly keptPages?: number | undefined
  /**
   * Told, per served page, the latest time from a POS save to the ShipStation poll that carried it (seconds): see
   * `saveToPoll`. The server shows it per store.
   */
  readonly onSaveToPoll?: ((storeId: string, seconds: number) => Effect.Effect<void>) | undefined
}

export const defaultMaxBodyBytes = 1024 * 1024

class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{ readonly limit: number }> {
  override get message() {
    return `The request body is larger than the ${Math.floor(this.limit / 1024)} KiB this endpoint accepts.`
  }
}

class BodyUnreadable extends Data.TaggedError("BodyUnreadable")<{ readonly cause: unknown }> {}

const plain = (status: number, sentence: string, headers: Record<string, string> = {}) =>
  HttpServerResponse.text(`${sentence}\n`, {
    status,
    contentType: "text/plain; charset=utf-8",
    headers
  })

const queryOf = (request: HttpServerRequest.HttpServerRequest): URLSearchParams => {
  const url = request.originalUrl
  const i = url.indexOf("?")
  return new URLSearchParams(i < 0 ? "" : url.slice(i + 1))
}

/**
 * Reads the raw body, whatever its content type, refusing more than `limit` bytes. Memory never holds more
 * than `limit` bytes of a hostile body. The rest of an over-long body is read and discarded (up to
 * `drainFactor` × limit) before answering 413, because a client still sending when the connection closes
 * sees a reset instead of the sentence; beyond that the connection is simply dropped.
 */
const drainFactor = 64

const readBody = (request: HttpServerRequest.HttpServerRequest, limit: number) =>
  Effect.gen(function* () {
    const declared = Number(request.headers["content-length"] ?? Number.NaN)
    const tooLarge = new BodyTooLarge({ limit })
    if (Number.isFinite(declared) && declared > limit * drainFactor) return yield* tooLarge
    // One pass over the stream (it cannot be restarted): keep chunks up to the limit, count and discard the rest.
    const chunks: Array<Uint8Array> = []
    const size = yield* request.stream.pipe(
      Stream.mapError((cause) => new BodyUnreadable({ cause })),
      Stream.runFoldWhile(
        0,
        (total) => total <= limit * drainFactor,
        (total, chunk) => {
          if (total + chunk.length <= limit) chunks.push(chunk)
          return total + chunk.length
        }
      )
    )
    if (size > limit) return yield* tooLarge
    const bytes = concat(chunks)
    // Bytes, not text: the body says how it is encoded (a BOM, its XML declaration), see ShipNoticeBody.
    return bytes
  })

/**
 * What export pages keep between requests, keyed by order object identity: the field-rule check of each
 * decoded order, and the rendered markup of each checked one and of whole pages (see `ExportXml.Pages`). An
 * unchanged order comes back from the order store as the same object, so none of it is done twice for it.
 */
interface Memo {
  readonly checks: WeakMap<Order.Order, FieldRules.Result>
  readonly pages: ExportXml.Pages
  /** Per store, the end of the last poll's window (page 1) this process served. */
  readonly lastEnd: Map<string, number>
  /** Per snapshot (poll), the end of the window of the poll before it: versions stamped after it are new. */
  readonly newAfter: Lru.Lru<string, number>
}

const makeMemo = (keptPages: number): Memo => ({
  checks: new WeakMap(),
  pages: new ExportXml.Pages(keptPages),
  lastEnd: new Map(),
  newAfter: new Lru.Lru(1_024)
})

/**
 * Save-to-poll: for each order a poll carries for the first time (stamped after the previous poll's window, which
 * this process served), the time from its POS save to now. The first poll a process serves for a store has no
 * previous window and is not measured; nor are later pages served by a replica that did not serve page 1.
 */
const saveToPoll = (
  memo: Memo,
  storeId: string,
  snapshotId: string,
  snapshotCreated: boolean,
  windowEnd: number,
  served: ReadonlyArray<ExportXml.ExportedOrder>,
  now: number
): ReadonlyArray<number> => {
  if (snapshotCreated) {
    const previous = memo.lastEnd.get(storeId)
    memo.lastEnd.set(storeId, windowEnd)
    if (previous !== undefined) memo.newAfter.set(snapshotId, previous)
  }
  const after = memo.newAfter.get(snapshotId)
  if (after === undefined) return []
  const seconds: Array<number> = []
  for (const o of served) {
    if (DateTime.toEpochMillis(o.stamp) > after) {
      seconds.push(Math.max(0, now - DateTime.toEpochMillis(o.order.posModifiedAt)) / 1000)
    }
  }
  return seconds
}

const checkOnce = (memo: Memo, order: Order.Order): FieldRules.Result => {
  const known = memo.checks.get(order)
  if (known !== undefined) return known
  const checked = FieldRules.check(order)
  memo.checks.set(order, checked)
  return checked
}

const exportOrders = (
  memo: Memo,
  storeId: string,
  settings: Pick<StoreSettings.StoreSettings, "pageSize" | "timeZone">,
  query: URLSearchParams,
  onSaveToPoll: Options["onSaveToPoll"]
) =>
  Effect.gen(function* () {
    const decoded = ExportQuery.decodeExport(query, settings.timeZone)
    if (Either.isLeft(decoded)) return plain(400, decoded.left.sentence)
    const { window, page } = decoded.right
    const store = yield* OrderStore.OrderStore
    // The field rules run inside the export so a held order is never logged as sent and its hold is recorded
    // in the page's own transaction; each version of an order is checked once and the repaired version kept
    // for rendering.
    const hold = (order: Order.Order) => {
      const checked = checkOnce(memo, order)
      return checked._tag === "Held" ? checked.reasons : []
    }
    const result = yield* store.exportPage({ storeId, window, page, pageSize: settings.pageSize, hold })
    // The pages of one poll share its snapshot: a trace shows which pages belong together.
    yield* Effect.annotateCurrentSpan({
      "posbridge.snapshot": result.snapshotId,
      "posbridge.pages": result.pages,
      "posbridge.orders": result.orders.length
    })
    // Repairs are common (a country name on every order) and logged at debug, usually filtered out: the
    // level is read once per page so a filtered-out message is not even built.
    const minimum = yield* FiberRef.get(FiberRef.currentMinimumLogLevel)
    const debug = LogLevel.greaterThanEqual(LogLevel.Debug, minimum)
    const info = LogLevel.greaterThanEqual(LogLevel.Info, minimum)
    // A held order is met on every poll of its window: warn when its hold is new (first met, or for other
    // reasons, or a new version), not each time.
    for (const { order, reasons, isNew } of result.held) {
      if (!isNew) continue
      yield* Effect.logWarning("order held back from ShipStation").pipe(
        Effect.annotateLogs({ posRef: Echo.safe(order.order.posRef), reasons: Echo.safe(reasons.join("; "), 300) })
      )
    }
    const held = result.held.length
    const served: Array<ExportXml.ExportedOrder> = []
    for (const stored of result.orders) {
      const checked = checkOnce(memo, stored.order)
      if (checked._tag === "Ok") {
        served.push({ order: checked.order, stamp: stored.stamp })
        if (debug && checked.repairs.length > 0) {
          yield* Effect.logDebug("order repaired for ShipStation").pipe(
            Effect.annotateLogs({
              posRef: Echo.safe(stored.order.posRef),
              repairs: Echo.safe(checked.repairs.join("; "), 300)
            })
          )
        }
      }
    }
    if (info) {
      yield* Effect.logInfo("export served").pipe(
        Effect.annotateLogs({
          window: OrderWindow.toString(window),
          page,
          pages: result.pages,
          served: served.length,
          held
        })
      )
    }
    // Bytes, not a string: `HttpServerResponse.text` would encode one string of the whole page.
    // A page that froze a new snapshot (page 1; every page in offset mode) is never asked for again as it is.
    const latencies = saveToPoll(
      memo,
      storeId,
      result.snapshotId,
      result.snapshotCreated,
      DateTime.toEpochMillis(window.end),
      served,
      yield* Clock.currentTimeMillis
    )
    for (const seconds of latencies) yield* Metric.update(Metrics.saveToPollSeconds, seconds)
    const latest = latencies.at(-1)
    if (latest !== undefined) {
      yield* Metric.set(Metric.tagged(Metrics.saveToPollLatest, "store", storeId), latest)
      if (onSaveToPoll) yield* onSaveToPoll(storeId, latest)
    }
    const key = `${storeId}\u0000${result.snapshotId}\u0000${page}`
    const bytes = yield* Effect.sync(() => memo.pages.render(key, served, result.pages, !result.snapshotCreated)).pipe(
      Effect.withSpan("ExportXml.render", { attributes: { "posbridge.orders": served.length } })
    )
    return HttpServerResponse.uint8Array(bytes, { contentType: ExportXml.contentType })
  }).pipe(
    Effect.withSpan("ShipStation.export", {
      attributes: { "posbridge.store": storeId, "posbridge.page": query.get("page") ?? "1" }
    })
  )

/** What a poll's answer says about it, for `posbridge_polls`. */
const pollOutcome = (status: number): Metrics.PollOutcome =>
  status < 300 ? "served" : status === 401 ? "refused" : status < 500 ? "invalid" : "failed"

/**
 * Counts the poll (page 1) by store and outcome, and times every export page by kind (first, later). A request
 * for a store this server does not have is counted under `(unknown)`: a label per guessed id would let anyone
 * grow the metrics without bound.
 */
const measured = (
  storeId: string,
  query: URLSearchParams,
  answer: Effect.Effect<
    HttpServerResponse.HttpServerResponse,
    never,
    OrderStore.OrderStore | StoreDirectory.StoreDirectory
  >
) => {
  if (query.get("action")?.toLowerCase() !== "export") return answer
  const first = (query.get("page") ?? "1").trim() === "1"
  return Effect.timed(answer).pipe(
    Effect.tap(([took, response]) =>
      Effect.zipRight(
        Metric.update(
          Metric.tagged(Metrics.exportPageSeconds, "page", first ? "first" : "later"),
          Duration.toMillis(took) / 1000
        ),
        first
          ? Metrics.increment(Metrics.polls, { store: storeId, outcome: pollOutcome(response.status) })
          : Effect.void
      )
    ),
    Effect.map(([, response]) => response)
  )
}

const shipNotify = (
  storeId: string,
  request: HttpServerRequest.HttpServerRequest,
  query: URLSearchParams,
  limit: number
) =>
  Effect.gen(function* () {
    const body = yield* readBody(request, limit)
    const decoded = ShipNoticeXml.decode(storeId, body, query, request.headers["content-type"])
    if (Either.isLeft(decoded)) return plain(400, decoded.left.sentence)
    const match = yield* ShipNoticeMatch.match(decoded.right)
    const notice = ShipNoticeMatch.withProblems(decoded.right, match)
    const stored = yield* OrderStore.OrderStore.pipe(
      Effect.flatMap((store) => store.recordShipNotice(notice, { key: match.key, posRef: match.posRef }))
    )
    // Every value from the request is cut and escaped before it reaches a log line or the answer.
    const order = `order ${Echo.safe(notice.orderNumber)}`
    const annotations = { orderNumber: Echo.safe(notice.orderNumber, 80), matchedBy: match.matchedBy }
    yield* Effect.logInfo("ship notice received").pipe(Effect.annotateLogs({ ...annotations, result: stored._tag }))
    yield* Metrics.increment(Metrics.shipNotices, {
      store: storeId,
      result:
        stored._tag === "Duplicate"
          ? "duplicate"
          : ShipNotice.needsAttention(notice)
            ? "attention"
            : Option.isNone(match.posRef)
              ? "unmatched"
              : "accepted"
    })
    yield* Effect.annotateCurrentSpan({
      "posbridge.notice.result": stored._tag,
      "posbridge.notice.matchedBy": match.matchedBy
    })
    if (stored._tag === "Duplicate")
      return plain(200, `Ship notice for ${order} was already received; nothing more to do.`)
    for (const problem of notice.problems ?? []) {
      yield* Effect.logWarning(
        problem.severity === "attention" ? "ship notice needs attention" : "ship notice value left out"
      ).pipe(Effect.annotateLogs({ ...annotations, problem: Echo.safe(problem.message, 300) }))
    }
    if (ShipNotice.needsAttention(notice)) {
      return plain(
        200,
        `Ship notice for ${order} received; it is kept for the operator, who decides whether it is written back.`
      )
    }
    if (Option.isNone(match.posRef)) {
      return plain(200, `Ship notice for ${order} received; no matching order was found, it is kept for the operator.`)
    }
    return plain(200, `Ship notice for ${order} received.`)
  }).pipe(Effect.withSpan("ShipStation.shipNotify", { attributes: { "posbridge.store": storeId } }))

/**
 * An unknown store answers exactly as a known one with the wrong (or no) credentials, so that store ids cannot
 * be listed by someone without credentials. The presented credentials are still compared, in constant time,
 * against a value no store has.
 */
const unknownStoreCredentials: StoreSettings.ShipStationCredentials = {
  username: "\u0000posbridge-unknown-store",
  password: Redacted.make("\u0000posbridge-unknown-store")
}

const unauthorized = (e: Credentials.Unauthorized) =>
  plain(401, e.message, { "www-authenticate": 'Basic realm="posbridge", charset="UTF-8"' })

/** The handler for one request; needs the order store and the store directory. */
export const handle = (options: Options = {}) => {
  const limit = options.maxBodyBytes ?? defaultMaxBodyBytes
  const memo = makeMemo(Math.max(0, options.keptPages ?? 128))
  const answer = (
    request: HttpServerRequest.HttpServerRequest,
    storeId: string,
    settings: StoreSettings.StoreSettings,
    query: URLSearchParams
  ) =>
    Effect.gen(function* () {
      const refused = Credentials.verify(settings.shipstation, request.headers.authorization, query)
      if (refused !== undefined) return unauthorized(refused)
      const action = ExportQuery.decodeAction(query)
      if (Either.isLeft(action)) return plain(400, action.left.sentence)
      return yield* (
        action.right === "export"
          ? exportOrders(memo, storeId, settings, query, options.onSaveToPoll)
          : shipNotify(storeId, request, query, limit)
      ).pipe(Effect.annotateLogs({ store: storeId }))
    }).pipe(
      Effect.catchTags({
        BodyTooLarge: (e) => Effect.succeed(plain(413, e.message)),
        BodyUnreadable: () => Effect.succeed(plain(400, "The request body could not be read completely.")),
        OrderStoreError: (e) =>
          Effect.logError("order store failed", e).pipe(
            Effect.as(plain(503, "posbridge could not reach its order store; nothing was recorded. Please retry."))
          )
      }),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.logError("ShipStation request failed", cause).pipe(
              Effect.as(plain(500, "posbridge failed to answer this request; the error has been logged."))
            )
      )
    )
  return Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const { storeId = "" } = yield* HttpRouter.params
    const directory = yield* StoreDirectory.StoreDirectory
    const settings = yield* directory.get(storeId).pipe(Effect.option)
    const query = queryOf(request)
    if (Option.isNone(settings)) {
      const refused = Credentials.verify(unknownStoreCredentials, request.headers.authorization, query)
      yield* Effect.logInfo("request for an unknown store").pipe(Effect.annotateLogs({ storeId: Echo.safe(storeId) }))
      return yield* measured(
        "(unknown)",
        query,
        Effect.succeed(unauthorized(refused ?? new Credentials.Unauthorized({ reason: "wrong" })))
      )
    }
    return yield* measured(storeId, query, answer(request, storeId, settings.value, query))
  }).pipe(Effect.annotateLogs({ component: "shipstation" }), Effect.withSpan("ShipStationRoutes.handle"))
}

/** `GET|POST /shipstation/:storeId`, reading the order store and store directory from the context. */
export const router = (options: Options = {}) => {
  const h = handle(options)
  return HttpRouter.empty.pipe(HttpRouter.get(path, h), HttpRouter.post(path, h))
}

/** The routes with their services captured, so the router needs nothing more from the server. */
export const make = (options: Options = {}) =>
  Effect.map(Effect.context<OrderStore.OrderStore | StoreDirectory.StoreDirectory>(), (context) => {
    const h = Effect.provide(handle(options), context)
    return HttpRouter.empty.pipe(HttpRouter.get(path, h), HttpRouter.post(path, h))
  })

/** Mounts the routes on the default `HttpRouter`, beside the server's own routes. */
export const layer = (options: Options = {}) =>
  HttpRouter.Default.use((r) => Effect.flatMap(make(options), (routes) => r.concat(routes)))
