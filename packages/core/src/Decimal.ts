/**
 * Exact decimal amounts. Money never passes through a binary float: values are decimal strings
 * (`"317.10"`, `"-5"`) validated by a Schema, and arithmetic is done on scaled bigints.
 */
import { Schema } from "effect"

const pattern = /^-?\d+(\.\d+)?$/

export const Decimal = Schema.String.pipe(
  Schema.pattern(pattern, {
    message: () => "expected a decimal number such as 12.50 (no exponent, no thousands separator)"
  }),
  Schema.brand("Decimal")
)
export type Decimal = typeof Decimal.Type

/** Builds a Decimal from a string, throwing on a malformed value (for literals and tests). */
export const unsafeMake = (value: string): Decimal => Decimal.make(value.trim())

export const zero: Decimal = unsafeMake("0")

/** Parses POS input such as `"317.1"`, `" 5 "`, `"+3.00"`, `"-0.5"`; `undefined` when it is not a decimal. */
export const parse = (value: string | number | undefined | null): Decimal | undefined => {
  if (value === undefined || value === null) return undefined
  // A JSON number already went through a float once; its shortest decimal rendering is the closest we have.
  let s = (typeof value === "number" ? (Number.isFinite(value) ? String(value) : "") : value).trim()
  if (s.startsWith("+")) s = s.slice(1)
  if (s.startsWith(".")) s = `0${s}`
  if (s.startsWith("-.")) s = `-0${s.slice(1)}`
  if (s.endsWith(".")) s = s.slice(0, -1)
  return pattern.test(s) ? (s as Decimal) : undefined
}

const scaleOf = (d: string) => {
  const i = d.indexOf(".")
  return i < 0 ? 0 : d.length - i - 1
}

const toScaled = (d: string, scale: number): bigint => {
  const negative = d.startsWith("-")
  const body = negative ? d.slice(1) : d
  const [int = "0", frac = ""] = body.split(".")
  const digits = BigInt(int + frac.padEnd(scale, "0").slice(0, scale))
  return negative ? -digits : digits
}

const fromScaled = (n: bigint, scale: number): Decimal => {
  const negative = n < 0n
  const abs = (negative ? -n : n).toString().padStart(scale + 1, "0")
  const int = abs.slice(0, abs.length - scale)
  const frac = abs.slice(abs.length - scale)
  const s = scale > 0 ? `${int}.${frac}` : int
  return ((negative && /[1-9]/.test(s) ? "-" : "") + s) as Decimal
}

export const add = (a: Decimal, b: Decimal): Decimal => {
  const scale = Math.max(scaleOf(a), scaleOf(b))
  return fromScaled(toScaled(a, scale) + toScaled(b, scale), scale)
}

export const sum = (values: Iterable<Decimal>): Decimal => {
  let acc = zero
  for (const v of values) acc = add(acc, v)
  return acc
}

export const negate = (a: Decimal): Decimal => fromScaled(-toScaled(a, scaleOf(a)), scaleOf(a))

export const multiplyInt = (a: Decimal, n: number): Decimal =>
  fromScaled(toScaled(a, scaleOf(a)) * BigInt(n), scaleOf(a))

export const compare = (a: Decimal, b: Decimal): -1 | 0 | 1 => {
  const scale = Math.max(scaleOf(a), scaleOf(b))
  const x = toScaled(a, scale)
  const y = toScaled(b, scale)
  return x < y ? -1 : x > y ? 1 : 0
}

export const isNegative = (a: Decimal): boolean => compare(a, zero) < 0
export const isZero = (a: Decimal): boolean => compare(a, zero) === 0

/** Rounds half away from zero to `places` decimals and always prints them: `fixed("2.005", 2) === "2.01"`. */
export const fixed = (a: Decimal, places = 2): string => {
  const scale = scaleOf(a)
  if (scale <= places) return fromScaled(toScaled(a, places), places)
  const n = toScaled(a, scale)
  const divisor = 10n ** BigInt(scale - places)
  const abs = n < 0n ? -n : n
  let q = abs / divisor
  if ((abs % divisor) * 2n >= divisor) q += 1n
  return fromScaled(n < 0n ? -q : q, places)
}
