import { describe, expect, it } from "@effect/vitest"
import { Lru } from "../src/index.js"

describe("Lru", () => {
  it("drops the least recently used entry past its capacity; a lookup makes an entry recent", () => {
    const lru = new Lru.Lru<string, number>(2)
    lru.set("a", 1)
    lru.set("b", 2)
    expect(lru.get("a")).toBe(1)
    lru.set("c", 3)
    expect([lru.get("a"), lru.get("b"), lru.get("c")]).toEqual([1, undefined, 3])
    lru.set("a", 10)
    lru.set("d", 4)
    expect([lru.get("a"), lru.get("c"), lru.get("d"), lru.size]).toEqual([10, undefined, 4, 2])
  })

  it("keeps nothing with capacity 0", () => {
    const lru = new Lru.Lru<string, number>(0)
    lru.set("a", 1)
    expect([lru.get("a"), lru.size]).toEqual([undefined, 0])
  })
})
