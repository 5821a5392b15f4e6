/**
 * A stable fingerprint of an order's content, used to tell "re-polled, unchanged" from "changed".
 * Pure (no crypto API needed): FNV-1a 64-bit over a canonical JSON rendering with sorted keys.
 * `posModifiedAt` is excluded: a re-save is detected from the POS time, a change from the content.
 */
import * as Order from "./Order.js"

const canonical = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
}

const fnv1a64 = (text: string): string => {
  let hash = 0xcbf29ce484222325n
  const prime = 0x100000001b3n
  const mask = 0xffffffffffffffffn
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i))
    hash = (hash * prime) & mask
  }
  return hash.toString(16).padStart(16, "0")
}

export const ofOrder = (order: Order.Order): string => {
  const { posModifiedAt: _ignored, ...content } = Order.encode(order)
  return fnv1a64(canonical(content))
}

export const ofJson = (value: unknown): string => fnv1a64(canonical(value))
