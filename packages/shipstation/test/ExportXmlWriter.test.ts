import { describe, expect, it } from "@effect/vitest"
import { Decimal, Order } from "@posbridge/core"
import { DateTime } from "effect"
import { ExportXml, FieldRules } from "../src/index.js"
import { makeOrder, readXml } from "./support/Harness.js"
import * as ReferenceXml from "./support/ReferenceXml.js"

/** A small deterministic generator (no dependency, same orders on every run). */
const random = (seed: number) => () => {
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}

/**
 * Orders of two kinds: "wild" ones full of what breaks XML (`]]>`, markup, control characters, unpaired
 * surrogates, odd decimals), most of which the field rules hold back, and "tame" ones with unicode and `&`
 * that pass the rules.
 */
const orders = (count: number, seed: number, tame: boolean): Array<Order.Order> => {
  const rnd = random(seed)
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(rnd() * xs.length)]!
  const wildAtoms = ["a", "Zoë", " ", "&", "<", ">", "'", '"', "]]>", "]]", "]", "\u0000", "\u0008", "\uFFFE"]
  const moreAtoms = ["\uD800", "😀", "\uDE00", "\t", "\n", "\r", "李", "x".repeat(60), "-"]
  const atoms = tame ? ["Ada", "Zoë", " ", "&", "<", "]]>", "李", "-", "😀"] : [...wildAtoms, ...moreAtoms]
  const str = (max = 8) =>
    (tame ? "N" : "") + Array.from({ length: Math.floor(rnd() * max) }, () => pick(atoms)).join("")
  const decimal = () =>
    pick(["0", "-0", "-0.00", "5", "12.5", "12.50", "007.5", "2.005", "-4.445", "0.75", "-0.001", "-12", "00"])
  const address = () => {
    const a: Record<string, unknown> = { name: str() }
    for (const key of ["company", "address2", "postalCode", "phone", "email"]) if (rnd() < 0.5) a[key] = str()
    if (tame || rnd() < 0.5) a.address1 = str()
    if (tame || rnd() < 0.5) a.city = str()
    a.country = pick(tame ? ["GB", "us", "Deutschland"] : ["GB", "us", "Canada", "Atlantis", "DEU", " "])
    if (a.country === "us") a.state = pick(["TX", "new york"])
    else if (rnd() < 0.5) a.state = str()
    return a
  }
  const line = () => {
    const l: Record<string, unknown> = {
      lineId: str(3),
      sku: str(3),
      name: str(),
      quantity: pick(tame ? [0, 1, 2] : [0, 1, 2, -1, 100000]),
      unitPrice: decimal()
    }
    if (rnd() < 0.3) l.adjustment = rnd() < 0.5
    if (rnd() < 0.4) l.weight = decimal()
    if (rnd() < 0.3) l.weightUnits = pick(["Pounds", "Ounces", "Grams"])
    for (const key of ["imageUrl", "upc", "location"]) if (rnd() < 0.3) l[key] = str()
    if (rnd() < 0.4) l.options = Array.from({ length: Math.floor(rnd() * 3) }, () => ({ name: str(), value: str() }))
    return l
  }
  return Array.from({ length: count }, (_, i) => {
    const o: Record<string, unknown> = {
      storeId: "alpha",
      kind: "orders",
      posRef: `P${i}${str(3)}`,
      orderNumber: str(4),
      orderDate: new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 1e11)).toISOString(),
      posModifiedAt: "2026-01-01T00:00:00.000Z",
      status: pick(["unpaid", "paid", "shipped", "cancelled", "on_hold"]),
      customerCode: str(3),
      billTo: address(),
      lines: Array.from({ length: Math.floor(rnd() * 4) }, line),
      orderTotal: decimal()
    }
    if (tame || rnd() < 0.7) o.shipTo = address()
    for (const key of ["taxAmount", "shippingAmount"]) if (rnd() < 0.5) o[key] = decimal()
    if (rnd() < 0.5) o.currency = pick(["usd", "EUR", "euro", "", " gbp ", "A&B"])
    if (rnd() < 0.5) o.gift = rnd() < 0.5
    for (const key of ["shippingMethod", "paymentMethod", "customerNotes", "internalNotes", "giftMessage"]) {
      if (rnd() < 0.4) o[key] = str(rnd() < 0.1 ? 200 : 8)
    }
    for (const key of ["customField1", "customField2", "customField3", "requestedWarehouse", "source"]) {
      if (rnd() < 0.4) o[key] = str()
    }
    return Order.decodeSync(o)
  })
}

const stamp = DateTime.unsafeMake(Date.UTC(2026, 0, 1, 10, 5, 40))
const utf8 = new TextDecoder("utf-8")

describe("ExportXml writer", () => {
  it("writes byte for byte the document fast-xml-parser's XMLBuilder wrote, checked orders or not", () => {
    let served = 0
    for (let round = 0; round < 40; round++) {
      const page = orders(25, round + 1, round % 2 === 1)
      const raw = page.map((order) => ({ order, stamp }))
      expect(ExportXml.render(raw, round)).toBe(ReferenceXml.render(raw, round))
      const checked = page.flatMap((order) => {
        const result = FieldRules.check(order)
        return result._tag === "Ok" ? [{ order: result.order, stamp }] : []
      })
      served += checked.length
      const xml = ExportXml.render(checked, round)
      expect(xml).toBe(ReferenceXml.render(checked, round))
      expect(utf8.decode(ExportXml.renderBytes(checked, round))).toBe(xml)
    }
    // Both kinds were exercised: the tame orders pass the rules, the wild ones mostly do not.
    expect(served).toBeGreaterThan(100)
  })

  it("serves an order rendered before from its kept bytes, and renders it again for a new stamp or version", () => {
    const fragments = ExportXml.makeFragments()
    const checked = orders(30, 7, true).flatMap((order) => {
      const result = FieldRules.check(order)
      return result._tag === "Ok" ? [{ order: result.order, stamp }] : []
    })
    const fresh = (page: ReadonlyArray<ExportXml.ExportedOrder>) => utf8.decode(ExportXml.renderBytes(page, 2))
    const kept = (page: ReadonlyArray<ExportXml.ExportedOrder>) =>
      utf8.decode(ExportXml.renderBytes(page, 2, fragments))
    expect(kept(checked)).toBe(fresh(checked))
    expect(kept(checked)).toBe(fresh(checked))
    // A restamp keeps the order object: LastModified must still move.
    const later = DateTime.unsafeMake(Date.UTC(2026, 0, 1, 11, 30))
    const restamped = checked.map((o, i) => (i === 0 ? { order: o.order, stamp: later } : o))
    expect(kept(restamped)).toBe(fresh(restamped))
    expect(kept(restamped)).toContain("<LastModified>01/01/2026 11:30</LastModified>")
    // A new version is a new object: its content is rendered, never the kept bytes of the old one.
    const changed = checked.map((o, i) => (i === 1 ? { order: { ...o.order, customerNotes: "moved" }, stamp } : o))
    expect(kept(changed)).toBe(fresh(changed))
    expect(kept(changed)).toContain("<CustomerNotes><![CDATA[moved]]></CustomerNotes>")
  })

  it("sends a kept page again only while it holds the same orders, stamps and page count", () => {
    const pages = new ExportXml.Pages(2)
    const checked = orders(12, 11, true).flatMap((order) => {
      const result = FieldRules.check(order)
      return result._tag === "Ok" ? [{ order: result.order, stamp }] : []
    })
    const first = pages.render("s/snap/1", checked, 3)
    expect(pages.render("s/snap/1", [...checked], 3)).toBe(first)
    const fresh = (page: ReadonlyArray<ExportXml.ExportedOrder>, count: number) =>
      utf8.decode(ExportXml.renderBytes(page, count))
    // Any difference is rendered again: the page count, a stamp, an order's version, a member less.
    expect(utf8.decode(pages.render("s/snap/1", checked, 4))).toBe(fresh(checked, 4))
    const later = DateTime.unsafeMake(Date.UTC(2026, 0, 1, 12, 0))
    const restamped = checked.map((o, i) => (i === 2 ? { order: o.order, stamp: later } : o))
    expect(utf8.decode(pages.render("s/snap/1", restamped, 4))).toBe(fresh(restamped, 4))
    const changed = checked.map((o, i) => (i === 3 ? { order: { ...o.order, internalNotes: "new" }, stamp } : o))
    expect(utf8.decode(pages.render("s/snap/1", changed, 4))).toBe(fresh(changed, 4))
    expect(utf8.decode(pages.render("s/snap/1", changed.slice(1), 4))).toBe(fresh(changed.slice(1), 4))
    // Other keys are other pages; the least recently used is dropped past the capacity.
    const other = pages.render("s/snap/2", checked, 3)
    expect(other).not.toBe(first)
    pages.render("s/snap/3", checked, 3)
    expect(pages.render("s/snap/2", checked, 3)).toBe(other)
  })

  it("sends bytes that read back as the original text: ]]>, markup, emoji; forbidden characters removed", () => {
    const order = makeOrder("X1", {
      customerNotes: "a]]>b ]]]> <tag> & 'q' \"dq\" 😀 \u0001end",
      lines: [{ lineId: "X1-1", sku: "S]]>1", name: "Mug & «saucer» 李", quantity: 1, unitPrice: "2.005" }]
    })
    const doc = readXml(utf8.decode(ExportXml.renderBytes([{ order, stamp }], 1)))
    expect(doc.orders).toHaveLength(1)
    const read = doc.orders[0] as { CustomerNotes: string; LastModified: string; Items: { Item: Array<object> } }
    expect(read.CustomerNotes).toBe("a]]>b ]]]> <tag> & 'q' \"dq\" 😀 end")
    expect(read.LastModified).toBe("01/01/2026 10:05")
    expect(read.Items.Item[0]).toMatchObject({
      SKU: "S]]>1",
      Name: "Mug & «saucer» 李",
      UnitPrice: "2.01"
    })
  })

  it("prints money like Decimal.fixed: two places, half away from zero, no negative zero, no leading zeros", () => {
    const values = ["0", "-0", "-0.00", "-0.004", "-0.005", "5", "5.", "12.5", "007.50", "0.125", "-2.345"]
    const more = ["99999999999999999999.995", "1.10", "-1", "0.1", "-00.10", "3.14159", "10"]
    for (const value of [...values, ...more]) {
      const decimal = Decimal.parse(value)
      if (decimal === undefined) throw new Error(`test value ${value} is not a decimal`)
      const order = makeOrder("M1", { orderTotal: decimal })
      const xml = ExportXml.render([{ order, stamp }], 1)
      expect(xml, value).toContain(`<OrderTotal>${Decimal.fixed(decimal, 2)}</OrderTotal>`)
    }
  })
})

describe("FieldRules.clean", () => {
  it("keeps exactly the characters XML 1.0 allows, one UTF-16 code unit at a time", () => {
    const allowed = (c: number) =>
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd)
    for (let c = 0; c <= 0xffff; c++) {
      const s = `a${String.fromCharCode(c)}b`
      if (FieldRules.clean(s) !== (allowed(c) ? s : "ab")) throw new Error(`U+${c.toString(16)} handled wrongly`)
    }
  })

  it("keeps surrogate pairs and drops unpaired halves wherever they are", () => {
    expect(FieldRules.clean("😀")).toBe("😀")
    expect(FieldRules.clean("\uD83D")).toBe("")
    expect(FieldRules.clean("\uDE00x\uD83D")).toBe("x")
    expect(FieldRules.clean("\uD83D\uD83D\uDE00")).toBe("😀")
    expect(FieldRules.clean("a\uDE00\uD83Db")).toBe("ab")
  })
})
