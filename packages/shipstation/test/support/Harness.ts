/**
 * Test support: a real HTTP server on a random port serving the ShipStation routes over the in-memory
 * OrderStore, two configured stores, an order builder and a strict XML reader.
 */
import { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { MemoryOrderStore, Order, OrderStore, StoreDirectory, type StoreId, StoreSettings } from "@posbridge/core"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { XMLParser, XMLValidator } from "fast-xml-parser"
import { ShipStationRoutes } from "../../src/index.js"

/** The tests' bridge clock and a ShipStation window ending at it. */
export const now = Date.parse("2024-05-01T10:00:00Z")
export const window = ["05/01/2024 09:00", "05/01/2024 10:00"] as const

export const alpha = { id: "alpha", username: "alpha-user", password: "s3cret-ä" } as const
export const beta = { id: "beta", username: "beta-user", password: "other-pass" } as const

export const settings = (s: { id: string; username: string; password: string }, pageSize: number) =>
  Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
    id: s.id,
    adapter: "lightspeed",
    documentKind: "orders",
    pageSize,
    shipstation: { username: s.username, password: s.password }
  })

export const directoryLayer = (stores: ReadonlyArray<StoreSettings.StoreSettings>) =>
  Layer.succeed(StoreDirectory.StoreDirectory, {
    list: Effect.succeed(stores),
    get: (storeId) => {
      const found = stores.find((s) => s.id === storeId)
      return found ? Effect.succeed(found) : Effect.fail(new StoreDirectory.UnknownStore({ storeId }))
    }
  })

export interface ServerOptions {
  readonly pageSize?: number
  readonly maxBodyBytes?: number
  readonly store?: OrderStore.Options
  /** Changes the memory store's service, e.g. to make one operation fail. */
  readonly alter?: (service: OrderStore.OrderStoreService) => OrderStore.OrderStoreService
}

/** Server + memory store + directory; the store and the HTTP server are visible to the test. */
export const serverLayer = (options: ServerOptions = {}) =>
  HttpRouter.Default.serve().pipe(
    Layer.provide(ShipStationRoutes.layer({ maxBodyBytes: options.maxBodyBytes })),
    Layer.provideMerge(
      Layer.effect(
        OrderStore.OrderStore,
        Effect.map(MemoryOrderStore.make(options.store), (service) => options.alter?.(service) ?? service)
      )
    ),
    Layer.provideMerge(directoryLayer([settings(alpha, options.pageSize ?? 100), settings(beta, 100)])),
    Layer.provideMerge(NodeHttpServer.layerTest)
  )

export const baseUrl = HttpServer.addressWith((address) =>
  Effect.succeed(address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "")
)

export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Headers
}

/** A raw request with global fetch, so headers and bodies are exactly what the test says. */
export const request = (path: string, init: RequestInit = {}) =>
  Effect.flatMap(baseUrl, (base) =>
    Effect.promise(async (): Promise<Reply> => {
      const response = await fetch(`${base}${path}`, init)
      return { status: response.status, body: await response.text(), headers: response.headers }
    })
  )

export const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`

export const alphaAuth = { authorization: basic(alpha.username, alpha.password) }

export const exportPath = (storeId: string, start: string, end: string, page?: number) =>
  `/shipstation/${storeId}?action=export&start_date=${encodeURIComponent(start)}&end_date=${encodeURIComponent(end)}${
    page === undefined ? "" : `&page=${page}`
  }`

const baseOrder = (posRef: string): Order.OrderEncoded => ({
  storeId: "alpha",
  kind: "orders",
  posRef,
  orderNumber: `10${posRef}`,
  orderDate: "2024-05-01T09:00:00.000Z",
  posModifiedAt: "2024-05-01T09:30:00.000Z",
  status: "paid",
  customerCode: "CUST-1",
  billTo: { name: "Ada Lovelace", email: "ada@example.com" },
  shipTo: {
    name: "Ada Lovelace",
    address1: "1 Main St",
    city: "Springfield",
    state: "IL",
    postalCode: "62701",
    country: "US"
  },
  lines: [{ lineId: `${posRef}-1`, sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: "10.00" }],
  orderTotal: "10.00"
})

/** A valid order; `omit` removes optional fields of the base order (e.g. `["shipTo"]`). */
export const makeOrder = (
  posRef: string,
  overrides: Partial<Order.OrderEncoded> = {},
  omit: ReadonlyArray<keyof Order.OrderEncoded> = []
): Order.Order => {
  const encoded: Record<string, unknown> = { ...baseOrder(posRef), ...overrides }
  for (const key of omit) delete encoded[key]
  return Order.decodeSync(encoded)
}

export const ingest = (orders: ReadonlyArray<Order.Order>, storeId = "alpha") =>
  Effect.flatMap(OrderStore.OrderStore, (store) =>
    store.ingest(
      { id: storeId, kind: "orders" },
      orders.map((order) => ({ order })),
      Option.none()
    )
  )

export const storeId = (s: string) => s as StoreId.StoreId

const strictParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  trimValues: false,
  isArray: (_name, jpath) => jpath === "Orders.Order" || jpath === "Orders.Order.Items.Item"
})

export type Node = Record<string, unknown>

/** Validates strictly (throws with the validator's error), then reads the document. */
export const readXml = (xml: string): { pages: string; orders: ReadonlyArray<Node> } => {
  const valid = XMLValidator.validate(xml)
  if (valid !== true) throw new Error(`invalid XML: ${JSON.stringify(valid.err)}`)
  if (!xml.startsWith('<?xml version="1.0" encoding="utf-8"?>')) throw new Error("missing XML declaration")
  const doc = strictParser.parse(xml) as { Orders?: Node }
  if (doc.Orders === undefined) throw new Error("no <Orders> root")
  const root = typeof doc.Orders === "object" ? doc.Orders : {}
  return { pages: String(root["@_pages"]), orders: (root.Order as ReadonlyArray<Node> | undefined) ?? [] }
}

export const password = (s: StoreSettings.StoreSettings) => Redacted.value(s.shipstation.password)
