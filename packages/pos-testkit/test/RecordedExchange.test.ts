import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { RecordedExchange } from "../src/index.js"

const validFixture = {
  description: "two sales, one page",
  adapter: "lightspeed",
  settings: { accountId: "12345", refreshToken: "<redacted>" },
  exchanges: [
    {
      request: { method: "GET", url: "/API/V3/Account/12345/Sale.json?limit=100" },
      response: { status: 200, headers: { "x-ls-api-bucket-level": "1/90" }, body: { Sale: [] } },
      note: "first page"
    }
  ],
  expected: [{ orderNumber: "1" }]
}

describe("RecordedExchange", () => {
  it.effect("a valid fixture decodes, from text or from a parsed value", () =>
    Effect.gen(function* () {
      const fromValue = yield* RecordedExchange.decodeFixture(validFixture, "ok.json")
      const fromText = yield* RecordedExchange.decodeFixture(JSON.stringify(validFixture), "ok.json")
      expect(fromValue).toEqual(validFixture)
      expect(fromText).toEqual(fromValue)
      expect(RecordedExchange.encodeFixture(fromValue)).toContain('"adapter": "lightspeed"')
    })
  )

  it.effect("a bad field is reported with the file name and the field's path", () =>
    Effect.gen(function* () {
      const bad = {
        ...validFixture,
        exchanges: [validFixture.exchanges[0], { request: { method: "GET", url: "/x" }, response: { status: "200" } }]
      }
      const error = yield* Effect.flip(RecordedExchange.decodeFixture(bad, "lightspeed/sales-basic.json"))
      expect(error._tag).toBe("FixtureError")
      expect(error.message).toContain("lightspeed/sales-basic.json")
      expect(error.message).toContain("exchanges[1].response.status")
    })
  )

  it.effect("a recorded url with a host, a missing field and invalid JSON are each named", () =>
    Effect.gen(function* () {
      const withHost = {
        ...validFixture,
        exchanges: [{ ...validFixture.exchanges[0], request: { method: "GET", url: "https://api.x.com/a" } }]
      }
      const hostError = yield* Effect.flip(RecordedExchange.decodeFixture(withHost, "host.json"))
      expect(hostError.message).toContain("host.json")
      expect(hostError.message).toContain("exchanges[0].request.url")
      expect(hostError.message).toContain("without scheme or host")

      const { adapter: _, ...noAdapter } = validFixture
      const missing = yield* Effect.flip(RecordedExchange.decodeFixture(noAdapter, "missing.json"))
      expect(missing.message).toMatch(/missing\.json.*adapter/)

      const notJson = yield* Effect.flip(RecordedExchange.decodeFixture('{"description": ', "broken.json"))
      expect(notJson.message).toContain("broken.json")
      expect(notJson.message).toContain("not valid JSON")
    })
  )

  it("redaction removes tokens, passwords and the Authorization header at any depth", () => {
    const headers = RecordedExchange.redact({ Authorization: "Bearer abc", accept: "application/json" })
    expect(headers).toEqual({ Authorization: "<redacted>", accept: "application/json" })

    const body = RecordedExchange.redact({
      access_token: "at",
      refresh_token: "rt",
      expires_in: 3600,
      nested: [{ client_secret: "cs", password: "pw", name: "kept" }]
    })
    expect(body).toEqual({
      access_token: "<redacted>",
      refresh_token: "<redacted>",
      expires_in: 3600,
      nested: [{ client_secret: "<redacted>", password: "<redacted>", name: "kept" }]
    })
    expect(JSON.stringify(body)).not.toMatch(/"at"|"rt"|"cs"|"pw"/)

    expect(
      RecordedExchange.redactFormText("grant_type=refresh_token&refresh_token=secret1&client_secret=secret2")
    ).toBe("grant_type=refresh_token&refresh_token=%3Credacted%3E&client_secret=%3Credacted%3E")
    expect(RecordedExchange.redactUrl("/API/V3/Account/1/Sale.json?timeStamp=%3E%2C2024&access_token=tok")).toBe(
      "/API/V3/Account/1/Sale.json?timeStamp=%3E%2C2024&access_token=%3Credacted%3E"
    )
  })
})
