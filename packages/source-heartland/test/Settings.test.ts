import { describe, expect, it } from "@effect/vitest"
import { AdapterDescriptor, StoreId, StoreSettings } from "@posbridge/core"
import { Redacted, Schema } from "effect"
import { adapter } from "../src/index.js"
import * as Settings from "../src/Settings.js"

const store = (documentKind: "orders" | "invoices", settings: unknown) => ({
  id: StoreId.StoreId.make("acme"),
  documentKind,
  settings
})

describe("settings", () => {
  it("the adapter descriptor is recognised by the server and named heartland", () => {
    expect(AdapterDescriptor.isAdapterDescriptor(adapter)).toBe(true)
    expect(adapter.id).toBe("heartland")
    expect(adapter.overlapMillis).toBeGreaterThan(0)
  })

  it("a store sending invoices passes the check with the invoices warning a merchant needs", () => {
    const report = Settings.check(store("invoices", { subdomain: "acme", apiToken: "t0k" }))
    expect(report.ok).toBe(true)
    expect(report.problems).toEqual([])
    expect(report.warnings).toEqual([Settings.heartlandInvoicesWarning])
    expect(report.warnings[0]?.message).toContain("cannot be re-saved")
    expect(report.warnings[0]?.message).toContain("touch")
  })

  it("the descriptor's warnings show the invoices warning for invoices and nothing for orders", () => {
    const settings = Settings.make({ subdomain: "acme", apiToken: "t0k" })
    const full = (kind: "orders" | "invoices") =>
      Schema.decodeUnknownSync(StoreSettings.StoreSettings)({
        id: "acme",
        adapter: "heartland",
        documentKind: kind,
        shipstation: { username: "ss", password: "pw" }
      })
    expect(adapter.warnings?.(full("invoices"), settings)).toEqual([Settings.heartlandInvoicesWarning])
    expect(adapter.warnings?.(full("orders"), settings)).toEqual([])
  })

  it("settings without an address or with an empty token are refused with sentences that say what to set", () => {
    const report = Settings.check(store("orders", { apiToken: "" }))
    expect(report.ok).toBe(false)
    expect(report.problems.join("\n")).toContain("the API token is empty")
    const noAddress = Settings.check(store("orders", { apiToken: "t0k" }))
    expect(noAddress.problems.join("\n")).toContain("set either subdomain (e.g. acme) or baseUrl")
  })

  it("defaults: paid for open orders, write-back to shipstation_tracking, the retail.heartland.us address", () => {
    const settings = Settings.make({ subdomain: "acme", apiToken: "t0k" })
    expect(settings.openOrderStatus).toBe("paid")
    expect(settings.writeBack).toBe("custom-field")
    expect(settings.trackingField).toBe("shipstation_tracking")
    expect(Settings.baseUrl(settings)).toBe("https://acme.retail.heartland.us")
    expect(Settings.baseUrl(Settings.make({ baseUrl: "https://acme.myspringboard.us/", apiToken: "x" }))).toBe(
      "https://acme.myspringboard.us"
    )
    // The token never prints.
    expect(String(settings.apiToken)).not.toContain("t0k")
    expect(Redacted.value(settings.apiToken)).toBe("t0k")
  })
})
