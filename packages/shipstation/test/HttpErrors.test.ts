import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as Harness from "./support/Harness.js"

const { alpha, alphaAuth, basic, beta, exportPath, ingest, makeOrder, now, readXml, request, serverLayer, window } =
  Harness

const setup = Effect.gen(function* () {
  yield* TestClock.setTime(now)
  yield* ingest([makeOrder("1"), makeOrder("2")])
})

describe("credentials", () => {
  it.effect("HTTP Basic credentials open the store's export", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* request(exportPath("alpha", ...window), { headers: alphaAuth })
      expect(reply.status).toBe(200)
      expect(reply.headers.get("content-type")).toBe("text/xml; charset=utf-8")
      expect(readXml(reply.body).orders.map((o) => o.OrderID)).toEqual(["1", "2"])
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("SS-UserName and SS-Password query parameters open the store's export", () =>
    Effect.gen(function* () {
      yield* setup
      const path = `${exportPath("alpha", ...window)}&SS-UserName=${alpha.username}&SS-Password=${encodeURIComponent(alpha.password)}`
      const reply = yield* request(path)
      expect(reply.status).toBe(200)
      expect(readXml(reply.body).orders).toHaveLength(2)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a wrong password is answered 401 with a sentence and a Basic challenge", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* request(exportPath("alpha", ...window), {
        headers: { authorization: basic(alpha.username, "guess") }
      })
      expect(reply.status).toBe(401)
      expect(reply.body).toBe("The username or password is wrong for this store.\n")
      expect(reply.headers.get("content-type")).toBe("text/plain; charset=utf-8")
      expect(reply.headers.get("www-authenticate")).toContain('Basic realm="posbridge"')
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("store A's credentials do not open store B", () =>
    Effect.gen(function* () {
      yield* setup
      const viaHeader = yield* request(exportPath(beta.id, ...window), { headers: alphaAuth })
      expect(viaHeader.status).toBe(401)
      const viaQuery = yield* request(
        `${exportPath(beta.id, ...window)}&SS-UserName=${alpha.username}&SS-Password=${encodeURIComponent(alpha.password)}`
      )
      expect(viaQuery.status).toBe(401)
      const notice = yield* request(
        `/shipstation/${beta.id}?action=shipnotify&order_number=101&carrier=UPS&tracking_number=1Z`,
        {
          method: "POST",
          headers: alphaAuth
        }
      )
      expect(notice.status).toBe(401)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a request without credentials is answered 401 naming both accepted forms", () =>
    Effect.gen(function* () {
      const reply = yield* request(exportPath("alpha", ...window))
      expect(reply.status).toBe(401)
      expect(reply.body).toContain("HTTP Basic authentication or the SS-UserName and SS-Password parameters")
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a malformed Authorization header is answered 401, not ignored", () =>
    Effect.gen(function* () {
      const reply = yield* request(exportPath("alpha", ...window), { headers: { authorization: "Bearer abc" } })
      expect(reply.status).toBe(401)
      expect(reply.body).toBe("The Authorization header is not valid HTTP Basic authentication.\n")
    }).pipe(Effect.provide(serverLayer()))
  )
})

describe("error statuses", () => {
  it.effect("an unknown store is answered 401 like wrong credentials, so store ids cannot be listed", () =>
    Effect.gen(function* () {
      const reply = yield* request(exportPath("gamma", ...window), { headers: alphaAuth })
      expect(reply.status).toBe(401)
      expect(reply.body).toBe("The username or password is wrong for this store.\n")
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("an unknown or missing action is answered 400", () =>
    Effect.gen(function* () {
      const unknown = yield* request("/shipstation/alpha?action=delete", { headers: alphaAuth })
      expect(unknown.status).toBe(400)
      expect(unknown.body).toBe('Unknown action "delete"; expected "export" or "shipnotify".\n')
      const missing = yield* request("/shipstation/alpha", { headers: alphaAuth })
      expect(missing.status).toBe(400)
      expect(missing.body).toBe('The action parameter is missing; expected "export" or "shipnotify".\n')
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a page that is not a positive whole number is answered 400", () =>
    Effect.gen(function* () {
      for (const page of ["0", "-1", "two", "1.5"]) {
        const reply = yield* request(`${exportPath("alpha", ...window)}&page=${page}`, { headers: alphaAuth })
        expect(reply.status).toBe(400)
        expect(reply.body).toBe(`The page parameter must be a positive whole number such as 1 or 2 (got "${page}").\n`)
      }
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a malformed or missing date is answered 400 naming the parameter and the accepted form", () =>
    Effect.gen(function* () {
      const bad = yield* request(exportPath("alpha", "2024-05-01", window[1]), { headers: alphaAuth })
      expect(bad.status).toBe(400)
      expect(bad.body).toContain("start_date: the date is not in the accepted form")
      expect(bad.body).toContain("MM/dd/yyyy HH:mm")
      const missing = yield* request("/shipstation/alpha?action=export&start_date=05%2F01%2F2024+09%3A00", {
        headers: alphaAuth
      })
      expect(missing.status).toBe(400)
      expect(missing.body).toContain("end_date: the date is required")
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("dates with + for space, seconds and AM/PM are accepted", () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* request(
        "/shipstation/alpha?action=export&start_date=05%2f01%2f2024+09%3a00%3a00&end_date=05%2F01%2F2024+10%3A00+AM",
        { headers: alphaAuth }
      )
      expect(reply.status).toBe(200)
      expect(readXml(reply.body).orders).toHaveLength(2)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect("a ship notice body over the limit is answered 413", () =>
    Effect.gen(function* () {
      const reply = yield* request("/shipstation/alpha?action=shipnotify&order_number=101&carrier=UPS", {
        method: "POST",
        headers: { ...alphaAuth, "content-type": "text/xml" },
        body: `<ShipNotice><InternalNotes>${"x".repeat(2048)}</InternalNotes></ShipNotice>`
      })
      expect(reply.status).toBe(413)
      expect(reply.body).toBe("The request body is larger than the 1 KiB this endpoint accepts.\n")
    }).pipe(Effect.provide(serverLayer({ maxBodyBytes: 1024 })))
  )
})

describe("paging edges", () => {
  it.effect("a page beyond the last is a well-formed document with no orders and the same page count", () =>
    Effect.gen(function* () {
      yield* setup
      const first = readXml((yield* request(exportPath("alpha", ...window, 1), { headers: alphaAuth })).body)
      expect(first.pages).toBe("1")
      const beyond = yield* request(exportPath("alpha", ...window, 5), { headers: alphaAuth })
      expect(beyond.status).toBe(200)
      const doc = readXml(beyond.body)
      expect(doc.pages).toBe("1")
      expect(doc.orders).toHaveLength(0)
    }).pipe(Effect.provide(serverLayer()))
  )

  it.effect('an empty window is <Orders pages="0"></Orders>, accepted by a strict parser', () =>
    Effect.gen(function* () {
      yield* setup
      const reply = yield* request(exportPath("alpha", "04/01/2024 00:00", "04/02/2024 00:00"), { headers: alphaAuth })
      expect(reply.status).toBe(200)
      expect(reply.body).toBe('<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="0"></Orders>\n')
      expect(readXml(reply.body)).toEqual({ pages: "0", orders: [] })
    }).pipe(Effect.provide(serverLayer()))
  )
})
