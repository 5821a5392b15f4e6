import { HttpClient, HttpClientError, HttpClientRequest, HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { RecordedExchange, RecordingHttpClient, ReplayHttpClient, SimServer } from "../src/index.js"

const exchanges: ReadonlyArray<RecordedExchange.Exchange> = [
  {
    request: {
      method: "GET",
      url: "/API/V3/Account/1/Sale.json?timeStamp=%3E%2C2024-01-01T00%3A00%3A00%2B00%3A00&limit=100&load_relations=%5B%22SaleLines%22%5D"
    },
    response: { status: 200, headers: { "x-ls-api-bucket-level": "2/90" }, body: { Sale: { saleID: "7" } } }
  },
  {
    request: {
      method: "PUT",
      url: "/API/V3/Account/1/Sale/7.json",
      body: { SaleNotes: { InternalNote: { note: "Shipped UPS 1Z" } }, token: "<redacted>" }
    },
    response: { status: 200, body: { Sale: { saleID: "7" } } }
  }
]

// The adapter-shaped program under test: one list call, one write-back.
const program = (options: { readonly since?: string; readonly note?: string; readonly stopEarly?: boolean } = {}) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const list = yield* client.execute(
      HttpClientRequest.get("https://api.lightspeedapp.com/API/V3/Account/1/Sale.json").pipe(
        HttpClientRequest.setUrlParams({
          load_relations: '["SaleLines"]',
          limit: "100",
          timeStamp: `>,${options.since ?? "2024-01-01T00:00:00+00:00"}`
        })
      )
    )
    const body = yield* list.json
    if (options.stopEarly) return { body, bucket: list.headers["x-ls-api-bucket-level"] }
    const put = yield* HttpClientRequest.put("https://elsewhere.example/API/V3/Account/1/Sale/7.json").pipe(
      HttpClientRequest.bodyJson({
        token: "real-secret",
        SaleNotes: { InternalNote: { note: options.note ?? "Shipped UPS 1Z" } }
      }),
      Effect.flatMap(client.execute)
    )
    return { body, bucket: list.headers["x-ls-api-bucket-level"], putStatus: put.status }
  })

const messageOf = (error: object): string => ("message" in error ? String(error.message) : JSON.stringify(error))

const replay = (options?: ReplayHttpClient.Options) => ReplayHttpClient.layer(exchanges, options)

describe("ReplayHttpClient", () => {
  it.effect("a matching sequence gets the recorded responses, whatever the host and the query order", () =>
    Effect.gen(function* () {
      const result = yield* ReplayHttpClient.verify(program())
      expect(result).toEqual({ body: { Sale: { saleID: "7" } }, bucket: "2/90", putStatus: 200 })
    }).pipe(Effect.provide(replay()))
  )

  // Each way a run can stray from the recording, and what the error then says.
  const strays: ReadonlyArray<{
    readonly name: string
    readonly run: Effect.Effect<unknown, unknown, HttpClient.HttpClient>
    readonly tag: string
    readonly says: ReadonlyArray<string>
  }> = [
    {
      name: "a wrong query parameter fails naming the exchange, the parameter and both values",
      run: program({ since: "2023-12-31T00:00:00+00:00" }),
      tag: "ReplayMismatch",
      says: [
        "recorded exchange #0",
        'query param "timeStamp"',
        'expected ">,2024-01-01T00:00:00+00:00" but got ">,2023-12-31T00:00:00+00:00"'
      ]
    },
    {
      name: "a different JSON body fails naming the body path",
      run: program({ note: "Shipped FedEx" }),
      tag: "ReplayMismatch",
      says: [
        "recorded exchange #1 (PUT /API/V3/Account/1/Sale/7.json)",
        'body.SaleNotes.InternalNote.note: expected "Shipped UPS 1Z" but got "Shipped FedEx"'
      ]
    },
    {
      name: "a request after the last exchange fails naming the missing exchange",
      run: Effect.zipRight(
        program(),
        Effect.flatMap(HttpClient.HttpClient, (c) => c.get("https://api/API/V3/Account/1/Item.json"))
      ),
      tag: "ReplayMismatch",
      says: ["unexpected request GET /API/V3/Account/1/Item.json", "exchange #2 does not exist"]
    },
    {
      name: "a missing request fails listing the exchanges never requested",
      run: program({ stopEarly: true }),
      tag: "UnconsumedExchanges",
      says: ["consumed 1 of 2", "exchange #1: PUT /API/V3/Account/1/Sale/7.json"]
    }
  ]
  for (const stray of strays) {
    it.effect(stray.name, () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(ReplayHttpClient.verify(stray.run))
        expect(error).toHaveProperty("_tag", stray.tag)
        for (const fragment of stray.says) expect(messageOf(error as object)).toContain(fragment)
      }).pipe(Effect.provide(replay({ checkOnClose: false })))
    )
  }

  it.effect("the layer itself fails a successful test that left exchanges unconsumed", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(program({ stopEarly: true }).pipe(Effect.provide(replay())))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("never requested")
    })
  )

  it.effect("a mismatch is a defect by default, so adapter retries cannot swallow it", () =>
    Effect.gen(function* () {
      const retried = program({ since: "2020-01-01T00:00:00+00:00" }).pipe(Effect.retry({ times: 3 }))
      const exit = yield* Effect.exit(retried)
      expect(Exit.isFailure(exit) && ReplayHttpClient.findMismatch(exit.cause)._tag).toBe("Some")
    }).pipe(Effect.provide(replay({ checkOnClose: false })))
  )

  it.effect("with onMismatch: fail the adapter sees a transport error carrying the mismatch", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(program({ since: "2020-01-01T00:00:00+00:00" }))
      expect(error).toBeInstanceOf(HttpClientError.RequestError)
      expect(messageOf(error)).toContain('query param "timeStamp"')
      const mismatches = yield* Effect.flatMap(ReplayHttpClient.Replay, (r) => r.mismatches)
      expect(mismatches).toHaveLength(1)
    }).pipe(Effect.provide(replay({ onMismatch: "fail", checkOnClose: false })))
  )

  it.effect("a recording made through RecordingHttpClient is redacted and replays", () =>
    Effect.gen(function* () {
      const pos = HttpRouter.empty.pipe(
        HttpRouter.get("/API/V3/Account/1/Sale.json", HttpServerResponse.json({ Sale: { saleID: "7" } })),
        HttpRouter.put("/API/V3/Account/1/Sale/7.json", HttpServerResponse.json({ Sale: { saleID: "7" } }))
      )
      const recorded = yield* Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        yield* client.execute(
          HttpClientRequest.get("http://pos/API/V3/Account/1/Sale.json?limit=100&access_token=live").pipe(
            HttpClientRequest.bearerToken("live-token")
          )
        )
        const recorder = yield* RecordingHttpClient.Recorder
        return yield* recorder.exchanges
      }).pipe(Effect.provide(RecordingHttpClient.layer().pipe(Layer.provide(SimServer.layerClient(pos)))))

      expect(recorded).toHaveLength(1)
      const [exchange] = recorded
      expect(exchange?.request.url).toBe("/API/V3/Account/1/Sale.json?limit=100&access_token=%3Credacted%3E")
      expect(exchange?.request.headers?.["authorization"]).toBe("<redacted>")
      expect(exchange?.response).toMatchObject({ status: 200, body: { Sale: { saleID: "7" } } })
      expect(JSON.stringify(recorded)).not.toContain("live")

      const fixture = yield* RecordedExchange.decodeFixture(
        JSON.parse(
          RecordedExchange.encodeFixture({ description: "d", adapter: "lightspeed", settings: {}, exchanges: recorded })
        ),
        "recorded.json"
      )
      const replayed = yield* Effect.gen(function* () {
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get("https://api/API/V3/Account/1/Sale.json?access_token=other&limit=100")
        return yield* response.json
      }).pipe(ReplayHttpClient.verify, Effect.provide(ReplayHttpClient.layer(fixture.exchanges)))
      expect(replayed).toEqual({ Sale: { saleID: "7" } })
    })
  )
})
