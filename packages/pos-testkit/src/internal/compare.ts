/**
 * How a request is compared with its recorded exchange: method, decoded path, query as an order-insensitive
 * multiset, chosen headers, and the body (deep JSON equality, form parameters, or text). `"<redacted>"` in the
 * recording matches anything. Each difference names its field and both values.
 */

import { type Exchange, REDACTED } from "../RecordedExchange.js"
import { isFormContentType, parseUrl, queryMultiset, safeDecodePath } from "./httpParts.js"
import { formatPath, isPlainObject, show, tryParseJson } from "./json.js"

/** One field that differs (the shape of `ReplayHttpClient.Difference`). */
export interface Difference {
  readonly field: string
  readonly expected: string
  readonly actual: string
}

export interface ActualRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly contentType: string | undefined
  readonly bodyText: string | undefined
}

const MAX_DIFFERENCES = 20

export const describeRecorded = (exchange: Exchange): string => `${exchange.request.method} ${exchange.request.url}`

const showValues = (values: ReadonlyArray<string> | undefined): string =>
  values === undefined ? "(absent)" : values.length === 1 ? show(values[0]) : show(values)

const valuesMatch = (expected: ReadonlyArray<string>, actual: ReadonlyArray<string>): boolean => {
  if (expected.length !== actual.length) return false
  const remaining = [...actual]
  for (const value of expected.filter((v) => v !== REDACTED)) {
    const at = remaining.indexOf(value)
    if (at < 0) return false
    remaining.splice(at, 1)
  }
  return true
}

const diffParams = (
  label: string,
  expected: Map<string, Array<string>>,
  actual: Map<string, Array<string>>,
  out: Array<Difference>
): void => {
  const keys = [...new Set([...expected.keys(), ...actual.keys()])].sort()
  for (const key of keys) {
    const e = expected.get(key)
    const a = actual.get(key)
    if (e !== undefined && a !== undefined && valuesMatch(e, a)) continue
    out.push({ field: `${label} ${JSON.stringify(key)}`, expected: showValues(e), actual: showValues(a) })
  }
}

const diffJson = (expected: unknown, actual: unknown, path: Array<PropertyKey>, out: Array<Difference>): void => {
  if (out.length >= MAX_DIFFERENCES) return
  if (expected === REDACTED && actual !== undefined) return
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) {
      out.push({
        field: formatPath(path),
        expected: `an array of ${expected.length} item(s)`,
        actual: `${actual.length} item(s): ${show(actual)}`
      })
      return
    }
    for (const [i, item] of expected.entries()) diffJson(item, actual[i], [...path, i], out)
    return
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])]
    for (const key of keys) diffJson(expected[key], actual[key], [...path, key], out)
    return
  }
  if (isPlainObject(expected) || isPlainObject(actual) || Array.isArray(expected) || Array.isArray(actual)) {
    out.push({ field: formatPath(path), expected: show(expected), actual: show(actual) })
    return
  }
  if (!Object.is(expected, actual))
    out.push({ field: formatPath(path), expected: show(expected), actual: show(actual) })
}

const diffBody = (expected: unknown, actual: ActualRequest, out: Array<Difference>): void => {
  const text = actual.bodyText
  if (text === undefined || text === "") {
    out.push({ field: "body", expected: show(expected), actual: "(no body)" })
    return
  }
  if (typeof expected === "string") {
    if (expected === text) return
    if (isFormContentType(actual.contentType)) {
      diffParams(
        "body param",
        queryMultiset(new URLSearchParams(expected)),
        queryMultiset(new URLSearchParams(text)),
        out
      )
      return
    }
    const e = tryParseJson(expected)
    const a = tryParseJson(text)
    if (e.ok && a.ok) diffJson(e.value, a.value, ["body"], out)
    else out.push({ field: "body", expected: show(expected), actual: show(text) })
    return
  }
  const parsed = tryParseJson(text)
  if (!parsed.ok) {
    out.push({ field: "body", expected: `JSON ${show(expected)}`, actual: `non-JSON text ${show(text)}` })
    return
  }
  diffJson(expected, parsed.value, ["body"], out)
}

export const compare = (
  exchange: Exchange,
  actual: ActualRequest,
  matchHeaders: ReadonlyArray<string>
): ReadonlyArray<Difference> => {
  const out: Array<Difference> = []
  const recorded = exchange.request
  if (recorded.method !== actual.method.toUpperCase()) {
    out.push({ field: "method", expected: recorded.method, actual: actual.method })
  }
  const expectedUrl = parseUrl(recorded.url)
  const expectedPath = safeDecodePath(expectedUrl.pathname)
  const actualPath = safeDecodePath(actual.url.pathname)
  if (expectedPath !== actualPath) out.push({ field: "path", expected: show(expectedPath), actual: show(actualPath) })
  diffParams("query param", queryMultiset(expectedUrl.searchParams), queryMultiset(actual.url.searchParams), out)
  if (recorded.headers !== undefined && matchHeaders.length > 0) {
    const wanted = new Set(matchHeaders.map((h) => h.toLowerCase()))
    for (const [name, value] of Object.entries(recorded.headers)) {
      const key = name.toLowerCase()
      if (!wanted.has(key) || value === REDACTED) continue
      const got = actual.headers[key]
      if (got !== value) out.push({ field: `header ${JSON.stringify(key)}`, expected: show(value), actual: show(got) })
    }
  }
  if (recorded.body !== undefined) diffBody(recorded.body, actual, out)
  return out
}
