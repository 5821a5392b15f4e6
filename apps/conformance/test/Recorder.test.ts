import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { runNode, tempDir } from "@posbridge/e2e/Processes"
import { heartlandSimulator, type RunningSimulator } from "@posbridge/e2e/Simulators"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Effect } from "effect"
import * as AdapterConformance from "../src/AdapterConformance.js"
import * as Recorder from "../src/Recorder.js"

const token = "hl-live-token-7f3a9c"
const conformanceDir = new URL("..", import.meta.url).pathname

const writeSettings = (dir: string, sim: RunningSimulator, extra: Record<string, unknown> = {}) => {
  const file = join(dir, "settings.json")
  writeFileSync(
    file,
    JSON.stringify({
      store: { id: "acme", documentKind: "orders" },
      heartland: { baseUrl: sim.url, apiToken: { env: "RECORDER_TEST_HL_TOKEN" }, perPage: 4, ...extra }
    })
  )
  return file
}

const check = (file: string) =>
  AdapterConformance.checkFixture(heartland, "recorded.json", readFileSync(file, "utf8"), { label: "recorded" })

describe("conformance record", () => {
  let sim: RunningSimulator
  beforeAll(async () => {
    sim = await heartlandSimulator({ orders: 10, token })
  })
  afterAll(async () => {
    await sim.close()
  })

  /** `conformance record` of the simulator's account into a new directory's recorded.json. */
  const recordInto = (name: string, options: { readonly pages?: number } = {}) =>
    Effect.gen(function* () {
      const dir = tempDir(name)
      const out = join(dir, "recorded.json")
      const recorded = yield* Recorder.record({
        adapter: "heartland",
        settingsFile: writeSettings(dir, sim),
        out,
        since: "2020-01-01T00:00:00.000Z",
        ...options,
        env: { RECORDER_TEST_HL_TOKEN: token }
      })
      return { out, recorded }
    })

  it.live("records a live pull into a fixture that replays through the adapter conformance, with no secret in it", () =>
    Effect.gen(function* () {
      const { out, recorded } = yield* recordInto("record")
      expect(recorded.documents).toBe(10)
      expect(recorded.truncated).toBe(false)
      const text = readFileSync(out, "utf8")
      expect(text).not.toContain(token)
      expect(text).not.toContain(encodeURIComponent(token))
      expect(text).not.toContain(Buffer.from(token).toString("base64"))
      // The reference is resolved, never written out.
      expect(text).not.toContain("RECORDER_TEST_HL_TOKEN")
      expect(text.toLowerCase()).not.toContain("bearer")
      const fixture = JSON.parse(text)
      expect(fixture.settings.heartland.apiToken).toBe("<redacted>")
      expect(fixture.expected).toHaveLength(10)
      const result = yield* check(out)
      expect(result.problems).toEqual([])
      expect(result.status).toBe("passed")
      expect(result.details?.documents).toBe(10)
      expect(result.details?.exchanges).toBe(recorded.exchanges)
    })
  )

  it.live("scrubs a secret value wherever the POS echoes it, not only under secret-named keys", () =>
    Effect.gen(function* () {
      // A customer whose e-mail happens to hold the token: the value is scrubbed from the answers too.
      const customer = yield* sim.control.addCustomer({
        firstName: "Echo",
        lastName: "Test",
        email: `${token}@example.com`
      })
      const address = yield* sim.control.addAddress(customer.id, {
        first_name: "Echo",
        last_name: "Test",
        line_1: "1 Main St",
        city: "Portland",
        state: "OR",
        postal_code: "97205",
        country: "US"
      })
      const item = yield* sim.control.addItem({ publicId: "ECHO-1", description: "Echo item" })
      yield* sim.control.addOrder({
        customerId: customer.id,
        shippingAddressId: address.id,
        billingAddressId: address.id,
        lines: [{ itemId: item.id, qty: 1, unitPrice: "3.00" }]
      })
      const { out } = yield* recordInto("record-echo")
      const text = readFileSync(out, "utf8")
      expect(text).toContain("<redacted>@example.com")
      expect(text).not.toContain(token)
    })
  )

  it.live("stops after --pages pages, and the cut recording still replays", () =>
    Effect.gen(function* () {
      const { out, recorded } = yield* recordInto("record-pages", { pages: 2 })
      expect(recorded.truncated).toBe(true)
      // Two pages of four orders (one of them may hold no shippable document).
      expect(recorded.documents).toBeGreaterThan(0)
      expect(recorded.documents).toBeLessThanOrEqual(8)
      const fixture = JSON.parse(readFileSync(out, "utf8"))
      expect(fixture.settings.conformance.batches).toBe(2)
      const result = yield* check(out)
      expect(result.problems).toEqual([])
      expect(result.details?.documents).toBe(recorded.documents)
    })
  )

  it.live("refuses a settings file whose reference is not set, naming the field", () =>
    Effect.gen(function* () {
      const dir = tempDir("record-missing")
      const error = yield* Effect.flip(
        Recorder.record({
          adapter: "heartland",
          settingsFile: writeSettings(dir, sim),
          out: join(dir, "recorded.json"),
          env: {}
        })
      )
      expect(error.message).toBe("settings.heartland.apiToken: environment variable RECORDER_TEST_HL_TOKEN is not set")
    })
  )

  it("runs from the command line", async () => {
    const dir = tempDir("record-cli")
    const out = join(dir, "cli.json")
    const args = ["record", "--adapter", "heartland", "--settings", writeSettings(dir, sim), "--out", out]
    const r = await runNode(
      ["--conditions=source", "--import", "tsx", "src/bin.ts", ...args, "--since", "2020-01-01T00:00:00Z"],
      {
        cwd: conformanceDir,
        env: { ...process.env, RECORDER_TEST_HL_TOKEN: token }
      }
    )
    expect(r.status, r.all).toBe(0)
    expect(r.all).toContain(`wrote ${out}: `)
    expect(readFileSync(out, "utf8")).not.toContain(token)
  }, 60_000)
})
