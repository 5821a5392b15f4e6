import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Either, FastCheck as fc, Schema } from "effect"
import { ContentHash, Order } from "../src/index.js"

/** The content hash as first written (entries/filter/sort/map/join over `Order.encode`): the oracle. */
const referenceCanonical = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(referenceCanonical).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonical(v)}`).join(",")}}`
}
const referenceHash = (text: string): string => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0")
}
const referenceOfOrder = (order: Order.Order) => {
  const { posModifiedAt: _ignored, ...content } = Order.encode(order)
  return referenceHash(referenceCanonical(content))
}

const orders = Arbitrary.make(Order.Order)

describe("Order.toJson", () => {
  it("writes exactly the JSON text of the schema's encoding, key order included", () => {
    fc.assert(
      fc.property(orders, (order) => {
        expect(JSON.stringify(Order.toJson(order))).toBe(JSON.stringify(Order.encode(order)))
      }),
      { numRuns: 500 }
    )
  })
})

describe("ContentHash", () => {
  // Stored hashes decide "unchanged" versus "changed" after an upgrade: a different hash for the same content
  // would restamp (and send again) every order of every store.
  it("gives every order the hash the first implementation gave", () => {
    fc.assert(
      fc.property(orders, (order) => {
        expect(ContentHash.ofOrder(order)).toBe(referenceOfOrder(order))
      }),
      { numRuns: 500 }
    )
  })

  it("keeps ofJson's canonical form for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(ContentHash.ofJson(value)).toBe(referenceHash(referenceCanonical(value)))
      }),
      { numRuns: 500 }
    )
  })
})

const decodedBySchema = (u: unknown) => Either.getOrUndefined(Schema.decodeUnknownEither(Order.Order)(u))
const sameOrder = (a: Order.Order | undefined, b: Order.Order | undefined) =>
  a === undefined || b === undefined ? a === b : JSON.stringify(Order.encode(a)) === JSON.stringify(Order.encode(b))

/** JSON close to an order's: one field of a valid order replaced by an arbitrary JSON value, or removed. */
const nearOrders = fc
  .tuple(orders, fc.jsonValue(), fc.nat(), fc.nat(), fc.boolean())
  .map(([order, replacement, i, j, remove]) => {
    const json = JSON.parse(JSON.stringify(Order.toJson(order))) as Record<string, unknown>
    const paths: Array<[Record<string, unknown>, string]> = []
    const walk = (o: Record<string, unknown>) => {
      for (const k of Object.keys(o)) {
        paths.push([o, k])
        const v = o[k]
        if (Array.isArray(v)) {
          for (const x of v) if (typeof x === "object" && x !== null) walk(x as Record<string, unknown>)
        } else if (typeof v === "object" && v !== null) {
          walk(v as Record<string, unknown>)
        }
      }
    }
    walk(json)
    const [target, key] = paths[(i + j) % paths.length]!
    if (remove) delete target[key]
    else target[key] = replacement
    return json
  })

describe("Order.fromJson", () => {
  it("reads back every order toJson writes, as the schema does", () => {
    fc.assert(
      fc.property(orders, (order) => {
        const json = JSON.parse(JSON.stringify(Order.toJson(order)))
        const fast = Order.fromJson(json)
        expect(fast).toBeDefined()
        expect(sameOrder(fast, decodedBySchema(json))).toBe(true)
        expect(DateTime.isDateTime(fast?.orderDate)).toBe(true)
      }),
      { numRuns: 500 }
    )
  })

  it("on any other JSON, answers nothing or exactly what the schema answers", () => {
    fc.assert(
      fc.property(nearOrders, (json) => {
        const fast = Order.fromJson(json)
        if (fast !== undefined) expect(sameOrder(fast, decodedBySchema(json))).toBe(true)
        const bySchema = decodedBySchema(json)
        // What the schema refuses is never accepted here.
        if (bySchema === undefined) expect(fast).toBeUndefined()
      }),
      { numRuns: 1000 }
    )
  }, 60_000)
})
