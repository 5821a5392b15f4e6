import { HttpClient, HttpClientRequest, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { SimServer } from "../src/index.js"

class Inventory extends Context.Tag("test/Inventory")<Inventory, { readonly price: (sku: string) => string }>() {}

const Line = Schema.Struct({ sku: Schema.String, qty: Schema.Number })

const app = HttpRouter.empty.pipe(
  HttpRouter.post(
    "/api/orders/:id/lines",
    Effect.gen(function* () {
      const { id } = yield* HttpRouter.params
      const line = yield* HttpServerRequest.schemaBodyJson(Line)
      const query = yield* HttpServerRequest.ParsedSearchParams
      const inventory = yield* Inventory
      return yield* HttpServerResponse.json(
        { order: id, sku: line.sku, qty: line.qty, price: inventory.price(line.sku), dryRun: query["dry_run"] },
        { status: 201, headers: { "x-sim": "1" } }
      )
    })
  ),
  HttpRouter.get("/api/broken", Effect.die("boom"))
)

const TestInventory = Layer.succeed(Inventory, { price: (sku) => (sku === "A-1" ? "12.50" : "0") })

describe("SimServer", () => {
  it.effect("the in-process client round-trips a JSON request through an HttpRouter app", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const response = yield* HttpClientRequest.post("https://acme.retail.heartland.us/api/orders/42/lines").pipe(
        HttpClientRequest.setUrlParam("dry_run", "yes"),
        HttpClientRequest.bodyJson({ sku: "A-1", qty: 2 }),
        Effect.flatMap(client.execute)
      )
      expect(response.status).toBe(201)
      expect(response.headers["x-sim"]).toBe("1")
      expect(yield* response.json).toEqual({ order: "42", sku: "A-1", qty: 2, price: "12.50", dryRun: "yes" })
    }).pipe(Effect.provide(SimServer.layerClient(app).pipe(Layer.provide(TestInventory))))
  )

  it.effect("unknown routes answer 404, invalid bodies 400 and defects 500, as a real server would", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      expect((yield* client.get("http://sim/api/nothing")).status).toBe(404)
      expect((yield* client.get("http://sim/api/broken")).status).toBe(500)
      const bad = yield* HttpClientRequest.post("http://sim/api/orders/1/lines").pipe(
        HttpClientRequest.bodyJson({ sku: 1 }),
        Effect.flatMap(client.execute)
      )
      expect(bad.status).toBe(400)
    }).pipe(Effect.provide(SimServer.layerClient(app).pipe(Layer.provide(TestInventory))))
  )
})
