/**
 * Wraps a real `HttpClient` and captures every exchange, with secrets redacted, in the fixture format. Used by
 * the recorder (an app with network access) to turn a session against a real POS into a fixture file.
 *
 * @since 0.0.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import {
  isFormContentType,
  isJsonContentType,
  parseUrl,
  pathAndQuery,
  requestBodyText,
  requestContentType
} from "./internal/httpParts.js"
import { tryParseJson } from "./internal/json.js"
import { defaultSecretKeys, type Exchange, type Method, redact, redactFormText, redactUrl } from "./RecordedExchange.js"

export interface Options {
  /** Keys redacted in headers, bodies, query and form parameters. Default `RecordedExchange.defaultSecretKeys`. */
  readonly secretKeys?: ReadonlyArray<string> | undefined
  /** Header names kept in the fixture (case-insensitive); others are dropped. Default: all, redacted. */
  readonly keepHeaders?: ReadonlyArray<string> | undefined
}

/** The captured exchanges so far, in request order. */
export class Recorder extends Context.Tag("@posbridge/pos-testkit/RecordingHttpClient/Recorder")<
  Recorder,
  {
    readonly exchanges: Effect.Effect<ReadonlyArray<Exchange>>
  }
>() {}

const recordBody = (
  text: string | undefined,
  contentType: string | undefined,
  secretKeys: ReadonlyArray<string>
): { body?: unknown } => {
  if (text === undefined || text === "") return {}
  if (isFormContentType(contentType)) return { body: redactFormText(text, secretKeys) }
  const parsed = tryParseJson(text)
  // A JSON body is stored as a value so fixtures stay readable; anything else (or truncated JSON) as text.
  if (parsed.ok && (isJsonContentType(contentType) || contentType === undefined)) {
    return { body: redact(parsed.value, secretKeys) }
  }
  return { body: text }
}

const recordHeaders = (
  headers: Readonly<Record<string, string>>,
  options: Options,
  secretKeys: ReadonlyArray<string>
): { headers?: Record<string, string> } => {
  const keep = options.keepHeaders?.map((h) => h.toLowerCase())
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (keep !== undefined && !keep.includes(name.toLowerCase())) continue
    out[name.toLowerCase()] = value
  }
  return Object.keys(out).length === 0 ? {} : { headers: redact(out, secretKeys) }
}

/** Wraps `client` so that each exchange is appended (redacted) to `into`. */
export const wrap = (client: HttpClient.HttpClient, into: Ref.Ref<ReadonlyArray<Exchange>>, options: Options = {}) => {
  const secretKeys = options.secretKeys ?? defaultSecretKeys
  return HttpClient.transform(client, (effect, request: HttpClientRequest.HttpClientRequest) =>
    Effect.gen(function* () {
      const requestText = yield* requestBodyText(request)
      const response = yield* effect
      // A web body can be read once: read it here and hand the adapter a fresh response with the same bytes.
      const bytes = yield* Effect.orDie(response.arrayBuffer)
      const responseText = new TextDecoder().decode(bytes)
      const url = Either.getOrElse(UrlParams.makeUrl(request.url, request.urlParams, request.hash), () =>
        parseUrl(request.url)
      )
      const exchange: Exchange = {
        request: {
          method: request.method as Method,
          url: redactUrl(pathAndQuery(url), secretKeys),
          ...recordHeaders(request.headers, options, secretKeys),
          ...recordBody(requestText, requestContentType(request), secretKeys)
        },
        response: {
          status: response.status,
          ...recordHeaders(response.headers, options, secretKeys),
          ...recordBody(responseText, response.headers["content-type"], secretKeys)
        }
      }
      yield* Ref.update(into, (all) => [...all, exchange])
      return HttpClientResponse.fromWeb(
        request,
        new Response(bytes.byteLength === 0 ? null : bytes, { status: response.status, headers: response.headers })
      )
    })
  )
}

/**
 * Replaces the `HttpClient` in context with a recording one and provides the `Recorder`. Requires the real
 * `HttpClient` (for example `FetchHttpClient.layer`).
 */
export const layer = (
  options: Options = {}
): Layer.Layer<HttpClient.HttpClient | Recorder, never, HttpClient.HttpClient> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const into = yield* Ref.make<ReadonlyArray<Exchange>>([])
      return Context.make(HttpClient.HttpClient, wrap(client, into, options)).pipe(
        Context.add(Recorder, { exchanges: Ref.get(into) })
      )
    })
  )
