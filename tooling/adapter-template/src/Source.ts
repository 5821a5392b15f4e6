/**
 * The PosSource for __NAME__: pulls orders changed since the cursor (re-reading `overlapMillis` to absorb POS
 * clock skew), one batch per page with the cursor to commit with it. Replace the wire format and the mapping
 * with the real POS API's; keep the cursor rule: resuming from a committed cursor must never skip a document.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Order, PosSource, type StoreSettings } from "@posbridge/core"
import { DateTime, Effect, Layer, Option, Redacted, Schema, Stream } from "effect"
import type { __NAME_PASCAL__Settings } from "./Settings.js"

export const adapterId = "__NAME__"
export const overlapMillis = 60_000

const WireOrder = Schema.Struct({
  id: Schema.String,
  number: Schema.String,
  created_at: Schema.String,
  updated_at: Schema.String,
  customer: Schema.Struct({ code: Schema.String, name: Schema.String }),
  ship_to: Schema.Struct({
    name: Schema.String,
    address1: Schema.String,
    city: Schema.String,
    state: Schema.String,
    postal_code: Schema.String,
    country: Schema.String
  }),
  lines: Schema.Array(
    Schema.Struct({ id: Schema.String, sku: Schema.String, name: Schema.String, qty: Schema.Int, price: Schema.String })
  ),
  total: Schema.String
})
const Page = Schema.Struct({ orders: Schema.Array(WireOrder) })

const fail = (kind: PosSource.PosSourceError["kind"], message: string) =>
  new PosSource.PosSourceError({ kind, message })

export const make = (store: StoreSettings.StoreSettings, settings: __NAME_PASCAL__Settings) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const toOrder = (w: typeof WireOrder.Type): Order.Order =>
      Order.decodeSync({
        storeId: store.id,
        kind: store.documentKind,
        posRef: w.id,
        orderNumber: w.number,
        orderDate: w.created_at,
        posModifiedAt: w.updated_at,
        status: "paid",
        customerCode: w.customer.code,
        billTo: { name: w.customer.name },
        shipTo: {
          name: w.ship_to.name,
          address1: w.ship_to.address1,
          city: w.ship_to.city,
          state: w.ship_to.state,
          postalCode: w.ship_to.postal_code,
          country: w.ship_to.country
        },
        lines: w.lines.map((l) => ({ lineId: l.id, sku: l.sku, name: l.name, quantity: l.qty, unitPrice: l.price })),
        orderTotal: w.total
      })
    const page = (since: DateTime.Utc) =>
      http
        .get(`${settings.baseUrl}/api/orders`, {
          urlParams: { updated_since: DateTime.formatIso(since) },
          headers: { authorization: `Bearer ${Redacted.value(settings.apiToken)}` }
        })
        .pipe(
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Page)),
          Effect.mapError((e) => fail("transient", `__NAME__: ${e.message}`))
        )
    const service: PosSource.PosSourceService = {
      adapterId,
      pull: (cursor, options) =>
        Stream.fromEffect(
          Effect.gen(function* () {
            const since = Option.match(cursor, {
              onNone: () => options.since,
              onSome: (c) => DateTime.subtract(DateTime.unsafeMake(c), { millis: overlapMillis })
            })
            const body = yield* page(since)
            const documents = body.orders.map((w) => ({ order: toOrder(w) }))
            const latest = documents.reduce(
              (max, d) => DateTime.max(max, d.order.posModifiedAt),
              Option.getOrElse(Option.map(cursor, DateTime.unsafeMake), () => options.since)
            )
            return { documents, cursor: DateTime.formatIso(latest) }
          })
        ),
      // The scaffold cannot know how this POS records a shipment: the adapter's author writes this. Until then a
      // notice fails permanently, so it is kept in the outbox and shown to the operator instead of being retried.
      recordShipment: () =>
        Effect.fail(
          fail("permanent", "__NAME__ has no write-back yet; ship notices stay in the outbox for the operator")
        )
    }
    return service
  })

export const layer = (store: StoreSettings.StoreSettings, settings: __NAME_PASCAL__Settings) =>
  Layer.effect(PosSource.PosSource, make(store, settings))
