import { HttpServerResponse } from "@effect/platform"

/** A one-line plain-text answer, the form operators and probes read. */
export const plainText = (status: number, body: string) =>
  HttpServerResponse.text(`${body}\n`, { status, contentType: "text/plain; charset=utf-8" })
