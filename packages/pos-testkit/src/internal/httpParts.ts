/**
 * Reading the parts of an outgoing `HttpClientRequest` that replay and recording compare.
 * @internal
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

const decoder = new TextDecoder()

/** The request body as text, or `undefined` when there is none. */
export const requestBodyText = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<string | undefined> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(undefined)
    case "Uint8Array":
      return Effect.succeed(decoder.decode(body.body))
    case "Raw": {
      const raw = body.body
      if (typeof raw === "string") return Effect.succeed(raw)
      if (raw instanceof Uint8Array) return Effect.succeed(decoder.decode(raw))
      if (raw instanceof URLSearchParams) return Effect.succeed(raw.toString())
      return Effect.succeed(String(raw))
    }
    case "FormData": {
      const params = new URLSearchParams()
      body.formData.forEach((value, key) => {
        params.append(key, typeof value === "string" ? value : `<file ${value.name}>`)
      })
      return Effect.succeed(params.toString())
    }
    case "Stream":
      return body.stream.pipe(
        Stream.runFold("", (acc, chunk: Uint8Array) => acc + decoder.decode(chunk, { stream: true })),
        Effect.orDie
      )
  }
}

/** The request's content type, from the body or the headers. */
export const requestContentType = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const fromBody = request.body._tag === "Empty" ? undefined : request.body.contentType
  return fromBody ?? request.headers["content-type"]
}

export const isFormContentType = (contentType: string | undefined): boolean =>
  contentType?.toLowerCase().includes("application/x-www-form-urlencoded") ?? false

export const isJsonContentType = (contentType: string | undefined): boolean =>
  contentType === undefined ? false : /[/+]json\b/i.test(contentType)

/** Path plus query of a URL, without scheme and host (the fixture `url` form). */
export const pathAndQuery = (url: URL): string => `${url.pathname}${url.search}`

/** Parses a fixture url (path + query, no host) or an absolute url into a URL object. */
export const parseUrl = (url: string): URL => new URL(url, "http://replay.invalid")

/** Query parameters as a multiset: key -> values, each list sorted so order does not matter. */
export const queryMultiset = (params: URLSearchParams): Map<string, Array<string>> => {
  const out = new Map<string, Array<string>>()
  for (const [key, value] of params) {
    const list = out.get(key)
    if (list === undefined) out.set(key, [value])
    else list.push(value)
  }
  for (const list of out.values()) list.sort()
  return out
}

export const safeDecodePath = (path: string): string => {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
