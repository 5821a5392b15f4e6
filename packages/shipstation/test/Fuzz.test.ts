/**
 * Property tests over hostile input (10,000 generated inputs each): every ship-notice body, query string and
 * Authorization header is either decoded or refused with one clean sentence; nothing throws, nothing echoes a
 * control character, and a decoded notice holds no field over the 4 KB limit.
 * `tooling/fuzz/shipstation.mjs` sends a million such requests to a running server over HTTP.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Redacted } from "effect"
import { Credentials, ExportQuery, ShipNoticeXml } from "../src/index.js"
import { authorization, body, bodyBytes, isCleanSentence, query } from "../src/testing/Hostile.js"

const runs = { numRuns: 10_000 }

const fieldsWithin = (value: unknown, max: number): boolean =>
  typeof value === "string"
    ? value.length <= max
    : typeof value === "object" && value !== null
      ? Object.values(value).every((v) => fieldsWithin(v, max))
      : true

describe("hostile input", () => {
  it("every ship-notice body (text or bytes in any encoding) is decoded or refused with one clean sentence", () => {
    const check = (decoded: ReturnType<typeof ShipNoticeXml.decode>) =>
      Either.match(decoded, {
        onLeft: (e) => isCleanSentence(e.message),
        onRight: (notice) =>
          fieldsWithin({ ...notice, problems: undefined }, ShipNoticeXml.maxFieldLength) &&
          (notice.problems ?? []).every((p) => isCleanSentence(p.message, 1200))
      })
    fc.assert(
      fc.property(body, query, (b, q) => check(ShipNoticeXml.decode("alpha", b, q))),
      runs
    )
    fc.assert(
      fc.property(
        bodyBytes,
        query,
        fc.constantFrom(undefined, "text/xml; charset=iso-8859-1", "text/xml; charset=x"),
        (b, q, ct) => check(ShipNoticeXml.decode("alpha", b, q, ct))
      ),
      runs
    )
  }, 120_000)

  it("every query string is decoded into a window and page or refused with one clean sentence naming the parameter", () => {
    fc.assert(
      fc.property(
        query,
        fc.constantFrom("utc", "America/Los_Angeles"),
        (q, zone) =>
          Either.match(ExportQuery.decodeExport(q, zone), {
            onLeft: (e) =>
              isCleanSentence(e.sentence) && e.sentence.includes(e.parameter === "page" ? "page" : "_date"),
            onRight: ({ page }) => Number.isInteger(page) && page >= 1
          }) &&
          Either.match(ExportQuery.decodeAction(q), {
            onLeft: (e) => isCleanSentence(e.sentence),
            onRight: () => true
          })
      ),
      runs
    )
  }, 120_000)

  it("every Authorization header and SS-UserName/SS-Password pair is accepted only when it is right", () => {
    const expected = { username: "demo", password: Redacted.make("demo") }
    fc.assert(
      fc.property(authorization, query, (header, q) => {
        const refused = Credentials.verify(expected, header, q)
        if (refused !== undefined) return isCleanSentence(refused.message)
        const presented = Credentials.fromRequest(header, q)
        return (
          !(presented instanceof Credentials.Unauthorized) &&
          presented._tag === "Some" &&
          presented.value.username === "demo"
        )
      }),
      runs
    )
    expect(Credentials.verify(expected, "Basic ZGVtbzpkZW1v", new URLSearchParams())).toBeUndefined()
  }, 120_000)
})
