import { describe, expect, it } from "@effect/vitest"
import { type Order, OrderStore } from "@posbridge/core"
import { Effect, HashMap, Logger, LogLevel, Option, TestClock } from "effect"
import { FieldRules } from "../src/index.js"
import * as Harness from "./support/Harness.js"

const { alphaAuth, exportPath, ingest, makeOrder, now, readXml, request, serverLayer, window } = Harness

const tricky = 'Zoë & Jürgen <b>"Ünïcødé"</b> 日本語 🎉 ]]> done'
const line = (lineId: string, overrides: Partial<Order.OrderEncoded["lines"][number]> = {}) => ({
  lineId,
  sku: `SKU-${lineId}`,
  name: `Item ${lineId}`,
  quantity: 1,
  unitPrice: "1.00",
  ...overrides
})

const corpus: ReadonlyArray<Order.Order> = [
  makeOrder("unicode", {
    orderNumber: "A&B<1>",
    customerNotes: `Leave at door ]]> & <script>alert(1)</script> ${tricky}`,
    internalNotes: "bell char \u0007 removed",
    billTo: { name: tricky, email: "zoe@example.com" },
    shipTo: { name: tricky, address1: "Königstraße 1 & 2", city: "München", postalCode: "80331", country: "Germany" },
    lines: [line("u1", { name: tricky, sku: "SKU<&>]]>", options: [{ name: "Size ]]>", value: "L & XL" }] })]
  }),
  makeOrder("money", {
    orderTotal: "15",
    taxAmount: "1.005",
    shippingAmount: "0",
    gift: true,
    giftMessage: "Happy birthday!",
    lines: [
      line("m1", { unitPrice: "0.00", name: "Free sample" }),
      line("m2", { unitPrice: "20" }),
      line("m3", { quantity: -1, unitPrice: "20", name: "Refunded widget" }),
      line("m4", { unitPrice: "-5.5", name: "Spring discount", sku: "" })
    ]
  }),
  makeOrder("big", { lines: Array.from({ length: 200 }, (_, i) => line(`b${i + 1}`, { quantity: (i % 5) + 1 })) }),
  makeOrder(
    "sparse",
    {
      customerCode: "",
      billTo: {
        name: "Sam Sparse",
        address1: "500 Elm St",
        city: "Toronto",
        state: "Ontario",
        country: "Canada",
        email: "sam@example.com"
      }
    },
    ["shipTo"]
  ),
  makeOrder("long", {
    customerNotes: "n".repeat(1500),
    shippingMethod: "m".repeat(150),
    customField1: "c".repeat(101),
    shipTo: {
      name: "N".repeat(150),
      address1: "A".repeat(250),
      city: "Chicago",
      state: "Illinois",
      country: "United States",
      phone: "5".repeat(60)
    },
    lines: [line("l1", { name: "🎉".repeat(150) })]
  })
]

// PROTOCOL.md's table, element name → maximum length.
const maxLength: Record<string, number> = {
  OrderID: 50,
  OrderNumber: 50,
  OrderStatus: 50,
  ShippingMethod: 100,
  PaymentMethod: 50,
  CustomerNotes: 1000,
  InternalNotes: 1000,
  GiftMessage: 1000,
  CustomField1: 100,
  CustomField2: 100,
  CustomField3: 100,
  RequestedWarehouse: 100,
  Source: 50,
  CustomerCode: 50,
  Company: 100,
  Phone: 50,
  Email: 100,
  Address1: 200,
  Address2: 200,
  City: 100,
  PostalCode: 50,
  LineItemID: 50,
  SKU: 100,
  ImageUrl: 500,
  UPC: 100,
  Location: 100
}
const decimal2 = /^-?\d+\.\d{2}$/
const date = /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}$/

const checkLimits = (o: Harness.Node): Array<string> => {
  const problems: Array<string> = []
  const at = (path: string, v: unknown): string => {
    if (typeof v === "string") return v
    problems.push(`${path} is not text`)
    return ""
  }
  const visit = (node: Harness.Node, path: string) => {
    for (const [k, v] of Object.entries(node)) {
      const p = `${path}/${k}`
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) visit(x as Harness.Node, `${p}[${i}]`)
      } else if (typeof v === "object" && v !== null) visit(v as Harness.Node, p)
      else {
        const s = at(p, v)
        const limit = maxLength[k]
        if (limit !== undefined && s.length > limit) problems.push(`${p} has ${s.length} > ${limit}`)
        if (k === "Name" && s.length > (path.includes("Item") && !path.includes("Option") ? 200 : 100))
          problems.push(`${p} too long`)
        if (k === "Country" && !/^[A-Z]{2}$/.test(s)) problems.push(`${p} = ${s}`)
        if (k === "State" && path.endsWith("ShipTo") && !/^[A-Z]{2}$/.test(s)) problems.push(`${p} = ${s}`)
        if ((k === "Gift" || k === "Adjustment") && s !== "true" && s !== "false") problems.push(`${p} = ${s}`)
        if (["OrderTotal", "TaxAmount", "ShippingAmount", "UnitPrice"].includes(k) && !decimal2.test(s))
          problems.push(`${p} = ${s}`)
        if ((k === "OrderDate" || k === "LastModified") && !date.test(s)) problems.push(`${p} = ${s}`)
        if (k === "Quantity" && !(/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 99999)) problems.push(`${p} = ${s}`)
      }
    }
  }
  visit(o, "Order")
  for (const required of ["OrderID", "OrderNumber", "OrderDate", "OrderStatus", "LastModified", "OrderTotal"]) {
    if (typeof o[required] !== "string" || o[required] === "") problems.push(`${required} missing`)
  }
  const customer = o.Customer as Harness.Node
  const shipTo = customer?.ShipTo as Harness.Node | undefined
  for (const required of ["Name", "Address1", "City", "Country"]) {
    if (!shipTo || typeof shipTo[required] !== "string" || shipTo[required] === "")
      problems.push(`ShipTo/${required} missing`)
  }
  return problems
}

const byId = (orders: ReadonlyArray<Harness.Node>) => new Map(orders.map((o) => [String(o.OrderID), o]))
const items = (o: Harness.Node) => ((o.Items as Harness.Node).Item as ReadonlyArray<Harness.Node>) ?? []

describe("export XML over HTTP", () => {
  it.effect("a varied corpus round-trips through a strict parser and every value obeys PROTOCOL.md's limits", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now)
      yield* ingest(corpus)
      const reply = yield* request(exportPath("alpha", ...window), { headers: alphaAuth })
      expect(reply.status).toBe(200)
      const doc = readXml(reply.body)
      expect(doc.pages).toBe("1")
      expect(doc.orders).toHaveLength(corpus.length)
      for (const o of doc.orders) expect(checkLimits(o), String(o.OrderID)).toEqual([])

      const orders = byId(doc.orders)
      const unicode = orders.get("unicode")!
      expect(unicode.OrderNumber).toBe("A&B<1>")
      expect(unicode.CustomerNotes).toBe(`Leave at door ]]> & <script>alert(1)</script> ${tricky}`)
      expect(unicode.InternalNotes).toBe("bell char  removed")
      expect(unicode.LastModified).toBe("05/01/2024 10:00")
      expect(unicode.OrderDate).toBe("05/01/2024 09:00")
      const shipTo = (unicode.Customer as Harness.Node).ShipTo as Harness.Node
      expect(shipTo).toMatchObject({ Name: tricky, Address1: "Königstraße 1 & 2", City: "München", Country: "DE" })
      expect(items(unicode)[0]).toMatchObject({ SKU: "SKU<&>]]>", Name: tricky })
      expect((items(unicode)[0]!.Options as Harness.Node).Option).toEqual({ Name: "Size ]]>", Value: "L & XL" })

      const money = orders.get("money")!
      expect(money).toMatchObject({ OrderTotal: "15.00", TaxAmount: "1.01", ShippingAmount: "0.00", Gift: "true" })
      expect(items(money).map((i) => [i.Name, i.UnitPrice, i.Adjustment, i.Quantity])).toEqual([
        ["Free sample", "0.00", "false", "1"],
        ["Item m2", "20.00", "false", "1"],
        ["Spring discount", "-5.50", "true", "1"]
      ])

      expect(items(orders.get("big")!)).toHaveLength(200)

      const sparse = orders.get("sparse")!
      expect((sparse.Customer as Harness.Node).CustomerCode).toBe("sam@example.com")
      expect((sparse.Customer as Harness.Node).ShipTo).toMatchObject({ Name: "Sam Sparse", State: "ON", Country: "CA" })
      expect(sparse.ShippingMethod).toBeUndefined()
      expect(sparse.Gift).toBeUndefined()

      const long = orders.get("long")!
      expect(String(long.CustomerNotes)).toHaveLength(1000)
      expect((long.Customer as Harness.Node).ShipTo).toMatchObject({ State: "IL", Country: "US" })
      // 150 emoji are 300 UTF-16 units: cut to 200 without splitting a pair.
      expect(String(items(long)[0]!.Name)).toBe("🎉".repeat(100))
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("paging under change", () => {
  const pageUnion = Effect.gen(function* () {
    yield* TestClock.setTime(now)
    yield* ingest(Array.from({ length: 10 }, (_, i) => makeOrder(`p${i}`)))
    const first = readXml((yield* request(exportPath("alpha", ...window, 1), { headers: alphaAuth })).body)
    // While ShipStation reads the remaining pages, every document of the window is re-saved and new ones arrive.
    yield* TestClock.adjust("1 minute")
    yield* ingest(Array.from({ length: 10 }, (_, i) => makeOrder(`p${i}`, { internalNotes: "re-saved" })))
    yield* ingest([makeOrder("late-1"), makeOrder("late-2")])
    const later = []
    for (let page = 2; page <= Number(first.pages); page++) {
      later.push(readXml((yield* request(exportPath("alpha", ...window, page), { headers: alphaAuth })).body))
    }
    return { first, later }
  })

  it.effect("the union of pages 1..N equals the page-1 snapshot, without duplicates, with a constant page count", () =>
    Effect.gen(function* () {
      const { first, later } = yield* pageUnion
      expect(first.pages).toBe("4")
      expect(later.map((d) => d.pages)).toEqual(["4", "4", "4"])
      const ids = [first, ...later].flatMap((d) => d.orders.map((o) => String(o.OrderID)))
      expect(ids).toHaveLength(10)
      expect(new Set(ids)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `p${i}`)))
      // Later pages render each member's current content.
      expect(later.flatMap((d) => d.orders.map((o) => o.InternalNotes))).toEqual(Array(7).fill("re-saved"))
    }).pipe(Effect.provide(serverLayer({ pageSize: 3 })))
  )

  it.effect("a page read again shows what changed since: a new version, a touch's LastModified, a new hold", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now)
      yield* ingest(Array.from({ length: 6 }, (_, i) => makeOrder(`p${i}`)))
      const page = (n: number) =>
        Effect.map(request(exportPath("alpha", ...window, n), { headers: alphaAuth }), (r) => readXml(r.body))
      expect((yield* page(1)).pages).toBe("2")
      const before = yield* page(2)
      expect(yield* page(2)).toEqual(before)
      expect(before.orders.map((o) => [o.OrderID, o.LastModified])).toEqual([
        ["p3", "05/01/2024 10:00"],
        ["p4", "05/01/2024 10:00"],
        ["p5", "05/01/2024 10:00"]
      ])
      yield* TestClock.adjust("2 minutes")
      yield* ingest([makeOrder("p3", { internalNotes: "changed" })])
      yield* Effect.flatMap(OrderStore.OrderStore, (store) => store.touch("alpha", "p4"))
      yield* ingest([makeOrder("p5", { billTo: { name: "Walk-in customer" } }, ["shipTo"])])
      const after = yield* page(2)
      expect(after.orders.map((o) => [o.OrderID, o.InternalNotes, o.LastModified])).toEqual([
        ["p3", "changed", "05/01/2024 10:02"],
        ["p4", undefined, "05/01/2024 10:02"]
      ])
    }).pipe(Effect.provide(serverLayer({ pageSize: 3 })))
  )

  it.effect("the same scenario over offset paging (other bridges' failure mode) loses orders", () =>
    Effect.gen(function* () {
      const { first, later } = yield* pageUnion
      const ids = [first, ...later].flatMap((d) => d.orders.map((o) => String(o.OrderID)))
      expect(ids.length).toBeLessThan(10)
    }).pipe(Effect.provide(serverLayer({ pageSize: 3, store: { pagingMode: "offset" } })))
  )
})

describe("held orders", () => {
  it.effect("an order with no ship-to and no way to derive one is held with its reason; the rest are served", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(now)
      yield* ingest([
        makeOrder("good-1"),
        makeOrder("nowhere", { billTo: { name: "Walk-in customer" } }, ["shipTo"]),
        makeOrder("good-2")
      ])
      const store = yield* OrderStore.OrderStore
      const doc = readXml((yield* request(exportPath("alpha", ...window), { headers: alphaAuth })).body)
      expect(doc.orders.map((o) => o.OrderID)).toEqual(["good-1", "good-2"])
      const explanation = yield* store.explain("alpha", "nowhere")
      const reason = "there is no ship-to address and the bill-to address is incomplete"
      expect(explanation.current.heldReasons).toEqual([reason])
      expect(explanation.history.filter((e) => e._tag === "HeldBack")).toMatchObject([{ reasons: [reason] }])
      expect((yield* store.stats("alpha")).held).toBe(1)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect(
    "a held order is warned about once when its hold first appears, not on every poll, and again for a new version",
    () => {
      const warnings: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message, annotations }) => {
          if (logLevel !== LogLevel.Warning) return
          const posRef = Option.getOrElse(HashMap.get(annotations, "posRef"), () => "")
          warnings.push(`${String(message)}: ${String(posRef)}`)
        })
      )
      const nowhere = (posModifiedAt: string) =>
        makeOrder("nowhere", { billTo: { name: "Walk-in customer" }, posModifiedAt }, ["shipTo"])
      const poll = (start: string, end: string) =>
        Effect.map(request(exportPath("alpha", start, end), { headers: alphaAuth }), (r) =>
          readXml(r.body).orders.map((o) => o.OrderID)
        )
      return Effect.gen(function* () {
        yield* TestClock.setTime(now)
        yield* ingest([makeOrder("good-1"), nowhere("2024-05-01T09:30:00.000Z")])
        for (let i = 0; i < 3; i++) expect(yield* poll(...window)).toEqual(["good-1"])
        expect(warnings).toEqual(["order held back from ShipStation: nowhere"])

        // Re-saved in the POS, still without an address: a new version, held again, warned about again.
        yield* TestClock.adjust("1 minute")
        yield* ingest([nowhere("2024-05-01T10:00:30.000Z")])
        for (let i = 0; i < 2; i++) expect(yield* poll("05/01/2024 10:01", "05/01/2024 10:05")).toEqual([])
        expect(warnings).toEqual([
          "order held back from ShipStation: nowhere",
          "order held back from ShipStation: nowhere"
        ])
      }).pipe(Effect.provide(serverLayer()), Effect.provide(capture))
    }
  )

  it("the field rules name each unrepairable field", () => {
    const result = FieldRules.check(
      makeOrder("bad", {
        shipTo: { name: "", address1: "", city: "Paris", country: "Atlantis" },
        lines: [{ lineId: "1", sku: "", name: "Mystery", quantity: 1, unitPrice: "1" }]
      })
    )
    expect(result).toEqual({
      _tag: "Held",
      reasons: [
        'ShipTo/Country "Atlantis" is not a recognized country name or ISO code',
        "ShipTo/Address1 is empty",
        "Item 1 (1): the item has no SKU"
      ]
    })
  })
})
