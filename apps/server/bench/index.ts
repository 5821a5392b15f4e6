/**
 * Export benchmark: pages of 100 orders served over HTTP by posbridge (SQLite, 100,000 orders in the store,
 * the polled window holding 1,000 of them) versus a bare node:http server returning the same bytes from
 * memory, both driven by autocannon in this run. Page 1 (snapshot creation) and later pages are reported apart.
 * autocannon runs in a worker thread: on the server's own thread it would take the event loop from the server
 * it measures (reading a 100 KiB answer costs it more than the bare server spends sending one). A third row,
 * the same bytes from an Effect HTTP route that does nothing else, shows what the HTTP stack alone costs.
 *
 *   pnpm --filter @posbridge/server bench          (BENCH_ORDERS=20000 for a quicker run)
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Order, OrderStore, StoreDirectory, StoreId } from "@posbridge/core"
import { ExportXml, ShipStationRoutes } from "@posbridge/shipstation"
import { SqliteStore } from "@posbridge/store-sql"
import autocannon from "autocannon"
import {
  Context,
  DateTime,
  Effect,
  Layer,
  Logger,
  ManagedRuntime,
  Option,
  Redacted,
  TestClock,
  TestContext
} from "effect"

const total = Number(process.env.BENCH_ORDERS ?? 100_000)
const inWindow = 1_000
const duration = Number(process.env.BENCH_SECONDS ?? 8)
const connections = 10
const T0 = Date.UTC(2026, 0, 1, 0, 0)
const T1 = T0 + 3_600_000
const storeId = StoreId.StoreId.make("bench")
const auth = `Basic ${Buffer.from("ss:secret").toString("base64")}`

const order = (i: number, at: number) =>
  Order.decodeSync({
    storeId,
    kind: "orders",
    posRef: String(100_000 + i),
    orderNumber: `SO-${100_000 + i}`,
    orderDate: new Date(at).toISOString(),
    posModifiedAt: new Date(at).toISOString(),
    status: "paid",
    customerCode: `C${i % 5000}`,
    billTo: { name: "Ada Lovelace", email: "ada@example.com" },
    shipTo: {
      name: "Ada Lovelace",
      address1: "12 Analytical Way",
      city: "London",
      postalCode: "N1 7AA",
      country: "GB"
    },
    lines: [
      { lineId: `${i}-1`, sku: "MUG-01", name: "Mug & saucer", quantity: 2, unitPrice: "12.50" },
      { lineId: `${i}-2`, sku: "TEE-BLK-M", name: "T-shirt «noir» M", quantity: 1, unitPrice: "19.99" }
    ],
    orderTotal: "44.99",
    currency: "USD",
    customerNotes: "Leave at the door"
  })

const run = (url: string, paths: ReadonlyArray<string>) =>
  new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      {
        url,
        connections,
        duration,
        workers: 1,
        headers: { authorization: auth },
        requests: paths.map((path) => ({ method: "GET" as const, path }))
      },
      (err, result) => (err ? reject(err) : resolve(result))
    )
  )

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), "posbridge-export-bench-"))
  const runtime = ManagedRuntime.make(SqliteStore.layer({ filename: join(dir, "bench.sqlite") }))
  try {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    const ref = { id: storeId, kind: "orders" as const }
    const started = performance.now()
    for (let i = 0; i < total; i += 1000) {
      const n = Math.min(1000, total - i)
      const at = i + n > total - inWindow ? T1 : T0
      const docs = Array.from({ length: n }, (_, k) => ({ order: order(i + k, at) }))
      // Stamps come from the clock: the first orders are stamped an hour before the polled window.
      await runtime.runPromise(
        TestClock.setTime(at).pipe(
          Effect.zipRight(store.ingest(ref, docs, Option.none())),
          Effect.provide(TestContext.TestContext)
        )
      )
    }
    console.log(
      `loaded ${total} orders in ${((performance.now() - started) / 1000).toFixed(1)} s (${inWindow} in the polled window)`
    )

    const directory: StoreDirectory.StoreDirectoryService = {
      list: Effect.succeed([]),
      get: () =>
        Effect.succeed({
          id: storeId,
          adapter: "bench",
          documentKind: "orders",
          pageSize: 100,
          timeZone: "utc",
          shipstation: { username: "ss", password: Redacted.make("secret") },
          settings: {}
        })
    }
    // The servers log as they do in production (a logfmt line per page served), into a file rather than
    // between the figures.
    const logFile = openSync(join(dir, "server.log"), "a")
    let logLines = 0
    const logger = Logger.replace(
      Logger.defaultLogger,
      Logger.map(Logger.logfmtLogger, (line) => {
        writeSync(logFile, `${line}\n`)
        logLines++
      })
    )
    /** posbridge on a random port: the route and store given (the store on the benchmark's file). */
    const listen = async (
      routes: ReturnType<typeof ShipStationRoutes.router>,
      orders: OrderStore.OrderStoreService
    ) => {
      const context = Context.make(OrderStore.OrderStore, orders).pipe(
        Context.add(StoreDirectory.StoreDirectory, directory)
      )
      const running = ManagedRuntime.make(
        HttpServer.serve(routes).pipe(
          Layer.provide(Layer.succeedContext(context)),
          Layer.provide(logger),
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
        )
      )
      const address = await running.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
      return { running, url: `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}` }
    }
    const { running: server, url } = await listen(ShipStationRoutes.router(), store)
    // The same, keeping no page between requests (a second store on the same file): every request reads its
    // members and writes its page, as the first read of a page does. Orders are still checked and rendered
    // once per version.
    const unkeptStore = ManagedRuntime.make(
      SqliteStore.layer({ filename: join(dir, "bench.sqlite"), exportPageCache: 0 })
    )
    const unkept = await listen(
      ShipStationRoutes.router({ keptPages: 0 }),
      await unkeptStore.runPromise(OrderStore.OrderStore)
    )
    const window = (page: number) => {
      const d = new Date(T1)
      const f = `${String(d.getUTCMonth() + 1).padStart(2, "0")}/${String(d.getUTCDate()).padStart(2, "0")}/${d.getUTCFullYear()}+${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`
      return `/shipstation/bench?action=export&start_date=${f}&end_date=${f}&page=${page}`
    }
    const first = await fetch(url + window(1), { headers: { authorization: auth } })
    const firstBody = await first.text()
    const pages = Number(/pages="(\d+)"/.exec(firstBody)?.[1])
    if (pages !== inWindow / 100) throw new Error(`expected ${inWindow / 100} pages, got ${pages}`)
    const laterPaths = Array.from({ length: pages - 1 }, (_, i) => window(i + 2))
    const sample = await (await fetch(url + laterPaths[0], { headers: { authorization: auth } })).text()

    const sampleBytes = Buffer.from(sample, "utf8")
    const bare = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/xml; charset=utf-8" })
      res.end(sampleBytes)
    })
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()))
    const bareAddress = bare.address()
    const bareUrl = `http://127.0.0.1:${typeof bareAddress === "object" && bareAddress ? bareAddress.port : 0}`

    const nothing = ManagedRuntime.make(
      HttpServer.serve(
        HttpRouter.empty.pipe(
          HttpRouter.get(
            ShipStationRoutes.path,
            Effect.sync(() => HttpServerResponse.uint8Array(sampleBytes, { contentType: ExportXml.contentType }))
          )
        )
      ).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })))
    )
    const nothingAddress = await nothing.runPromise(Effect.map(HttpServer.HttpServer, (s) => s.address))
    const nothingUrl = `http://127.0.0.1:${nothingAddress._tag === "TcpAddress" ? nothingAddress.port : 0}`

    const baseline = await run(bareUrl, ["/"])
    const stack = await run(nothingUrl, laterPaths)
    const later = await run(url, laterPaths)
    const laterUnkept = await run(unkept.url, laterPaths)
    // The same pages while the POS keeps changing orders of the window (a re-save every 50 ms): each change
    // makes the kept pages stale, so most requests read their members from the database again.
    let changing = true
    let saves = 0
    const resaves = (async () => {
      while (changing) {
        const i = total - inWindow + (saves % inWindow)
        const resaved = { ...order(i, T1), posModifiedAt: DateTime.unsafeMake(T1 + 60_000 + saves) }
        await runtime.runPromise(store.ingest(ref, [{ order: resaved }], Option.none()))
        saves++
        await new Promise((r) => setTimeout(r, 50))
      }
    })()
    const laterChanging = await run(url, laterPaths)
    changing = false
    await resaves
    const pageOne = await run(url, [window(1)])
    bare.close()
    await nothing.dispose()
    await server.dispose()
    await unkept.running.dispose()
    await unkeptStore.dispose()

    closeSync(logFile)
    const rps = (r: autocannon.Result) => r.requests.average
    const row = (name: string, r: autocannon.Result) =>
      console.log(
        `${name.padEnd(34)} ${rps(r).toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(4)} ms   p99 ${String(r.latency.p99).padStart(4)} ms   errors ${r.errors + r.non2xx}`
      )
    console.log(
      `\nexport pages of 100 orders (${(sampleBytes.length / 1024).toFixed(0)} KiB each), ${connections} connections, ${duration} s each, ${logLines} log lines written`
    )
    row("bare node:http, same bytes", baseline)
    row("Effect HTTP route, same bytes", stack)
    row("posbridge later pages (2..10)", later)
    row("  … while orders are re-saved", laterChanging)
    row("  … keeping no page", laterUnkept)
    row("posbridge page 1 (new snapshot)", pageOne)
    console.log(`\nratio later pages / bare: ${(rps(later) / rps(baseline)).toFixed(2)} (target ≥ 0.50)`)
    console.log(
      `ratio later pages, re-saves / bare: ${(rps(laterChanging) / rps(baseline)).toFixed(2)} (${saves} re-saves)`
    )
    console.log(`ratio later pages, no page kept / bare: ${(rps(laterUnkept) / rps(baseline)).toFixed(2)}`)
    console.log(`ratio page 1 / bare:      ${(rps(pageOne) / rps(baseline)).toFixed(2)}`)
    console.log(`ratio Effect route / bare: ${(rps(stack) / rps(baseline)).toFixed(2)} (the HTTP stack alone)`)
  } finally {
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
