import { HttpClient, HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"
import { Faults, ReplayHttpClient, SimServer } from "../src/index.js"

const decisions = (plan: Faults.FaultPlan, count: number) =>
  Array.from({ length: count }, (_, i) => Faults.decide(plan, i)?._tag ?? "ok")

const flaky = (seed: number) =>
  Faults.random(seed, [
    { probability: 0.2, fault: Faults.serverError(503) },
    { probability: 0.1, fault: Faults.rateLimited(2) }
  ])

const okExchange = (path: string) => ({
  request: { method: "GET" as const, url: path },
  response: { status: 200, body: { ok: true } }
})

describe("Faults", () => {
  it("the same seed injects the same faults at the same requests; another seed differs", () => {
    const first = decisions(flaky(42), 200)
    expect(decisions(flaky(42), 200)).toEqual(first)
    expect(decisions(flaky(43), 200)).not.toEqual(first)
    const errors = first.filter((d) => d === "ServerError").length
    const limited = first.filter((d) => d === "RateLimited").length
    // 200 draws at 20% and 10%: far from 0 and far from all, and roughly in proportion.
    expect(errors).toBeGreaterThan(20)
    expect(errors).toBeLessThan(60)
    expect(limited).toBeGreaterThan(5)
    expect(limited).toBeLessThan(35)
  })

  it("a seeded Prng replays the same sequence", () => {
    const a = Faults.makePrng(7)
    const b = Faults.makePrng(7)
    const seq = (p: Faults.Prng) => [p.next(), p.nextInt(1000), p.pick(["x", "y", "z"])]
    expect(seq(a)).toEqual(seq(b))
    expect(a.next()).toBeGreaterThanOrEqual(0)
  })

  it.effect("a client wrapper injects a scripted 503, then a 429 with Retry-After, then passes through", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const first = yield* client.get("https://pos/a")
      const second = yield* client.get("https://pos/a")
      const third = yield* client.get("https://pos/a")
      expect(first.status).toBe(503)
      expect(second.status).toBe(429)
      expect(second.headers["retry-after"]).toBe("30")
      expect(second.headers["x-ls-api-ratelimit-type"]).toBe("bucket")
      expect(third.status).toBe(200)
      expect(yield* third.json).toEqual({ ok: true })
      const injector = yield* Faults.FaultInjector
      expect((yield* injector.history).map((d) => d.fault?._tag ?? "ok")).toEqual(["ServerError", "RateLimited", "ok"])
    }).pipe(
      ReplayHttpClient.verify,
      Effect.provide(
        Faults.layerClient(
          Faults.scripted([
            Faults.serverError(503),
            Faults.rateLimited(30, { "x-ls-api-ratelimit-type": "bucket" }),
            null
          ])
        ).pipe(Layer.provideMerge(ReplayHttpClient.layer([okExchange("/a")])))
      )
    )
  )

  it.effect("a malformed response keeps the status but its body is no longer JSON", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get("https://pos/a")
      expect(response.status).toBe(200)
      const text = yield* response.text
      expect(() => JSON.parse(text)).toThrow()
    }).pipe(
      Effect.provide(
        Faults.layerClient(Faults.scripted([Faults.malformed])).pipe(
          Layer.provide(ReplayHttpClient.layer([okExchange("/a")]))
        )
      )
    )
  )

  it.effect("a timeout fault delays in (test) time, and a hung request can be abandoned by the adapter", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const slow = yield* Effect.fork(client.get("https://pos/a"))
      yield* TestClock.adjust("4 seconds")
      expect(Option.isNone(yield* Fiber.poll(slow))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(slow)).status).toBe(200)

      const hung = yield* Effect.fork(client.get("https://pos/b").pipe(Effect.timeout("10 seconds")))
      yield* TestClock.adjust("10 seconds")
      const outcome = yield* Effect.either(Fiber.join(hung))
      expect(outcome._tag).toBe("Left")
    }).pipe(
      Effect.provide(
        Faults.layerClient(Faults.scripted([Faults.timeout(5000), Faults.timeout()])).pipe(
          Layer.provide(ReplayHttpClient.layer([okExchange("/a")]))
        )
      )
    )
  )

  it.effect("a simulator's middleware faults only the covered paths, and the plan can be switched at runtime", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const injector = yield* Faults.FaultInjector
      const statuses = (path: string, n: number) =>
        Effect.forEach(Array.from({ length: n }), () => Effect.map(client.get(`http://sim${path}`), (r) => r.status))

      expect(yield* statuses("/token", 1)).toEqual([200])
      expect(yield* statuses("/api/sales", 2)).toEqual([500, 200])
      yield* injector.setPlan(Faults.scripted([Faults.rateLimited(1)]))
      expect(yield* statuses("/token", 1)).toEqual([429])
      yield* injector.setPlan(Faults.none)
      expect(yield* statuses("/api/sales", 1)).toEqual([200])

      const malformed = yield* Effect.provide(
        Effect.flatMap(HttpClient.HttpClient, (c) => Effect.flatMap(c.get("http://sim/api/sales"), (r) => r.text)),
        SimServer.layerClient(simulator.pipe(HttpRouter.use(Faults.middleware))).pipe(
          Layer.provide(Faults.FaultInjector.layer(Faults.scripted([Faults.malformed])))
        )
      )
      expect(malformed.length).toBeGreaterThan(0)
      expect(() => JSON.parse(malformed)).toThrow()
    }).pipe(
      Effect.provide(
        SimServer.layerClient(simulator, { middleware: Faults.middleware }).pipe(
          Layer.provideMerge(
            Faults.FaultInjector.layer(Faults.scripted([Faults.serverError(500)], { paths: ["/api/"] }))
          )
        )
      )
    )
  )

  it.effect("a simulator that never answers can be abandoned by the adapter's own timeout", () =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const hung = yield* Effect.fork(client.get("http://sim/api/sales").pipe(Effect.timeout("30 seconds")))
      yield* TestClock.adjust("30 seconds")
      const outcome = yield* Effect.either(Fiber.join(hung))
      expect(outcome._tag === "Left" && outcome.left._tag).toBe("TimeoutException")
      expect((yield* client.get("http://sim/api/sales")).status).toBe(200)
    }).pipe(
      Effect.provide(
        SimServer.layerClient(simulator, { middleware: Faults.middleware }).pipe(
          Layer.provide(Faults.FaultInjector.layer(Faults.scripted([Faults.timeout()])))
        )
      )
    )
  )
})

const simulator = HttpRouter.empty.pipe(
  HttpRouter.get("/token", HttpServerResponse.json({ access_token: "t" })),
  HttpRouter.get("/api/sales", HttpServerResponse.json({ results: [{ id: 1 }, { id: 2 }] }))
)
