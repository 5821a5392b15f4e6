/**
 * The PosSource for one Lightspeed store: pulls changed Sales page by page (one committed batch per page) and
 * writes ship notices back as internal Sale notes.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { PosSource, type SourceDocument, type StoreSettings, TokenVault } from "@posbridge/core"
import { DateTime, Duration, Effect, Either, Layer, Option, ParseResult, Stream } from "effect"
import * as ChangeDetection from "./ChangeDetection.js"
import * as Cursor from "./Cursor.js"
import * as Api from "./internal/api.js"
import * as Tokens from "./internal/tokens.js"
import * as Mapping from "./Mapping.js"
import * as RateLimiter from "./RateLimiter.js"
import type { LightspeedSettings } from "./Settings.js"
import * as Wire from "./Wire.js"
import * as WriteBack from "./WriteBack.js"

export const adapterId = "lightspeed"

export interface Options {
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly maxAttempts?: number | undefined
  readonly baseBackoff?: Duration.DurationInput | undefined
}

const malformed = (what: string) => (error: ParseResult.ParseError) =>
  new PosSource.PosSourceError({
    kind: "malformed",
    message: `Lightspeed ${what} has an unexpected shape: ${ParseResult.TreeFormatter.formatErrorSync(error).slice(0, 500)}`
  })

/** Builds the service; exposed (with its limiter and counters) for tests and the benchmark. */
export const makeWithInternals = (
  store: StoreSettings.StoreSettings,
  settings: LightspeedSettings,
  options: Options = {}
) =>
  Effect.gen(function* () {
    if (settings.documentKind !== undefined && settings.documentKind !== store.documentKind) {
      return yield* new PosSource.PosSourceError({
        kind: "config",
        message: `The Lightspeed settings say ${settings.documentKind} but the store sends ${store.documentKind}`
      })
    }
    const http = yield* HttpClient.HttpClient
    const vault = yield* TokenVault.TokenVault
    const limiter = yield* RateLimiter.make()
    const tokens = yield* Tokens.make({ storeId: store.id, settings, http, vault })
    const api = Api.make({ http, tokens, limiter, ...options })
    const base = settings.apiBaseUrl.replace(/\/$/, "")
    const accountUrl = `${base}/API/V3/Account/${settings.accountId}`
    const overlap = Duration.seconds(settings.overlapSeconds)
    const mapping: Mapping.Context = { storeId: store.id, kind: store.documentKind, currency: settings.currency }
    const shops = settings.shopIds === undefined ? undefined : new Set(settings.shopIds)

    /** `next` links are followed as given, only re-rooted on the configured API origin (proxies, the demo server). */
    const onOurOrigin = (next: string): string => {
      const url = new URL(next, base)
      return `${base}${url.pathname}${url.search}`
    }

    const firstPage = (from: DateTime.Utc) =>
      HttpClientRequest.get(`${accountUrl}/Sale.json`).pipe(
        HttpClientRequest.setUrlParams([
          ...ChangeDetection.query(settings.changeField, from),
          ["limit", String(settings.pageLimit)],
          ["load_relations", JSON.stringify(Wire.saleRelations)]
        ])
      )

    interface PageState {
      readonly request: HttpClientRequest.HttpClientRequest
      readonly cursorAt: DateTime.Utc
      readonly from: DateTime.Utc
      readonly pages: number
      readonly seen: number
    }

    const toDocuments = (sales: ReadonlyArray<Wire.Sale>): ReadonlyArray<SourceDocument.SourceDocument> => {
      const byRef = new Map<string, SourceDocument.SourceDocument>()
      for (const sale of sales) {
        if (shops !== undefined && !shops.has(sale.shopID ?? "")) continue
        const result = Mapping.map(sale, mapping)
        if (result._tag === "Skip") continue
        const previous = byRef.get(result.document.order.posRef)
        if (
          previous === undefined ||
          DateTime.greaterThanOrEqualTo(result.document.order.posModifiedAt, previous.order.posModifiedAt)
        ) {
          byRef.set(result.document.order.posRef, result.document)
        }
      }
      return [...byRef.values()]
    }

    let warnedFilter = false

    const page = (s: PageState) =>
      Effect.gen(function* () {
        const raw = yield* api.json(s.request, "GET Sale list")
        const list = yield* Wire.decodeSaleList(raw).pipe(Effect.mapError(malformed("Sale list")))
        const sales = list.Sale ?? []
        let cursorAt = s.cursorAt
        for (const sale of sales) {
          const v = ChangeDetection.fieldValue(sale, settings.changeField)
          if (Option.isNone(v)) continue
          if (DateTime.lessThan(v.value, s.from) && !warnedFilter) {
            // The account ignored the filter: still correct (the cursor only moves forward), but slow. See README.
            warnedFilter = true
            yield* Effect.logWarning(
              `Lightspeed returned Sales older than the ${settings.changeField} filter: the filter seems ignored on this account`
            )
          }
          cursorAt = DateTime.max(cursorAt, v.value)
        }
        const pages = s.pages + 1
        const seen = s.seen + sales.length
        const batch: PosSource.PullBatch = {
          documents: toDocuments(sales),
          cursor: Cursor.encode(Cursor.make(settings.changeField, cursorAt)),
          progress: { pages, seen }
        }
        const next = list["@attributes"]?.next ?? ""
        const following: Option.Option<PageState> =
          next === "" || sales.length === 0
            ? Option.none()
            : Option.some({ request: HttpClientRequest.get(onOurOrigin(next)), cursorAt, from: s.from, pages, seen })
        return [batch, following] as const
      })

    const pull: PosSource.PosSourceService["pull"] = (cursor, { since }) =>
      Stream.unwrap(
        Effect.gen(function* () {
          let cursorAt = since
          let from = since
          if (Option.isSome(cursor)) {
            const decoded = Cursor.decode(cursor.value)
            if (Either.isLeft(decoded)) {
              return yield* new PosSource.PosSourceError({ kind: "config", message: decoded.left })
            }
            cursorAt = decoded.right.at
            // Re-read an overlap: same-second Sales, late writes and skew are read again, never skipped.
            from = DateTime.subtractDuration(cursorAt, overlap)
          }
          return Stream.paginateEffect({ request: firstPage(from), cursorAt, from, pages: 0, seen: 0 }, page)
        })
      )

    const recordShipment: PosSource.PosSourceService["recordShipment"] = (notice, order) =>
      Effect.gen(function* () {
        const posRef = Option.match(order, { onNone: () => notice.orderId, onSome: (o) => o.posRef })
        if (posRef === undefined || posRef === "") {
          return yield* new PosSource.PosSourceError({
            kind: "permanent",
            message: `Ship notice for order ${notice.orderNumber} matches no Lightspeed document`
          })
        }
        let saleId = posRef
        if (store.documentKind === "orders") {
          const raw = yield* api.json(HttpClientRequest.get(`${accountUrl}/Quote/${posRef}.json`), "GET Quote")
          const quote = yield* Wire.decodeQuoteOne(raw).pipe(Effect.mapError(malformed("Quote")))
          saleId = quote.Quote.saleID ?? ""
          if (saleId === "" || saleId === "0") {
            return yield* new PosSource.PosSourceError({ kind: "permanent", message: `Quote ${posRef} has no Sale` })
          }
        }
        const saleUrl = `${accountUrl}/Sale/${saleId}.json`
        const currentRaw = yield* api.json(
          HttpClientRequest.get(saleUrl).pipe(
            HttpClientRequest.setUrlParam("load_relations", JSON.stringify(["SaleNotes", "ShipTo"]))
          ),
          "GET Sale"
        )
        const current = yield* Wire.decodeSaleOne(currentRaw).pipe(Effect.mapError(malformed("Sale")))
        const notes = Option.getOrUndefined(current.Sale.SaleNotes ?? Option.none())
        const existing = Option.getOrUndefined(notes?.InternalNote ?? Option.none())?.note
        if (WriteBack.alreadyRecorded(existing, notice)) {
          return { summary: `Lightspeed Sale ${saleId}: tracking ${notice.trackingNumber} was already in its note` }
        }
        const hasShipTo = Option.isSome(current.Sale.ShipTo ?? Option.none())
        const body = WriteBack.body(existing, notice, { markShipTo: settings.markShipTo, hasShipTo })
        yield* api.json(HttpClientRequest.put(saleUrl).pipe(HttpClientRequest.bodyUnsafeJson(body)), "PUT Sale")
        const flag = settings.markShipTo && hasShipTo ? " and ShipTo marked shipped" : ""
        return { summary: `Lightspeed Sale ${saleId}: internal note "${WriteBack.noteLine(notice)}"${flag}` }
      })

    const service: PosSource.PosSourceService = { adapterId, pull, recordShipment }
    return { service, limiter, api, tokens }
  })

export const make = (
  store: StoreSettings.StoreSettings,
  settings: LightspeedSettings,
  options: Options = {}
): Effect.Effect<PosSource.PosSourceService, PosSource.PosSourceError, HttpClient.HttpClient | TokenVault.TokenVault> =>
  Effect.map(makeWithInternals(store, settings, options), (x) => x.service)

export const layer = (
  store: StoreSettings.StoreSettings,
  settings: LightspeedSettings,
  options: Options = {}
): Layer.Layer<PosSource.PosSource, PosSource.PosSourceError, HttpClient.HttpClient | TokenVault.TokenVault> =>
  Layer.effect(PosSource.PosSource, make(store, settings, options))
