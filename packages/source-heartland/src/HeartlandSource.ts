/**
 * The Heartland `PosSource`: pulls changed Sales Orders or Invoices (per the store's document kind) by
 * `updated_at`, with their lines, items and addresses, and writes ship notices back to an order custom field.
 */
import type { HttpClient } from "@effect/platform"
import { type Order, PosSource, type ShipNotice, type SourceDocument, type StoreSettings } from "@posbridge/core"
import { Chunk, DateTime, Effect, Layer, Option, Schema, Stream } from "effect"
import * as Cursor from "./Cursor.js"
import * as Client from "./internal/client.js"
import * as Mapping from "./internal/mapping.js"
import * as Wire from "./internal/wire.js"
import * as Settings from "./Settings.js"

/** How far back a resumed pull re-reads, to absorb Heartland clock skew and replica lag. */
export const defaultOverlapMillis = 5 * 60_000

export interface Options {
  readonly overlapMillis?: number | undefined
  readonly retry?: Partial<Client.RetryPolicy> | undefined
  /** Concurrent per-document requests (lines) and per-customer address requests. */
  readonly concurrency?: number | undefined
}

const LinePage = Wire.Page(Wire.Line)
const ItemPage = Wire.Page(Wire.Item)
const AddressPage = Wire.Page(Wire.Address)
const OrderPage = Wire.Page(Wire.SalesOrder)
const InvoicePage = Wire.Page(Wire.Invoice)
const Anything = Schema.Unknown

/** Requests made by one pull run, for benchmarks and status. */
export interface RunStats {
  listRequests: number
  lineRequests: number
  itemRequests: number
  addressRequests: number
  distinctItems: number
  distinctCustomers: number
  distinctAddresses: number
  skippedUnreadable: number
}

interface PageState {
  /** Keyset position: the next list request asks for `updated_at >= position`. */
  readonly position: DateTime.Utc
  readonly page: number
  readonly emitted: Cursor.Position
  readonly pagesRead: number
  readonly seen: number
  readonly total: number | undefined
}

const millis = DateTime.toEpochMillis

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): Array<Array<A>> => {
  const out: Array<Array<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export const make = (
  store: Pick<StoreSettings.StoreSettings, "id" | "documentKind">,
  settings: Settings.HeartlandSettings,
  options: Options = {}
): Effect.Effect<PosSource.PosSourceService & { readonly lastRun: () => RunStats }, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const client = yield* Client.make({
      storeId: store.id,
      baseUrl: Settings.baseUrl(settings),
      token: Settings.token(settings),
      retry: { ...Client.defaultRetryPolicy, ...options.retry }
    })
    const overlapMillis = options.overlapMillis ?? defaultOverlapMillis
    const concurrency = options.concurrency ?? 4
    const kind = store.documentKind
    const collection = kind === "orders" ? "/api/sales/orders" : "/api/sales/invoices"
    const mappingOptions: Mapping.MappingOptions = {
      storeId: store.id,
      kind,
      openOrderStatus: settings.openOrderStatus,
      trackingField: settings.trackingField
    }
    let lastRun: RunStats = emptyStats()

    /** All pages of a paged sub-resource (lines of a 150-line order, a customer's address book). */
    const allPages = <A, I>(
      path: string,
      schema: Schema.Schema<{ readonly pages?: number | undefined; readonly results: ReadonlyArray<A> }, I>,
      count: () => void
    ) =>
      Effect.gen(function* () {
        const out: Array<A> = []
        for (let page = 1; ; page++) {
          count()
          const response = yield* client.get(
            path,
            [
              ["page", String(page)],
              ["per_page", "100"]
            ],
            schema
          )
          out.push(...response.results)
          if (response.results.length < 100 || page >= (response.pages ?? 1)) return out
        }
      })

    const pull = (cursor: Option.Option<string>, pullOptions: PosSource.PullOptions) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const start: Cursor.Position = Option.isNone(cursor)
            ? { at: pullOptions.since, ids: new Set() }
            : yield* Option.match(Cursor.decode(cursor.value), {
                onNone: () =>
                  Effect.fail(
                    new PosSource.PosSourceError({
                      kind: "config",
                      message: `The stored Heartland cursor of store ${store.id} is unreadable: ${cursor.value}`
                    })
                  ),
                onSome: Effect.succeed
              })
          const stats = emptyStats()
          lastRun = stats
          // Per-run caches: an item or a customer's address book is fetched at most once per pull.
          const items = new Map<string, Wire.Item>()
          const missingItems = new Set<string>()
          const addresses = new Map<string, Wire.Address>()
          const customersFetched = new Set<string>()

          const fetchItems = (ids: ReadonlyArray<string>) =>
            Effect.forEach(
              chunksOf(
                [...new Set(ids)].filter((id) => !items.has(id) && !missingItems.has(id)),
                100
              ),
              (batch) =>
                Effect.gen(function* () {
                  stats.itemRequests++
                  const response = yield* client.get(
                    "/api/items",
                    [
                      ["_filter", JSON.stringify({ id: { $in: batch.map(numericIfPossible) } })],
                      ["per_page", String(batch.length)]
                    ],
                    ItemPage
                  )
                  for (const item of response.results) items.set(item.id, item)
                  for (const id of batch) if (!items.has(id)) missingItems.add(id)
                }),
              { discard: true }
            )

          const fetchAddresses = (customerIds: ReadonlyArray<string>) =>
            Effect.forEach(
              [...new Set(customerIds)].filter((id) => !customersFetched.has(id)),
              (customerId) =>
                allPages(`/api/customers/${encodeURIComponent(customerId)}/addresses`, AddressPage, () => {
                  stats.addressRequests++
                }).pipe(
                  Effect.tap((list) => {
                    customersFetched.add(customerId)
                    for (const address of list) addresses.set(address.id, address)
                  })
                ),
              { concurrency, discard: true }
            )

          const step = (state: PageState) =>
            Effect.gen(function* () {
              stats.listRequests++
              const listed = yield* client.get(
                collection,
                [
                  // `$gt` one millisecond before the position reads `>= position` with the operators Heartland
                  // is known to support; ties already emitted are skipped below by id.
                  [
                    "_filter",
                    JSON.stringify({
                      updated_at: { $gt: DateTime.formatIso(DateTime.subtract(state.position, { millis: 1 })) }
                    })
                  ],
                  ["sort[]", "updated_at,asc"],
                  ["sort[]", "id,asc"],
                  ["_include[]", "customer"],
                  ["page", String(state.page)],
                  ["per_page", String(settings.perPage)]
                ],
                kind === "orders" ? OrderPage : InvoicePage
              )
              const results = listed.results
              const fresh: Array<{ readonly doc: Wire.SalesOrder | Wire.Invoice; readonly at: DateTime.Utc }> = []
              let maxListed: DateTime.Utc | undefined
              for (const doc of results) {
                const at = Mapping.parseTime(doc.updated_at)
                if (at === undefined) {
                  stats.skippedUnreadable++
                  yield* Effect.logWarning(
                    `Heartland ${kind} ${doc.id} of store ${store.id} has an unreadable updated_at "${doc.updated_at}"; skipped`
                  )
                  continue
                }
                if (maxListed === undefined || millis(at) > millis(maxListed)) maxListed = at
                const alreadyEmitted = millis(at) === millis(state.emitted.at) && state.emitted.ids.has(doc.id)
                if (!alreadyEmitted) fresh.push({ doc, at })
              }

              // Related data for the new documents only.
              const linesByDoc = yield* Effect.forEach(
                fresh,
                ({ doc }) =>
                  allPages(`${collection}/${encodeURIComponent(doc.id)}/lines`, LinePage, () => {
                    stats.lineRequests++
                  }),
                { concurrency }
              )
              yield* fetchItems(linesByDoc.flat().flatMap((line) => (line.item_id ? [line.item_id] : [])))
              yield* fetchAddresses(
                fresh.flatMap(({ doc }) => {
                  const customerId = doc.customer_id ?? doc.customer?.id
                  const needs = doc.shipping_address_id || doc.billing_address_id
                  const known =
                    (!doc.shipping_address_id || addresses.has(doc.shipping_address_id)) &&
                    (!doc.billing_address_id || addresses.has(doc.billing_address_id))
                  return customerId && needs && !known ? [customerId] : []
                })
              )
              stats.distinctItems = items.size
              stats.distinctCustomers = customersFetched.size
              stats.distinctAddresses = addresses.size

              const documents: Array<SourceDocument.SourceDocument> = []
              fresh.forEach(({ doc }, i) => {
                const mapped = Mapping.toSourceDocument(
                  doc,
                  { lines: linesByDoc[i] ?? [], items, addresses },
                  mappingOptions
                )
                if (mapped !== undefined) documents.push(mapped)
              })

              // The committed cursor only ever moves forward and always covers what this batch holds.
              let emitted = state.emitted
              for (const { doc, at } of fresh) {
                if (millis(at) > millis(emitted.at)) emitted = { at, ids: new Set([doc.id]) }
                else if (millis(at) === millis(emitted.at)) emitted = { at, ids: new Set([...emitted.ids, doc.id]) }
              }
              const pagesRead = state.pagesRead + 1
              const seen = state.seen + documents.length
              const total = state.total ?? listed.total
              const batch: PosSource.PullBatch = {
                documents,
                cursor: Cursor.encode(emitted),
                progress: { pages: pagesRead, seen, total }
              }
              const done =
                results.length < settings.perPage || maxListed === undefined || state.page >= (listed.pages ?? Infinity)
              if (done) return [batch, Option.none<PageState>()] as const
              // Keyset paging: restart at page 1 from the newest instant seen, so documents that move while we
              // walk cannot shift unseen ones into pages already read. Only a full page of one instant needs page+1.
              const next: PageState =
                millis(maxListed!) === millis(state.position)
                  ? { ...state, page: state.page + 1, emitted, pagesRead, seen, total }
                  : { position: maxListed!, page: 1, emitted, pagesRead, seen, total }
              return [batch, Option.some(next)] as const
            })

          const initial: PageState = {
            position: Option.isNone(cursor) ? start.at : DateTime.subtract(start.at, { millis: overlapMillis }),
            page: 1,
            emitted: start,
            pagesRead: 0,
            seen: 0,
            total: undefined
          }
          return Stream.paginateChunkEffect(initial, (state) =>
            Effect.map(step(state), ([batch, next]) => [Chunk.of(batch), next] as const)
          )
        })
      ).pipe(Stream.withSpan("HeartlandSource.pull", { attributes: { store: store.id } }))

    const recordShipment = Effect.fn("HeartlandSource.recordShipment")(function* (
      notice: ShipNotice.ShipNotice,
      order: Option.Option<Order.Order>
    ) {
      if (settings.writeBack === "none") {
        return { summary: "Write-back to Heartland is off for this store; the ship notice is kept in posbridge." }
      }
      const posRef = Option.match(order, { onNone: () => notice.orderId, onSome: (o) => o.posRef })
      if (posRef === undefined || posRef === "") {
        return yield* new PosSource.PosSourceError({
          kind: "permanent",
          message: `The ship notice for order ${notice.orderNumber} names no Heartland document; nothing was written.`
        })
      }
      let orderId = posRef
      if (kind === "invoices") {
        // Invoices cannot be edited in Heartland; the tracking goes to the Sales Order the invoice came from.
        const invoice = yield* client.get(`/api/sales/invoices/${encodeURIComponent(posRef)}`, [], Wire.Invoice)
        if (invoice.order_id === undefined || invoice.order_id === null) {
          return yield* new PosSource.PosSourceError({
            kind: "permanent",
            message: `Heartland invoice ${posRef} cannot be edited and has no Sales Order to carry the tracking number; the ship notice is kept in posbridge only.`
          })
        }
        orderId = invoice.order_id
      }
      const path = `/api/sales/orders/${encodeURIComponent(orderId)}`
      const current = yield* client.get(path, [], Wire.SalesOrder)
      const line = trackingLine(notice)
      const existing = Mapping.trackingOf(current, settings.trackingField)
      // Re-delivery of the same notice (a retry after a lost answer) must not append the tracking twice.
      if (existing?.includes(notice.trackingNumber.trim())) {
        return {
          summary: `Heartland sales order ${orderId} already has tracking ${notice.trackingNumber} in custom field ${settings.trackingField}.`
        }
      }
      const value = existing === undefined ? line : `${existing}; ${line}`
      // The whole custom object is sent back, so a PUT that replaces `custom` keeps the merchant's other fields.
      yield* client.put(path, { custom: { ...(current.custom ?? {}), [settings.trackingField]: value } }, Anything)
      return {
        summary: `Wrote "${line}" to custom field ${settings.trackingField} of Heartland sales order ${orderId}.`
      }
    })

    return {
      adapterId: "heartland",
      pull,
      recordShipment,
      lastRun: () => lastRun
    }
  })

/** "carrier service tracking date", the text written to the order's custom field. */
export const trackingLine = (notice: ShipNotice.ShipNotice): string =>
  [notice.carrier, notice.service, notice.trackingNumber, notice.shipDate]
    .map((part) => part?.trim())
    .filter((part): part is string => part !== undefined && part !== "")
    .join(" ")

// Heartland ids are numeric; `$in` is sent with numbers when they look like numbers (as the API returns them).
const numericIfPossible = (id: string): string | number => (/^\d{1,15}$/.test(id) ? Number(id) : id)

const emptyStats = (): RunStats => ({
  listRequests: 0,
  lineRequests: 0,
  itemRequests: 0,
  addressRequests: 0,
  distinctItems: 0,
  distinctCustomers: 0,
  distinctAddresses: 0,
  skippedUnreadable: 0
})

/** Provides the store's `PosSource`, given an `HttpClient`. */
export const layer = (
  store: Pick<StoreSettings.StoreSettings, "id" | "documentKind">,
  settings: Settings.HeartlandSettings,
  options: Options = {}
): Layer.Layer<PosSource.PosSource, never, HttpClient.HttpClient> =>
  Layer.effect(PosSource.PosSource, make(store, settings, options))
