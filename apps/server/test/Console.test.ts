import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { html, raw } from "../src/console/Html.js"
import * as Sessions from "../src/console/Sessions.js"

describe("the console's HTML and sessions", () => {
  it("escapes every interpolated value, in text and in attributes, unless it is markup made here", () => {
    const order = `<script>alert("x")</script>' onmouseover='x' &amp;`
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;"
    const rendered = html`<a title="${order}">${order}</a>${[order, html`<b>${order}</b>`]}${raw("<hr>")}`.text
    expect(rendered).toBe(`<a title="${escaped}">${escaped}</a>${escaped}<b>${escaped}</b><hr>`)
    expect(html`${null}${undefined}${false}${0}`.text).toBe("0")
  })

  it("sets the session cookie HttpOnly, SameSite=Strict, Path=/admin, and Secure only over https", () => {
    expect(Sessions.sessionCookie("abc", false)).toBe("posbridge_session=abc; HttpOnly; SameSite=Strict; Path=/admin")
    expect(Sessions.sessionCookie("", true, 0)).toBe(
      "posbridge_session=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0; Secure"
    )
    expect(Sessions.readCookie("a=1; posbridge_session=xyz; b=2", "posbridge_session")).toBe("xyz")
  })

  it.effect("ends a session left idle past its expiry, and keeps one in use alive", () =>
    Effect.gen(function* () {
      const sessions = Sessions.make(Duration.minutes(30))
      const used = yield* sessions.create
      const idle = yield* sessions.create
      expect(used.csrf).not.toBe(idle.csrf)
      yield* TestClock.adjust(Duration.minutes(20))
      expect((yield* sessions.get(used.id))?.id).toBe(used.id)
      yield* TestClock.adjust(Duration.minutes(20))
      expect(yield* sessions.get(idle.id)).toBeUndefined()
      expect((yield* sessions.get(used.id))?.id).toBe(used.id)
      expect(yield* sessions.get(`${used.id}x`)).toBeUndefined()
      yield* sessions.end(used.id)
      expect(yield* sessions.get(used.id)).toBeUndefined()
    })
  )
})
