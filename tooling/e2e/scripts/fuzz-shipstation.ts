/**
 * A million hostile requests to the ShipStation endpoint of a real server, over HTTP (not part of `pnpm test`;
 * the property tests in packages/shipstation/test/Fuzz.test.ts run 10,000 per decoder there).
 *
 *   pnpm fuzz:shipstation [--requests 1000000] [--concurrency 32] [--seed 1]
 *
 * It starts the server as `pnpm start` runs it (apps/server/dist/bin.js; build first) with one Heartland store
 * fed by a simulator, then sends generated requests: exports and ship notices with hostile query strings,
 * Authorization headers and bodies (`@posbridge/shipstation/testing`'s generators), half of them with the
 * store's real credentials so that they reach the decoders. It checks that every answer is one of 200, 400, 401
 * or 413 with one clean sentence (or an XML export), that the server never answers 5xx, crashes or hangs, and at
 * the end that every stored ship notice has its write-back item (no half-stored notice).
 */
import { join } from "node:path"
import { Hostile } from "@posbridge/shipstation/testing"
import Database from "better-sqlite3"
import { FastCheck as fc } from "effect"
import { freePort } from "../src/Processes.js"
import { basic, startServer, tempConfig } from "../src/ServerProcess.js"
import { heartlandSimulator } from "../src/Simulators.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const total = arg("requests", 1_000_000)
const concurrency = arg("concurrency", 32)
const seed = arg("seed", 1)

interface Shape {
  readonly method: "GET" | "POST"
  readonly store: string
  readonly query: URLSearchParams
  readonly authorization: string | undefined
  readonly body: Uint8Array | undefined
  readonly contentType: string | undefined
}

const shape = (auth: string): fc.Arbitrary<Shape> =>
  fc.record({
    method: fc.constantFrom("GET", "POST"),
    store: fc.oneof(
      { weight: 8, arbitrary: fc.constant("shop") },
      fc.constantFrom("nope", "SHOP", "shop%00", "shop%0A", "%F0%9F%98%80")
    ),
    query: fc
      .tuple(fc.constantFrom("export", "shipnotify", "Export", "", "delete"), Hostile.query)
      .map(([action, q]) => {
        if (action !== "") q.set("action", action)
        return q
      }),
    authorization: fc.oneof(
      { weight: 1, arbitrary: fc.constant(auth) },
      { weight: 1, arbitrary: Hostile.authorization }
    ),
    body: fc.option(Hostile.bodyBytes, { nil: undefined }),
    contentType: fc.constantFrom(
      undefined,
      "application/xml",
      "text/xml; charset=utf-8",
      "application/x-www-form-urlencoded"
    )
  })

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const sentence = /^[^\u0000-\u0008\u000b-\u001f\u007f]{1,600}\n$/

const main = async () => {
  const sim = await heartlandSimulator({ orders: 50, token: "hl-token", seed: 9 })
  const { dir, config } = tempConfig("fuzz", [{ id: "shop", simulatorUrl: sim.url, token: "hl-token" }])
  const server = await startServer(config, await freePort())
  const auth = basic("ss", "ss-secret")
  const statuses = new Map<number, number>()
  const failures: Array<string> = []
  let sent = 0
  const started = Date.now()
  const send = async (s: Shape) => {
    const url = `${server.url}/shipstation/${s.store}?${s.query.toString()}`
    const headers: Record<string, string> = {}
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    if (s.authorization !== undefined) headers.authorization = s.authorization.replace(/[\r\n\u0000]/g, " ")
    if (s.contentType !== undefined) headers["content-type"] = s.contentType
    let status = 0
    let text = ""
    try {
      const response = await fetch(url, {
        method: s.method,
        headers,
        ...(s.method === "POST" && s.body !== undefined ? { body: s.body } : {}),
        signal: AbortSignal.timeout(30_000)
      })
      status = response.status
      text = await response.text()
    } catch (e) {
      // A header value fetch itself refuses to send never reached the server; anything else is a failure.
      const cause = String((e as { cause?: unknown }).cause ?? "")
      if (e instanceof TypeError && /header|ByteString/i.test(`${e.message} ${cause}`)) return
      failures.push(
        `${s.method} ${url.slice(0, 200)}: no answer (${String(e)} ${String((e as { cause?: unknown }).cause)})`
      )
      return
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    const ok =
      (status === 200 && (text.startsWith("<?xml") || sentence.test(text))) ||
      ([400, 401, 413].includes(status) && sentence.test(text))
    if (!ok) failures.push(`${s.method} ${url.slice(0, 200)}: ${status} ${JSON.stringify(text.slice(0, 200))}`)
  }
  try {
    const arb = shape(auth)
    for (let batch = 0; sent < total; batch++) {
      const samples = fc.sample(arb, { numRuns: Math.min(2000, total - sent), seed: seed * 1_000_003 + batch })
      let next = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < samples.length) await send(samples[next++]!)
        })
      )
      sent += samples.length
      if (failures.length > 20) break
      if (batch % 50 === 0) {
        const rate = Math.round(sent / ((Date.now() - started) / 1000))
        console.log(`${sent} requests, ${rate}/s, statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
      }
    }
    const alive = await fetch(`${server.url}/healthz`).then(
      (r) => r.status === 200,
      () => false
    )
    if (!alive) failures.push("the server stopped answering /healthz")
  } finally {
    if (failures.length > 0)
      console.log(`server output (last lines):\n${server.output().split("\n").slice(-30).join("\n")}`)
    await server.kill("SIGTERM")
    await sim.close()
  }
  const db = new Database(join(dir, "posbridge.sqlite"), { readonly: true })
  const notices = db.prepare("SELECT COUNT(*) AS n FROM pb_ship_notices").get() as { n: number }
  const halves = db
    .prepare(
      "SELECT COUNT(*) AS n FROM pb_ship_notices n WHERE NOT EXISTS (SELECT 1 FROM pb_outbox o WHERE o.notice_id = n.notice_id)"
    )
    .get() as { n: number }
  db.close()
  if (halves.n > 0) failures.push(`${halves.n} ship notices stored without their write-back item`)
  const seconds = (Date.now() - started) / 1000
  console.log(
    `${sent} requests in ${seconds.toFixed(0)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
      `${notices.n} ship notices stored, ${halves.n} half-stored; ${failures.length} failures`
  )
  for (const f of failures.slice(0, 20)) console.log(`FAIL ${f}`)
  process.exit(failures.length === 0 ? 0 : 1)
}

await main()
