/**
 * The defects found by trying to break the server as an attacker would (issue "no ship notice lost or misread"),
 * each over real HTTP. Rule: a notice ShipStation cannot get accepted is a lost shipment, so only a request that
 * could never be right gets a 4xx; anything else is stored, and what is doubtful waits for the operator.
 */
import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { Effect, HashMap, Logger, Option, TestClock } from "effect"
import * as Harness from "./support/Harness.js"

const { alphaAuth, exportPath, ingest, makeOrder, now, request, serverLayer, window } = Harness

const setup = Effect.gen(function* () {
  yield* TestClock.setTime(now)
  yield* ingest([makeOrder("1"), makeOrder("2")])
})

const notify = (body: string | Uint8Array, query = "", headers: Record<string, string> = {}) =>
  request(`/shipstation/alpha?action=shipnotify${query}`, {
    method: "POST",
    body,
    headers: { ...alphaAuth, "content-type": "application/xml", ...headers }
  })

const outbox = Effect.flatMap(OrderStore.OrderStore, (s) => s.outbox("alpha"))

const shipNotice = (inner: string) => `<?xml version="1.0" encoding="utf-8"?><ShipNotice>${inner}</ShipNotice>`

describe("a second shipment without a tracking number", () => {
  it.effect("is stored, while ShipStation's retry of either shipment is still recognized", () =>
    Effect.gen(function* () {
      yield* setup
      const first = shipNotice(
        "<OrderID>1</OrderID><OrderNumber>101</OrderNumber><Carrier>Other</Carrier><ShipDate>05/01/2024</ShipDate>" +
          "<Items><Item><SKU>A</SKU><Quantity>1</Quantity></Item></Items>"
      )
      const second = shipNotice(
        "<OrderID>1</OrderID><OrderNumber>101</OrderNumber><Carrier>Other</Carrier><ShipDate>05/03/2024</ShipDate>" +
          "<Items><Item><SKU>B</SKU><Quantity>2</Quantity></Item></Items>"
      )
      const answers = [yield* notify(first), yield* notify(second), yield* notify(first), yield* notify(second)]
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200])
      expect(answers.map((a) => a.body.includes("already received"))).toEqual([false, false, true, true])
      const items = yield* outbox
      expect(items.map((o) => o.notice.items.map((i) => i.sku))).toEqual([["A"], ["B"]])
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("repeated single-valued elements", () => {
  it.effect("two TrackingNumbers: stored as received, marked for attention, answered 200, never written back", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* notify(
        shipNotice(
          "<OrderID>1</OrderID><OrderNumber>101</OrderNumber><Carrier>UPS</Carrier>" +
            "<TrackingNumber>1Z111</TrackingNumber><TrackingNumber>1Z222</TrackingNumber>"
        )
      )
      expect(reply.status).toBe(200)
      const [item] = yield* outbox
      expect(item?.state).toBe("attention")
      expect(item?.notice.trackingNumber).not.toBe("")
      expect(item?.notice.problems?.map((p) => p.message).join(" ")).toMatch(/2 <TrackingNumber>.*1Z111.*1Z222/)
      const claimed = yield* Effect.flatMap(OrderStore.OrderStore, (s) =>
        s.claimWriteBacks({ limit: 10, leaseFor: "1 minute" as never })
      )
      expect(claimed).toEqual([])
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("two OrderNumbers: not matched to the query's order, marked for attention", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* notify(
        shipNotice("<OrderNumber>101</OrderNumber><OrderNumber>102</OrderNumber><TrackingNumber>T</TrackingNumber>"),
        "&order_number=101"
      )
      expect(reply.status).toBe(200)
      const [item] = yield* outbox
      expect(item?.state).toBe("attention")
      expect(item?.posRef).toEqual(Option.none())
      expect(item?.notice.problems?.map((p) => p.message).join(" ")).toMatch(/2 <OrderNumber>/)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("character references and the five predefined entities", () => {
  it.effect("are decoded; a DOCTYPE stays refused", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* notify(
        shipNotice(
          "<OrderID>1</OrderID><OrderNumber>101</OrderNumber><TrackingNumber>T1</TrackingNumber>" +
            "<NotesToCustomer>&#169; &#x1F600; &amp;&lt;&gt;&quot;&apos; <![CDATA[&amp; stays]]></NotesToCustomer>"
        )
      )
      expect(reply.status).toBe(200)
      const [item] = yield* outbox
      expect(item?.notice.notesToCustomer).toBe("© 😀 &<>\"' &amp; stays")
      const doctype = yield* notify('<!DOCTYPE x [<!ENTITY e "boom">]><ShipNotice>&e;</ShipNotice>')
      expect(doctype.status).toBe(400)
      const undefinedEntity = yield* notify(shipNotice("<OrderNumber>&nbsp;101</OrderNumber>"))
      expect([undefinedEntity.status, undefinedEntity.body]).toEqual([400, expect.stringMatching(/&nbsp;/)])
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("the encoding declaration and a byte-order mark", () => {
  const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))
  it.effect("ISO-8859-1 is read as ISO-8859-1; UTF-16 with a BOM is read; an unknown encoding is a 400 naming it", () =>
    Effect.gen(function* () {
      yield* setup
      const body = latin1(
        '<?xml version="1.0" encoding="ISO-8859-1"?><ShipNotice><OrderID>1</OrderID><OrderNumber>101</OrderNumber>' +
          "<TrackingNumber>T1</TrackingNumber><Recipient><Name>José Müller</Name></Recipient></ShipNotice>"
      )
      expect((yield* notify(body)).status).toBe(200)
      const utf16 = shipNotice(
        "<OrderID>2</OrderID><OrderNumber>102</OrderNumber><TrackingNumber>T2</TrackingNumber><Recipient><Name>Zoë</Name></Recipient>"
      ).replace('encoding="utf-8"', 'encoding="UTF-16"')
      const bytes = new Uint8Array(2 + utf16.length * 2)
      bytes.set([0xff, 0xfe])
      for (let i = 0; i < utf16.length; i++) {
        bytes[2 + 2 * i] = utf16.charCodeAt(i) & 0xff
        bytes[3 + 2 * i] = utf16.charCodeAt(i) >> 8
      }
      expect((yield* notify(bytes)).status).toBe(200)
      const names = (yield* outbox).map((o) => o.notice.recipient?.name)
      expect(names).toEqual(["José Müller", "Zoë"])
      const unknown = yield* notify('<?xml version="1.0" encoding="x-klingon"?><ShipNotice/>')
      expect(unknown.status).toBe(400)
      expect(unknown.body).toContain("x-klingon")
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("log injection and unbounded fields", () => {
  it.effect(
    "a field over 4 KB is a 400 naming it; a line break cannot forge a log line or reach the answer raw",
    () => {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message, annotations }) => {
          lines.push(String(message))
          for (const [, value] of HashMap.toEntries(annotations)) lines.push(String(value))
        })
      )
      return Effect.gen(function* () {
        yield* setup
        const huge = yield* notify(shipNotice(`<OrderNumber>${"9".repeat(300_000)}</OrderNumber>`))
        expect(huge.status).toBe(400)
        expect(huge.body).toContain("OrderNumber")
        expect(huge.body.length).toBeLessThan(400)
        const forged = "101\n[10:00:00.000] INFO (#1): admin password reset"
        const reply = yield* notify(
          "",
          `&order_number=${encodeURIComponent(forged)}&carrier=UPS&tracking_number=T9`
        ).pipe(Effect.provide(capture))
        expect(reply.status).toBe(200)
        expect(reply.body.trim().split("\n")).toHaveLength(1)
        expect(lines.length).toBeGreaterThan(0)
        expect(lines.some((l) => /[\r\n]/.test(l))).toBe(false)
        const long = "8".repeat(3000)
        const longReply = yield* notify("", `&order_number=${long}&carrier=UPS&tracking_number=T10`)
        expect(longReply.status).toBe(200)
        expect(longReply.body.length).toBeLessThan(300)
      }).pipe(Effect.provide(serverLayer()), Effect.provide(capture))
    }
  )
})

describe("errors that echo a value", () => {
  it.effect("cut it and escape control characters, like action and page", () =>
    Effect.gen(function* () {
      const bad = `05/01/2024 09:00\u0000\r\nX-Injected: 1${"z".repeat(500)}`
      const reply = yield* request(exportPath("alpha", bad, window[1]), { headers: alphaAuth })
      expect(reply.status).toBe(400)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      expect(reply.body).not.toMatch(/[\u0000\r]/)
      expect(reply.body.trim().split("\n")).toHaveLength(1)
      expect(reply.body.length).toBeLessThan(400)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("store ids cannot be listed", () => {
  it.effect("an unknown store and a real one give an unauthenticated caller the same 401", () =>
    Effect.gen(function* () {
      const real = yield* request(exportPath("alpha", ...window))
      const unknown = yield* request(exportPath("no-such-store", ...window))
      expect([real.status, unknown.status]).toEqual([401, 401])
      expect(unknown.body).toBe(real.body)
      expect(unknown.headers.get("www-authenticate")).toBe(real.headers.get("www-authenticate"))
      const withCredentials = yield* request(exportPath("no-such-store", ...window), { headers: alphaAuth })
      expect(withCredentials.status).toBe(401)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("values that cannot be used are not dropped silently", () => {
  it.effect("a bad ShippingCost or NotifyCustomer is noted; an OrderID and OrderNumber naming two orders waits", () =>
    Effect.gen(function* () {
      yield* setup
      yield* notify(
        shipNotice(
          "<OrderID>1</OrderID><OrderNumber>101</OrderNumber><TrackingNumber>T1</TrackingNumber>" +
            "<ShippingCost>seven</ShippingCost><NotifyCustomer>maybe</NotifyCustomer>"
        )
      )
      yield* notify(shipNotice("<OrderID>1</OrderID><OrderNumber>102</OrderNumber><TrackingNumber>T2</TrackingNumber>"))
      const [noted, mismatched] = yield* outbox
      expect(noted?.state).toBe("pending")
      expect(noted?.notice.problems?.map((p) => [p.severity, p.message])).toEqual([
        ["note", expect.stringMatching(/ShippingCost "seven"/)],
        ["note", expect.stringMatching(/NotifyCustomer "maybe"/)]
      ])
      expect(mismatched?.state).toBe("attention")
      expect(mismatched?.notice.problems?.[0]?.message).toMatch(/OrderID "1".*OrderNumber "102"/)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("a notice the order store could not record", () => {
  it.effect("is answered 503 with a sentence asking ShipStation to retry, never 200", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* notify(
        shipNotice("<OrderID>1</OrderID><OrderNumber>101</OrderNumber><TrackingNumber>1ZDOWN</TrackingNumber>")
      )
      expect(reply.status).toBe(503)
      expect(reply.body).toBe("posbridge could not reach its order store; nothing was recorded. Please retry.\n")
      expect(yield* outbox).toEqual([])
    }).pipe(
      Effect.provide(
        serverLayer({
          alter: (service) => ({
            ...service,
            recordShipNotice: () =>
              Effect.fail(new OrderStore.OrderStoreError({ operation: "recordShipNotice", message: "disk full" }))
          })
        })
      )
    )
  )
})
