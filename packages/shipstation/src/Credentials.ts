/**
 * ShipStation's credentials for one store: HTTP Basic (documented) or the `SS-UserName` / `SS-Password`
 * query parameters (seen in the official shipnotify example). Either form is accepted; both are compared in
 * constant time so a response's timing never tells how much of a guess was right.
 */

import type { StoreSettings } from "@posbridge/core"
import { Data, Option, Redacted } from "effect"

export interface Presented {
  readonly username: string
  readonly password: string
}

const sentences = {
  missing: "Credentials are required: use HTTP Basic authentication or the SS-UserName and SS-Password parameters.",
  malformed: "The Authorization header is not valid HTTP Basic authentication.",
  wrong: "The username or password is wrong for this store."
} as const

export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  readonly reason: "missing" | "malformed" | "wrong"
}> {
  override get message() {
    return sentences[this.reason]
  }
}

const utf8 = new TextEncoder()

/**
 * Compares two strings over their UTF-8 bytes in time that depends only on the longer length: every byte is
 * visited and differences are OR-ed together, with no early exit.
 */
export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = utf8.encode(a)
  const y = utf8.encode(b)
  const length = Math.max(x.length, y.length)
  let diff = x.length ^ y.length
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}

const decodeBase64Utf8 = (b64: string): string | undefined => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) return undefined
  try {
    const binary = atob(b64)
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0))
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * The credentials a request presents. HTTP Basic wins when both forms are present (it is the documented one);
 * a malformed Authorization header is an error rather than silently ignored.
 */
export const fromRequest = (
  authorization: string | undefined,
  query: URLSearchParams
): Option.Option<Presented> | Unauthorized => {
  if (authorization !== undefined && authorization.trim() !== "") {
    const m = /^\s*basic\s+(\S+)\s*$/i.exec(authorization)
    if (!m) return new Unauthorized({ reason: "malformed" })
    const decoded = decodeBase64Utf8(m[1]!)
    const colon = decoded?.indexOf(":") ?? -1
    if (decoded === undefined || colon < 0) return new Unauthorized({ reason: "malformed" })
    return Option.some({ username: decoded.slice(0, colon), password: decoded.slice(colon + 1) })
  }
  const username = query.get("SS-UserName") ?? query.get("ss-username")
  const password = query.get("SS-Password") ?? query.get("ss-password")
  if (username !== null && password !== null) return Option.some({ username, password })
  return Option.none()
}

/** Checks a request's credentials against the store's; both fields are always compared. */
export const verify = (
  expected: StoreSettings.ShipStationCredentials,
  authorization: string | undefined,
  query: URLSearchParams
): Unauthorized | undefined => {
  const presented = fromRequest(authorization, query)
  if (presented instanceof Unauthorized) return presented
  if (Option.isNone(presented)) return new Unauthorized({ reason: "missing" })
  const userOk = constantTimeEqual(presented.value.username, expected.username)
  const passwordOk = constantTimeEqual(presented.value.password, Redacted.value(expected.password))
  return userOk && passwordOk ? undefined : new Unauthorized({ reason: "wrong" })
}
