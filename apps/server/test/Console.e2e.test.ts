import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { OrderStore } from "@posbridge/core"
import { waitFor } from "@posbridge/e2e/Processes"
import { SqliteStore } from "@posbridge/store-sql"
import { Effect, Option } from "effect"
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core"
import {
  chromiumPath,
  type DemoServer,
  exportOrders,
  shipNotify,
  shipStationDate,
  shoot,
  startDemo,
  withChromium,
  writeBacks
} from "./ConsoleBrowser.js"

/** The element's text as in the DOM (all of it, whatever is shown). */
const text = async (l: Locator) => (await l.textContent()) ?? ""

/** Marks a write-back dead in the demo's database, as ten failed attempts would (hours of backoff in real time). */
const markDead = (database: string, id: string) =>
  Effect.runPromise(
    Effect.flatMap(OrderStore.OrderStore, (store) =>
      store.failWriteBack(id, "the POS answered 500 ten times", Option.none())
    ).pipe(Effect.provide(SqliteStore.layer({ filename: database })), Effect.scoped)
  )

withChromium(() =>
  describe("the operator's console in a browser, against the demo server", () => {
    let server: DemoServer
    let browser: Browser
    let context: BrowserContext
    let page: Page

    beforeAll(async () => {
      server = await startDemo()
      browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] })
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      page = await context.newPage()
    }, 90_000)
    afterAll(async () => {
      await browser?.close()
      await server?.stop()
    })

    const signIn = async (password: string) => {
      await page.goto(`${server.url}/admin`)
      await page.fill("input[name=username]", "admin")
      await page.fill("input[name=password]", password)
      return Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]).then(([r]) => r)
    }
    const flash = () => text(page.locator("p.flash"))

    it("refuses a wrong password, then signs in with a session cookie and shows both demo stores with their last poll", async () => {
      // ShipStation polls both stores first, as it would every few minutes.
      await waitFor("both demo stores to have orders", async () => {
        const [ls, hl] = await Promise.all([
          exportOrders(server.url, "lightspeed-demo"),
          exportOrders(server.url, "heartland-demo")
        ])
        return ls.ids.length > 0 && hl.ids.length > 0 ? true : undefined
      })
      const wrong = await signIn("not-the-password")
      expect(wrong?.status()).toBe(401)
      expect(await flash()).toBe("The username or password is wrong.")
      expect(await context.cookies()).toEqual([])

      await signIn("demo")
      expect(new URL(page.url()).pathname).toBe("/admin")
      const [cookie] = await context.cookies()
      expect([cookie?.name, cookie?.httpOnly, cookie?.sameSite, cookie?.path]).toEqual([
        "posbridge_session",
        true,
        "Strict",
        "/admin"
      ])
      for (const id of ["lightspeed-demo", "heartland-demo"]) {
        const card = page.locator(`section[data-store="${id}"]`)
        await expect(text(card.locator("h2"))).resolves.toBe(id)
        const shown = await text(card)
        expect(shown).toMatch(
          /Last ShipStation poll\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, window 2020-01-01 00:00:00Z → 2099-12-31/
        )
        expect(shown).toMatch(/Last POS sync\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ succeeded/)
        expect(shown).toMatch(
          /First POS sync\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, \d+\.\d s after start, [1-9]\d* (invoices|orders)/
        )
      }
      await shoot(page, "overview")
    }, 60_000)

    it("retries a dead write-back and resolves ship notices that need attention", async () => {
      const [order] = (await exportOrders(server.url, "heartland-demo")).numbers
      await shipNotify(
        server.url,
        "heartland-demo",
        "<OrderNumber>NO-SUCH-ORDER</OrderNumber><Carrier>UPS</Carrier><TrackingNumber>1ZDEAD</TrackingNumber>"
      )
      await shipNotify(
        server.url,
        "heartland-demo",
        "<Carrier>USPS</Carrier><TrackingNumber>9400NOORDER</TrackingNumber>"
      )
      await shipNotify(
        server.url,
        "heartland-demo",
        `<OrderNumber>${order}</OrderNumber><Carrier>UPS</Carrier><TrackingNumber>1ZFIRST</TrackingNumber><TrackingNumber>1ZSECOND</TrackingNumber>`
      )
      // The notice for an order the POS does not have fails its first attempt; ten would make it dead.
      const failing = await waitFor("the first failed attempt", async () =>
        (await writeBacks(server.url, "heartland-demo")).find(
          (w) => w.notice.trackingNumber === "1ZDEAD" && w.attempts > 0
        )
      )
      await markDead(server.database, failing.id)

      await page.goto(`${server.url}/admin/stores/heartland-demo`)
      const dead = page.locator(`tr[data-write-back="${failing.id}"]`)
      expect(await text(dead)).toContain("dead, 1 attempt(s)")
      const noOrder = page.locator("tr", { hasText: "9400NOORDER" })
      expect(await text(noOrder)).toContain("needs attention: The notice names no order")
      const twoNumbers = page.locator("tr", { hasText: "1ZFIRST" })
      expect(await text(twoNumbers)).toContain("needs attention")
      await shoot(page, "store")

      await Promise.all([page.waitForNavigation(), dead.locator("button:has-text('Retry')").click()])
      expect(await flash()).toBe(
        "The write-back for order NO-SUCH-ORDER is due now; posbridge writes it back to the POS within seconds."
      )
      expect((await writeBacks(server.url, "heartland-demo")).find((w) => w.id === failing.id)?.state).not.toBe("dead")

      await Promise.all([page.waitForNavigation(), noOrder.locator("button:has-text('Dismiss')").click()])
      expect(await flash()).toBe(
        "The ship notice naming no order (tracking 9400NOORDER) was dismissed: nothing was written to the POS."
      )
      await Promise.all([page.waitForNavigation(), twoNumbers.locator("button:has-text('Write back')").click()])
      expect(await flash()).toContain(`The write-back for order ${order} is due now`)
      await waitFor("the doubtful notice to be written back", async () =>
        (await writeBacks(server.url, "heartland-demo")).some((w) => w.notice.trackingNumber.includes("1ZFIRST"))
          ? undefined
          : true
      )
      expect(await page.locator("tr", { hasText: "9400NOORDER" }).count()).toBe(0)
    }, 60_000)

    it("refuses a form without the session's CSRF token, and a value holding <script> is shown as text", async () => {
      const post = (form: Record<string, string>) =>
        context.request.post(`${server.url}/admin/do/sync`, { form, maxRedirects: 0 })
      const missing = await post({ store: "heartland-demo" })
      expect([missing.status(), await missing.text()]).toEqual([
        403,
        "This form did not come from your console session: reload the page and try again.\n"
      ])
      expect((await post({ store: "heartland-demo", csrf: "guessed" })).status()).toBe(403)

      const script = `<script>document.title="owned"</script><img src=x onerror="document.title='owned'">`
      await shipNotify(
        server.url,
        "heartland-demo",
        `<OrderNumber><![CDATA[${script}]]></OrderNumber><Carrier>UPS</Carrier><TrackingNumber>1ZXSS</TrackingNumber>`
      )
      await waitFor("the notice's failed attempt", async () =>
        (await writeBacks(server.url, "heartland-demo")).find(
          (w) => w.notice.trackingNumber === "1ZXSS" && w.attempts > 0
        )
      )
      await page.goto(`${server.url}/admin/stores/heartland-demo`)
      expect(await text(page.locator("tr", { hasText: "1ZXSS" }))).toContain(script)
      await page.goto(`${server.url}/admin/order?store=heartland-demo&order=${encodeURIComponent(script)}`)
      expect(await text(page.locator("p.flash.error"))).toContain(script)
      expect(await page.title()).not.toBe("owned")
      expect(await page.locator("main script, main img").count()).toBe(0)

      const csrf = await page.locator("input[name=csrf]").first().inputValue()
      expect((await post({ store: "heartland-demo", csrf })).status()).toBe(303)
      // Lightspeed's Connect / Reconnect starts the OAuth flow `stores add` starts: off to Lightspeed's consent page.
      await page.goto(`${server.url}/admin/stores/lightspeed-demo`)
      // The demo's Lightspeed store holds three invoices back (no ship-to): each listed with its reason.
      const held = page.locator("h2:has-text('Held orders') + div tbody tr")
      expect(await held.count()).toBe(3)
      for (const row of await held.all()) expect(await text(row.locator("td").nth(2))).not.toBe("")
      await shoot(page, "held")
      await expect(text(page.locator("button", { hasText: "Reconnect Lightspeed" }))).resolves.toBe(
        "Reconnect Lightspeed"
      )
      const connect = await context.request.post(`${server.url}/admin/do/connect`, {
        form: { store: "lightspeed-demo", csrf },
        maxRedirects: 0
      })
      const to = new URL(connect.headers().location ?? "")
      expect([connect.status(), to.origin, to.searchParams.get("redirect_uri")]).toEqual([
        303,
        "http://lightspeed.demo",
        `${server.url}/oauth/lightspeed/lightspeed-demo/callback`
      ])
      expect(to.searchParams.get("state")).toMatch(/\S{16,}/)
    }, 60_000)

    it("explains an order, and Refresh makes ShipStation's next export include it", async () => {
      // Export windows are whole minutes: a window starting the minute after an order's export stamp does not
      // hold it (unless the demo's activity re-saved it since), so the refreshed order stands out.
      const all = await exportOrders(server.url, "heartland-demo")
      const first = Math.min(...all.modified)
      await new Promise((r) => setTimeout(r, Math.max(0, first + 60_000 - Date.now())))
      const start = shipStationDate(new Date(first + 60_000))
      const recent = await exportOrders(server.url, "heartland-demo", start)
      const index = all.ids.findIndex((id, i) => all.modified[i] === first && !recent.ids.includes(id))
      const [id, number] = [all.ids[index] ?? "", all.numbers[index] ?? ""]
      expect(id).not.toBe("")

      await page.goto(`${server.url}/admin/order`)
      await page.selectOption("select[name=store]", "heartland-demo")
      await page.fill("input[name=order]", number)
      await Promise.all([page.waitForNavigation(), page.click("form.search button")])
      await expect(text(page.locator("section[data-order] h2"))).resolves.toContain(`Order ${number}`)
      await expect(text(page.locator("table"))).resolves.toContain("sent to ShipStation: window")
      await Promise.all([page.waitForNavigation(), page.click("button:has-text('Refresh')")])
      expect(await flash()).toMatch(
        new RegExp(
          `^Order ${number} refreshed: its export stamp is now \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\. ShipStation's next poll will pick it up`
        )
      )
      await expect(text(page.locator("section[data-order] dl"))).resolves.toContain(
        "Sent to ShipStationbefore its last restamp; not since: the first poll whose window includes"
      )
      await shoot(page, "order")
      expect((await exportOrders(server.url, "heartland-demo", start)).ids).toContain(id)
      await page.reload()
      await expect(text(page.locator("section[data-order] dl"))).resolves.toContain("Sent to ShipStationyes")
    }, 120_000)

    it("signs out: the old session cookie no longer opens the console", async () => {
      const [cookie] = await context.cookies()
      await page.goto(`${server.url}/admin`)
      await Promise.all([page.waitForNavigation(), page.click("button:has-text('Sign out')")])
      expect(new URL(page.url()).pathname).toBe("/admin/login")
      const replay = await fetch(`${server.url}/admin`, {
        headers: { cookie: `posbridge_session=${cookie?.value}` },
        redirect: "manual"
      })
      expect([replay.status, replay.headers.get("location")]).toEqual([303, "/admin/login"])
    }, 30_000)
  })
)
