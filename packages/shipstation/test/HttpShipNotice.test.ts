import { describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { Effect, Option, TestClock } from "effect"
import { alphaAuth, ingest, makeOrder, request, serverLayer } from "./support/Harness.js"

const now = Date.parse("2024-05-01T10:00:00Z")
const setup = Effect.gen(function* () {
  yield* TestClock.setTime(now)
  yield* ingest([makeOrder("1"), makeOrder("2"), makeOrder("3", { orderNumber: "INV-7" })])
})

const noticeXml = (fields: {
  orderId?: string
  orderNumber: string
  tracking: string
  items?: string
}) => `<?xml version="1.0" encoding="utf-8"?>
<ShipNotice>
  ${fields.orderId === undefined ? "" : `<OrderID><![CDATA[${fields.orderId}]]></OrderID>`}
  <OrderNumber><![CDATA[${fields.orderNumber}]]></OrderNumber>
  <CustomerCode>CUST-1</CustomerCode>
  <NotesToCustomer>Thanks &amp; enjoy &lt;3</NotesToCustomer>
  <NotifyCustomer>true</NotifyCustomer>
  <LabelCreateDate>05/01/2024 11:00</LabelCreateDate>
  <ShipDate>05/01/2024</ShipDate>
  <Carrier>UPS</Carrier>
  <Service>UPS Ground</Service>
  <TrackingNumber>${fields.tracking}</TrackingNumber>
  <ShippingCost>7.5</ShippingCost>
  <Recipient><Name>Ada Lovelace</Name><Address1>1 Main St</Address1><City>Springfield</City><State>IL</State><Country>US</Country></Recipient>
  <Items>${fields.items ?? ""}</Items>
</ShipNotice>`

const notify = (query: string, init: RequestInit = {}) =>
  request(`/shipstation/alpha?action=shipnotify${query}`, {
    method: "POST",
    ...init,
    headers: { ...alphaAuth, ...(init.headers as Record<string, string> | undefined) }
  })

const outbox = Effect.flatMap(OrderStore.OrderStore, (s) => s.outbox("alpha"))

describe("ship notices are recorded once", () => {
  it.effect("the same notice posted twice is stored once and the second is answered 200 as a duplicate", () =>
    Effect.gen(function* () {
      yield* setup
      const xml = noticeXml({ orderId: "1", orderNumber: "101", tracking: "1Z999" })
      const first = yield* notify("", { body: xml, headers: { "content-type": "text/xml" } })
      const second = yield* notify("", { body: xml, headers: { "content-type": "text/xml" } })
      expect([first.status, first.body]).toEqual([200, "Ship notice for order 101 received.\n"])
      expect([second.status, second.body]).toEqual([
        200,
        "Ship notice for order 101 was already received; nothing more to do.\n"
      ])
      const items = yield* outbox
      expect(items).toHaveLength(1)
      expect(items[0]!.posRef).toEqual(Option.some("1"))
      expect(items[0]!.notice).toMatchObject({
        orderId: "1",
        orderNumber: "101",
        carrier: "UPS",
        service: "UPS Ground",
        trackingNumber: "1Z999",
        shippingCost: "7.5",
        notifyCustomer: true,
        notesToCustomer: "Thanks & enjoy <3",
        recipient: { name: "Ada Lovelace", country: "US" },
        items: []
      })
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("the same notice posted concurrently produces one outbox item, every request answered 200", () =>
    Effect.gen(function* () {
      yield* setup
      const xml = noticeXml({ orderId: "2", orderNumber: "102", tracking: "1ZCONC" })
      const replies = yield* Effect.all(
        Array.from({ length: 8 }, () => notify("", { body: xml, headers: { "content-type": "application/xml" } })),
        { concurrency: "unbounded" }
      )
      expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200))
      expect(replies.filter((r) => r.body === "Ship notice for order 102 received.\n")).toHaveLength(1)
      expect(yield* outbox).toHaveLength(1)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a retry without a body (query parameters only) is recognized as the same notice", () =>
    Effect.gen(function* () {
      yield* setup
      yield* notify("", { body: noticeXml({ orderId: "1", orderNumber: "101", tracking: "1Z 999" }) })
      const retry = yield* notify("&order_number=101&carrier=ups&tracking_number=1Z999")
      expect(retry.body).toContain("already received")
      expect(yield* outbox).toHaveLength(1)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("ship notice bodies", () => {
  it.effect(
    "text/xml, application/xml, form-urlencoded, no content type, form fields and an empty body are all handled",
    () =>
      Effect.gen(function* () {
        yield* setup
        const xml = (tracking: string) => noticeXml({ orderId: "1", orderNumber: "101", tracking })
        const replies = [
          yield* notify("", { body: xml("T-TEXT"), headers: { "content-type": "text/xml; charset=utf-8" } }),
          yield* notify("", { body: xml("T-APP"), headers: { "content-type": "application/xml" } }),
          yield* notify("", {
            body: xml("T-FORMRAW"),
            headers: { "content-type": "application/x-www-form-urlencoded" }
          }),
          // A Uint8Array body makes fetch send no Content-Type at all.
          yield* notify("", { body: new TextEncoder().encode(xml("T-NONE")) }),
          yield* notify("", {
            body: new URLSearchParams({ order_number: "102", carrier: "USPS", tracking_number: "T-FORM" }).toString(),
            headers: { "content-type": "application/x-www-form-urlencoded" }
          }),
          yield* notify("&order_number=INV-7&carrier=FedEx&service=Overnight&tracking_number=T-EMPTY", { body: "" })
        ]
        expect(replies.map((r) => [r.status, r.body])).toEqual([
          [200, "Ship notice for order 101 received.\n"],
          [200, "Ship notice for order 101 received.\n"],
          [200, "Ship notice for order 101 received.\n"],
          [200, "Ship notice for order 101 received.\n"],
          [200, "Ship notice for order 102 received.\n"],
          [200, "Ship notice for order INV-7 received.\n"]
        ])
        const items = yield* outbox
        expect(items.map((i) => [i.notice.trackingNumber, Option.getOrNull(i.posRef), i.notice.carrier])).toEqual([
          ["T-TEXT", "1", "UPS"],
          ["T-APP", "1", "UPS"],
          ["T-FORMRAW", "1", "UPS"],
          ["T-NONE", "1", "UPS"],
          ["T-FORM", "2", "USPS"],
          ["T-EMPTY", "3", "FedEx"]
        ])
      }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("malformed XML is answered 400 with a sentence; a notice naming no order is kept for the operator", () =>
    Effect.gen(function* () {
      yield* setup
      const broken = yield* notify("", { body: "<ShipNotice><OrderNumber>1</ShipNotice>" })
      expect(broken.status).toBe(400)
      expect(broken.body).toMatch(/^The ship notice is not well-formed XML \(line 1: .+\)\.\n$/)
      expect(yield* outbox).toHaveLength(0)
      const anonymous = yield* notify("&carrier=UPS&tracking_number=1ZNONE", { body: "" })
      expect(anonymous.status).toBe(200)
      const [kept] = yield* outbox
      expect(kept?.state).toBe("attention")
      expect(kept?.notice.problems?.[0]?.message).toMatch(/names no order/)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("matching", () => {
  it.effect("OrderID wins over OrderNumber, a split suffix is stripped, and an unknown order is still kept", () =>
    Effect.gen(function* () {
      yield* setup
      const byId = yield* notify("", { body: noticeXml({ orderId: "2", orderNumber: "101", tracking: "M1" }) })
      const split = yield* notify("", { body: noticeXml({ orderNumber: "101-2", tracking: "M2" }) })
      const dashed = yield* notify("", { body: noticeXml({ orderNumber: "INV-7", tracking: "M3" }) })
      const unknown = yield* notify("", { body: noticeXml({ orderId: "999", orderNumber: "999", tracking: "M4" }) })
      expect([byId.status, split.status, dashed.status, unknown.status]).toEqual([200, 200, 200, 200])
      expect(unknown.body).toBe(
        "Ship notice for order 999 received; no matching order was found, it is kept for the operator.\n"
      )
      const items = yield* outbox
      expect(items.map((i) => [i.notice.trackingNumber, Option.getOrNull(i.posRef)])).toEqual([
        ["M1", "2"],
        ["M2", "1"],
        ["M3", "3"],
        ["M4", null]
      ])
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a partial shipment keeps its lines; explain shows the notice on the order", () =>
    Effect.gen(function* () {
      yield* setup
      const items = "<Item><LineItemID>1-1</LineItemID><SKU>SKU-1</SKU><Name>Widget</Name><Quantity>1</Quantity></Item>"
      yield* notify("", { body: noticeXml({ orderId: "1", orderNumber: "101", tracking: "P1", items }) })
      const store = yield* OrderStore.OrderStore
      const explanation = yield* store.explain("alpha", "1")
      expect(explanation.shipNotices.map((n) => n.notice.items)).toEqual([
        [{ lineItemId: "1-1", sku: "SKU-1", name: "Widget", quantity: 1 }]
      ])
      expect(explanation.writeBacks).toHaveLength(1)
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("hostile bodies", () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ShipNotice><OrderNumber>&lol9;</OrderNumber><Carrier>UPS</Carrier><TrackingNumber>X</TrackingNumber></ShipNotice>`
  const external = `<?xml version="1.0"?>
<!DOCTYPE ShipNotice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ShipNotice><OrderNumber>101</OrderNumber><InternalNotes>&xxe;</InternalNotes><Carrier>UPS</Carrier><TrackingNumber>X</TrackingNumber></ShipNotice>`
  const declarationRefused = "The ship notice contains a DOCTYPE or ENTITY declaration, which is not accepted.\n"

  it.effect("XML bombs and 10 MB bodies are refused without growing the process by 100 MB", () =>
    Effect.gen(function* () {
      yield* setup
      const before = process.memoryUsage().rss
      const bomb = yield* notify("", { body: laughs, headers: { "content-type": "text/xml" } })
      expect([bomb.status, bomb.body]).toEqual([400, declarationRefused])
      const xxe = yield* notify("", { body: external, headers: { "content-type": "application/xml" } })
      expect([xxe.status, xxe.body]).toEqual([400, declarationRefused])
      const tenMegabytes = new Uint8Array(10 * 1024 * 1024).fill(0x41)
      const declared = yield* notify("", { body: tenMegabytes, headers: { "content-type": "text/xml" } })
      expect([declared.status, declared.body]).toEqual([
        413,
        "The request body is larger than the 1024 KiB this endpoint accepts.\n"
      ])
      // Chunked, with no Content-Length: the limit is enforced while reading.
      const chunk = new Uint8Array(64 * 1024).fill(0x41)
      let sent = 0
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 10 * 1024 * 1024) controller.close()
          else {
            sent += chunk.length
            controller.enqueue(chunk)
          }
        }
      })
      const chunked = yield* notify("", { body: stream, duplex: "half" } as RequestInit)
      expect(chunked.status).toBe(413)
      const grown = (process.memoryUsage().rss - before) / (1024 * 1024)
      expect(grown).toBeLessThan(100)
      expect(yield* outbox).toHaveLength(0)
    }).pipe(Effect.provide(serverLayer()))
  )
})
