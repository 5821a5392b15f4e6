/**
 * The server's log lines: readable text by default, one JSON object per line with `LOG_FORMAT=json`.
 *
 * Every entry is exactly one line in both formats, whatever its values hold: a store id, an order number or a
 * query string from a request may carry a line break or an escape sequence, and must not start a forged line
 * or repaint the operator's terminal. Text escapes control characters (as `Echo.safe` does for answers);
 * JSON.stringify escapes them by itself.
 */
import { Echo } from "@posbridge/core"
import {
  Cause,
  Context,
  Either,
  FiberId,
  FiberRef,
  FiberRefs,
  HashMap,
  Inspectable,
  type Layer,
  List,
  Logger,
  Option,
  Schema,
  Tracer
} from "effect"

export const Format = Schema.Literal("text", "json")
export type Format = typeof Format.Type

/** `LOG_FORMAT` (default text), or the sentence saying what it may be. */
export const formatFromEnv = (env: { readonly LOG_FORMAT?: string | undefined }): Either.Either<Format, string> => {
  const value = env.LOG_FORMAT?.trim().toLowerCase() || "text"
  return Either.mapLeft(
    Schema.decodeUnknownEither(Format)(value),
    () => `LOG_FORMAT must be "text" or "json", not ${Echo.quoted(env.LOG_FORMAT ?? "")}.`
  )
}

/** Annotations the code names either way (`storeId` in the ShipStation routes): one `store` field in the log. */
const storeKeys = new Set(["store", "storeId"])

const escape = (s: string) => Echo.safe(s, Number.POSITIVE_INFINITY)

/** A plain Error (no `toJSON` of its own, unlike Effect's tagged errors) shows its name and message. */
const plainError = (u: unknown): u is Error => u instanceof Error && !("toJSON" in u)

const text = (u: unknown): string =>
  typeof u === "string" ? u : plainError(u) ? `${u.name}: ${u.message}` : Inspectable.toStringUnknown(u, 0)

const json = (u: unknown): unknown =>
  typeof u === "string" ? u : plainError(u) ? { name: u.name, message: u.message } : Inspectable.toJSON(u)

/** The pieces of an entry both formats are made of. */
const entry = (options: Logger.Logger.Options<unknown>) => {
  const annotations: Array<readonly [string, unknown]> = []
  let store: string | undefined
  for (const [key, value] of HashMap.toEntries(options.annotations)) {
    if (storeKeys.has(key) && store === undefined) store = text(value)
    else annotations.push([key, value])
  }
  const span = Option.filter(
    Context.getOption(FiberRefs.getOrDefault(options.context, FiberRef.currentContext), Tracer.ParentSpan),
    (s) => s._tag === "Span"
  )
  const messages = Array.isArray(options.message) ? options.message : [options.message]
  return {
    time: options.date.toISOString(),
    level: options.logLevel.label,
    fiber: FiberId.threadName(options.fiberId),
    messages,
    store,
    annotations,
    span,
    logSpans: List.toArray(options.spans).map((s) => [s.label, options.date.getTime() - s.startTime] as const),
    cause: Cause.isEmpty(options.cause) ? undefined : Cause.pretty(options.cause, { renderErrorCause: true })
  }
}

/** A logfmt value: bare when it is one plain word, else quoted; escaped either way. */
const value = (u: unknown): string => {
  const s = text(u)
  return /^[^\s"=\\]+$/.test(s) && escape(s) === s ? s : `"${escape(s.replace(/["\\]/g, (c) => `\\${c}`))}"`
}

/** `[2026-12-03T16:11:51.146Z] INFO (#13): message store=shop key=value` */
export const textLogger: Logger.Logger<unknown, string> = Logger.make((options) => {
  const e = entry(options)
  let line = `[${e.time}] ${e.level} (${e.fiber}): ${e.messages.map((m) => escape(text(m))).join(" ")}`
  if (e.store !== undefined) line += ` store=${value(e.store)}`
  for (const [key, v] of e.annotations) line += ` ${escape(key)}=${value(v)}`
  for (const [label, ms] of e.logSpans) line += ` ${escape(label)}=${ms}ms`
  if (e.cause !== undefined) line += ` cause=${value(e.cause)}`
  return line
})

/** Keys of a JSON entry an annotation may not overwrite. */
const reserved = new Set(["time", "level", "fiber", "message", "store", "traceId", "spanId", "cause", "spans"])

/** `{"time":"…","level":"INFO","message":"…","store":"shop","traceId":"…","spanId":"…",…annotations}` */
export const jsonLogger: Logger.Logger<unknown, string> = Logger.make((options) => {
  const e = entry(options)
  const structured = e.messages.map(json)
  const out: Record<string, unknown> = {
    time: e.time,
    level: e.level,
    fiber: e.fiber,
    message: structured.length === 1 ? structured[0] : structured
  }
  if (e.store !== undefined) out.store = e.store
  if (Option.isSome(e.span)) {
    out.traceId = e.span.value.traceId
    out.spanId = e.span.value.spanId
  }
  for (const [key, v] of e.annotations) out[reserved.has(key) ? `annotation.${key}` : key] = json(v)
  if (e.logSpans.length > 0) out.spans = Object.fromEntries(e.logSpans)
  if (e.cause !== undefined) out.cause = e.cause
  return Inspectable.stringifyCircular(out)
})

export const logger = (format: Format): Logger.Logger<unknown, string> => (format === "json" ? jsonLogger : textLogger)

/** Effect's default logger replaced by the one of `format`, each entry one line on standard output. */
export const layer = (format: Format): Layer.Layer<never> =>
  Logger.replace(Logger.defaultLogger, Logger.withConsoleLog(logger(format)))
