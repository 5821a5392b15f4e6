import { describe, expect, it } from "@effect/vitest"
import { DateTime, Option } from "effect"
import { ContentHash, Order, RefreshRule } from "../src/index.js"

const t = (s: string) => DateTime.unsafeMake(s)
const order = (patch: Partial<Order.OrderEncoded> = {}) =>
  Order.decodeSync({
    storeId: "shop",
    kind: "orders",
    posRef: "42",
    orderNumber: "1042",
    orderDate: "2026-05-01T10:00:00Z",
    posModifiedAt: "2026-05-01T10:00:00Z",
    status: "paid",
    customerCode: "c1",
    billTo: { name: "Ada" },
    lines: [{ lineId: "1", sku: "A", name: "Thing", quantity: 1, unitPrice: "2.50" }],
    orderTotal: "2.50",
    ...patch
  })
const incoming = (o: Order.Order, exclude?: string): RefreshRule.Incoming => ({
  _tag: "Document",
  document: exclude === undefined ? { order: o } : { order: o, exclude },
  contentHash: ContentHash.ofOrder(o)
})
const stored = (o: Order.Order) =>
  Option.some({ posModifiedAt: o.posModifiedAt, contentHash: ContentHash.ofOrder(o), stamp: t("2026-05-01T10:01:00Z") })
const ctx = { storeKind: "orders" as const, now: t("2026-05-01T10:30:00Z"), watermark: Option.none() }

describe("RefreshRule.decide", () => {
  it("inserts a new document stamped at ingest", () => {
    const d = RefreshRule.decide(Option.none(), incoming(order()), ctx)
    expect(d._tag === "Insert" && DateTime.formatIso(d.stamp)).toBe("2026-05-01T10:30:00.000Z")
  })

  it("restamps a re-save even when nothing else changed", () => {
    const d = RefreshRule.decide(stored(order()), incoming(order({ posModifiedAt: "2026-05-01T10:20:00Z" })), ctx)
    expect(d._tag === "Restamp" && d.reason).toBe("pos-resaved")
  })

  it("restamps a content change that kept the POS time", () => {
    const d = RefreshRule.decide(stored(order()), incoming(order({ customerNotes: "leave at door" })), ctx)
    expect(d._tag === "Restamp" && d.reason).toBe("content-changed")
  })

  it("leaves an unchanged re-poll alone", () => {
    expect(RefreshRule.decide(stored(order()), incoming(order()), ctx)._tag).toBe("Unchanged")
  })

  it("keeps the newer version when the POS returns an older one", () => {
    const current = order({ posModifiedAt: "2026-05-01T10:20:00Z" })
    const d = RefreshRule.decide(stored(current), incoming(order({ customerNotes: "old" })), ctx)
    expect(d._tag === "Ignore" && d.reason).toBe("older-version")
  })

  it("ignores documents of the other kind, with a reason", () => {
    const d = RefreshRule.decide(Option.none(), incoming(order({ kind: "invoices" })), ctx)
    expect(d._tag === "Ignore" && d.detail).toBe("the store sends orders, this document is one of its invoices")
  })

  it("ignores documents the adapter excluded, with the adapter's reason", () => {
    const d = RefreshRule.decide(Option.none(), incoming(order(), "sale not completed"), ctx)
    expect(d).toMatchObject({ _tag: "Ignore", reason: "excluded", detail: "sale not completed" })
  })

  it("restamps a touched order past the watermark", () => {
    const d = RefreshRule.decide(
      stored(order()),
      { _tag: "Touch" },
      { ...ctx, watermark: Option.some(t("2026-05-01T10:41:00Z")) }
    )
    expect(d._tag === "Restamp" && [d.reason, DateTime.formatIso(d.stamp)]).toEqual([
      "touched",
      "2026-05-01T10:41:00.000Z"
    ])
  })

  it("cannot touch an order that is not stored", () => {
    expect(RefreshRule.decide(Option.none(), { _tag: "Touch" }, ctx)._tag).toBe("Ignore")
  })
})

describe("ContentHash", () => {
  it("ignores the POS modified time and key order", () => {
    expect(ContentHash.ofOrder(order())).toBe(ContentHash.ofOrder(order({ posModifiedAt: "2026-06-01T00:00:00Z" })))
    expect(ContentHash.ofJson({ a: 1, b: [1, 2] })).toBe(ContentHash.ofJson({ b: [1, 2], a: 1 }))
    expect(ContentHash.ofOrder(order())).not.toBe(ContentHash.ofOrder(order({ orderTotal: "2.51" })))
  })
})
