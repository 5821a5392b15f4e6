import { describe, expect, it } from "@effect/vitest"
import { Decimal } from "../src/index.js"

const d = Decimal.unsafeMake

describe("Decimal", () => {
  it("adds money without float drift", () => {
    expect(Decimal.add(d("0.1"), d("0.2"))).toBe("0.3")
    expect(Decimal.sum([d("19.99"), d("0.01"), d("-5")])).toBe("15.00")
  })
  it("formats with two places, rounding half away from zero", () => {
    expect(Decimal.fixed(d("317.1"))).toBe("317.10")
    expect(Decimal.fixed(d("2.005"))).toBe("2.01")
    expect(Decimal.fixed(d("-2.005"))).toBe("-2.01")
    expect(Decimal.fixed(d("0"))).toBe("0.00")
    expect(Decimal.fixed(d("-0.001"))).toBe("0.00")
  })
  it("parses POS strings and rejects what is not a number", () => {
    expect(Decimal.parse("317.1")).toBe("317.1")
    expect(Decimal.parse(" +3. ")).toBe("3")
    expect(Decimal.parse("-.5")).toBe("-0.5")
    expect(Decimal.parse("1e3")).toBeUndefined()
    expect(Decimal.parse("")).toBeUndefined()
    expect(Decimal.parse("12,50")).toBeUndefined()
  })
  it("multiplies by a quantity and compares", () => {
    expect(Decimal.multiplyInt(d("2.50"), 3)).toBe("7.50")
    expect(Decimal.compare(d("2.5"), d("2.50"))).toBe(0)
    expect(Decimal.isNegative(d("-0.01"))).toBe(true)
  })
})
