import { describe, expect, it } from "@effect/vitest"
import { Either, Option, Redacted } from "effect"
import { XMLValidator } from "fast-xml-parser"
import { Countries, Credentials, ExportQuery, ExportXml, FieldRules, ShipNoticeXml } from "../src/index.js"
import { makeOrder } from "./support/Harness.js"

describe("Countries", () => {
  it("maps country names and codes to ISO 3166-1 alpha-2, and refuses to guess the rest", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["United States of America", "US"],
      [" us ", "US"],
      ["Côte d’Ivoire", "CI"],
      ["Deutschland", "DE"],
      ["UK", "GB"],
      ["USA", "US"],
      ["DEU", undefined],
      ["Atlantis", undefined]
    ]
    expect(cases.map(([name]) => Countries.toAlpha2(name))).toEqual(cases.map(([, code]) => code))
    expect(Countries.countryCodes.size).toBeGreaterThan(240)
  })

  it("maps US state and Canadian province names to their codes", () => {
    expect(Countries.stateCode("US", "new york")).toBe("NY")
    expect(Countries.stateCode("US", "ca")).toBe("CA")
    expect(Countries.stateCode("CA", "Québec")).toBe("QC")
    expect(Countries.stateCode("CA", "Texas")).toBeUndefined()
  })
})

describe("Credentials", () => {
  const expected = { username: "shop", password: Redacted.make("pässword") }
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`
  const none = new URLSearchParams()

  it("compares strings over UTF-8 bytes, including different lengths", () => {
    expect(Credentials.constantTimeEqual("pässword", "pässword")).toBe(true)
    expect(Credentials.constantTimeEqual("pässword", "passsword")).toBe(false)
    expect(Credentials.constantTimeEqual("abc", "abcd")).toBe(false)
    expect(Credentials.constantTimeEqual("", "")).toBe(true)
  })

  it("accepts HTTP Basic (with a colon inside the password) or the SS- query parameters", () => {
    expect(Credentials.verify(expected, basic("shop", "pässword"), none)).toBeUndefined()
    const withColon = { username: "shop", password: Redacted.make("a:b") }
    expect(Credentials.verify(withColon, basic("shop", "a:b"), none)).toBeUndefined()
    const query = new URLSearchParams({ "SS-UserName": "shop", "SS-Password": "pässword" })
    expect(Credentials.verify(expected, undefined, query)).toBeUndefined()
  })

  it("refuses wrong, missing and malformed credentials with distinct sentences", () => {
    expect(Credentials.verify(expected, basic("shop", "nope"), none)?.reason).toBe("wrong")
    expect(Credentials.verify(expected, basic("other", "pässword"), none)?.reason).toBe("wrong")
    expect(Credentials.verify(expected, undefined, none)?.reason).toBe("missing")
    expect(Credentials.verify(expected, "Basic !!!", none)?.reason).toBe("malformed")
    expect(Credentials.fromRequest(undefined, new URLSearchParams({ "SS-UserName": "shop" }))).toEqual(Option.none())
  })
})

describe("ExportQuery", () => {
  const q = (s: string) => new URLSearchParams(s)
  it("decodes the action, the window and the page, page defaulting to 1", () => {
    expect(ExportQuery.decodeAction(q("action=Export"))).toEqual(Either.right("export"))
    const decoded = ExportQuery.decodeExport(q("start_date=01%2f23%2f2012+17%3a28&end_date=01/23/2012 18:28"))
    expect(Either.map(decoded, (d) => d.page)).toEqual(Either.right(1))
    expect(ExportQuery.decodePage(q("page=3"))).toEqual(Either.right(3))
  })

  it("reads the window in the store's time zone when it overrides UTC", () => {
    const decoded = ExportQuery.decodeExport(
      q("start_date=01/23/2012 09:00&end_date=01/23/2012 10:00"),
      "America/Los_Angeles"
    )
    expect(Either.getOrThrow(decoded).window.start.epochMillis).toBe(Date.parse("2012-01-23T17:00:00Z"))
  })

  it("refuses bad values with a sentence naming the parameter", () => {
    const left = <A>(e: Either.Either<A, ExportQuery.BadParameter>) => Either.flip(e).pipe(Either.getOrThrow).message
    expect(left(ExportQuery.decodePage(q("page=0")))).toBe(
      'The page parameter must be a positive whole number such as 1 or 2 (got "0").'
    )
    expect(left(ExportQuery.decodeAction(q("action=ship")))).toBe(
      'Unknown action "ship"; expected "export" or "shipnotify".'
    )
    expect(left(ExportQuery.decodeExport(q("start_date=01/23/2012 18:00&end_date=01/23/2012 17:00")))).toContain(
      "start_date is after end_date"
    )
  })
})

describe("FieldRules", () => {
  it("repairs what it can and says so", () => {
    const result = FieldRules.check(
      makeOrder("r", {
        currency: "usd",
        shipTo: { name: "", address1: "1 Main", city: "Austin", state: "Texas", country: "United States" },
        lines: [
          { lineId: "1", sku: "A", name: "", quantity: 2, unitPrice: "3" },
          { lineId: "2", sku: "B", name: "Returned", quantity: 0, unitPrice: "3" },
          { lineId: "3", sku: "", name: "Coupon", quantity: 1, unitPrice: "-1" }
        ]
      })
    )
    if (result._tag !== "Ok") throw new Error(result.reasons.join("; "))
    expect(result.order.currency).toBe("USD")
    expect(result.order.shipTo).toMatchObject({ name: "Ada Lovelace", state: "TX", country: "US" })
    expect(result.order.lines.map((l) => [l.sku, l.name, l.adjustment])).toEqual([
      ["A", "A", false],
      ["ADJUSTMENT", "Coupon", true]
    ])
    expect(result.repairs).toEqual([
      'ShipTo/Name: empty, used "Ada Lovelace"',
      'ShipTo/Country: "United States" sent as US',
      'ShipTo/State: "Texas" sent as TX',
      "Item 1 (1)/Name: empty, used the SKU",
      "Item 2 (2): quantity 0 is not shippable, line left out",
      "Item 3 (3): negative unit price, sent as an Adjustment"
    ])
  })

  it("holds an order with nothing to ship, an unknown state or a quantity above 99999", () => {
    const refundOnly = FieldRules.check(
      makeOrder("h", { lines: [{ lineId: "1", sku: "A", name: "A", quantity: -1, unitPrice: "3" }] })
    )
    expect(refundOnly).toMatchObject({ _tag: "Held" })
    const badState = FieldRules.check(
      makeOrder("s", { shipTo: { name: "X", address1: "1", city: "Y", state: "Narnia", country: "US" } })
    )
    expect(badState).toEqual({ _tag: "Held", reasons: ['ShipTo/State "Narnia" is not a US state'] })
    const huge = FieldRules.check(
      makeOrder("q", { lines: [{ lineId: "1", sku: "A", name: "A", quantity: 100000, unitPrice: "3" }] })
    )
    expect(huge).toEqual({ _tag: "Held", reasons: ["Item 1 (1): quantity 100000 is above ShipStation's 99999"] })
  })

  it("cuts text without splitting a surrogate pair and removes characters XML forbids", () => {
    expect(FieldRules.truncate("ab🎉", 3)).toBe("ab")
    expect(FieldRules.clean("a\u0000b\u0008c\uFFFEd\uD800e😀")).toBe("abcde😀")
  })
})

describe("ExportXml", () => {
  it("splits ]]> across adjacent CDATA sections", () => {
    expect(ExportXml.cdata("a]]>b]]>")).toEqual({ __cdata: ["a]]", ">b]]", ">"] })
  })

  it('renders an empty page as a valid <Orders pages="0"></Orders> document', () => {
    const xml = ExportXml.render([], 0)
    expect(xml).toBe('<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="0"></Orders>\n')
    expect(XMLValidator.validate(xml)).toBe(true)
  })
})

describe("ShipNoticeXml", () => {
  const query = new URLSearchParams({ order_number: "Q-1", carrier: "USPS", tracking_number: "TQ" })
  it("takes the body's values first and the query parameters as fallback", () => {
    const notice = Either.getOrThrow(
      ShipNoticeXml.decode(
        "alpha",
        "<ShipNotice><OrderNumber>00123</OrderNumber><Carrier>UPS</Carrier></ShipNotice>",
        query
      )
    )
    expect(notice).toMatchObject({ orderNumber: "00123", carrier: "UPS", trackingNumber: "TQ", items: [] })
  })

  it("reads a form body whose field holds the XML", () => {
    const body = new URLSearchParams({
      xml: "<ShipNotice><OrderID>9</OrderID><TrackingNumber>T</TrackingNumber></ShipNotice>"
    })
    const notice = Either.getOrThrow(ShipNoticeXml.decode("alpha", body.toString(), new URLSearchParams()))
    expect(notice).toMatchObject({ orderId: "9", orderNumber: "9", trackingNumber: "T", carrier: "" })
  })

  it("refuses a DOCTYPE, a non-XML body and a wrong root; keeps an invalid Quantity for the operator", () => {
    const message = (body: string) =>
      Either.flip(ShipNoticeXml.decode("alpha", body, query)).pipe(Either.getOrThrow).message
    expect(message('<!DOCTYPE x SYSTEM "http://evil/">\n<ShipNotice/>')).toBe(
      "The ship notice contains a DOCTYPE or ENTITY declaration, which is not accepted."
    )
    expect(message("just text")).toBe(
      "The ship notice body is neither XML nor form data; send a <ShipNotice> document."
    )
    expect(message("<Orders></Orders>")).toBe("The XML body has no <ShipNotice> root element.")
    const twoOf = Either.getOrThrow(
      ShipNoticeXml.decode(
        "alpha",
        "<ShipNotice><Items><Item><Quantity>two</Quantity></Item></Items></ShipNotice>",
        query
      )
    )
    expect(twoOf.problems).toEqual([
      { severity: "attention", message: 'Item 1 of the notice has an invalid Quantity "two".' }
    ])
  })
})
