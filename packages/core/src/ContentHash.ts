/**
 * A stable fingerprint of an order's content, used to tell "re-polled, unchanged" from "changed".
 * Pure (no crypto API needed): a 64-bit hash over a canonical JSON rendering with sorted keys.
 * `posModifiedAt` is excluded: a re-save is detected from the POS time, a change from the content.
 */
import * as Order from "./Order.js"

/** JSON text of object keys, kept: the same few dozen keys are written for every order. */
const keyTexts = new Map<string, string>()
const keyText = (k: string): string => {
  let t = keyTexts.get(k)
  if (t === undefined) {
    t = JSON.stringify(k)
    if (keyTexts.size < 1024) keyTexts.set(k, t)
  }
  return t
}

/**
 * JSON with object keys sorted (UTF-16 code unit order) and `undefined` members left out, written in one pass
 * with plain loops: the `entries`/`filter`/`sort`/`map`/`join` version allocated several arrays per object.
 */
const canonical = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) {
    let out = "["
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonical(value[i])
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  let out = "{"
  let first = true
  for (const k of keys) {
    const v = record[k]
    if (v === undefined) continue
    out += `${first ? "" : ","}${keyText(k)}:${canonical(v)}`
    first = false
  }
  return `${out}}`
}

/**
 * cyrb53-style 64-bit string hash on 32-bit integer multiplies: several times faster than a BigInt FNV-1a,
 * which dominated ingest. Change detection needs stability and a low collision rate, not cryptography.
 */
const hash64 = (text: string): string => {
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

export const ofOrder = (order: Order.Order): string => ofEncoded(Order.toJson(order))

/** `ofOrder` of the order whose JSON form (`Order.toJson`, `Order.encode`) is given. */
export const ofEncoded = (encoded: Order.OrderEncoded): string => {
  const { posModifiedAt: _ignored, ...content } = encoded
  return hash64(canonical(content))
}

export const ofJson = (value: unknown): string => hash64(canonical(value))
