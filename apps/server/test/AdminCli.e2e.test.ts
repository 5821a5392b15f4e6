import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, StoreId } from "@posbridge/core"
import { freePort } from "@posbridge/e2e/Processes"
import { basic, env, runCli, startServer, tempConfig } from "@posbridge/e2e/ServerProcess"
import { heartlandSimulator } from "@posbridge/e2e/Simulators"
import { SqliteStore } from "@posbridge/store-sql"
import { Effect, Option } from "effect"

const orders = 5

/** The store's document count per the server's status (admin API), once the server has it. */
const documents = async (url: string): Promise<number | undefined> => {
  const r = await fetch(`${url}/admin/api/stores`, {
    headers: { authorization: basic("admin", env.TEST_ADMIN_PASSWORD) }
  })
  const body = (await r.json()) as { stores: ReadonlyArray<{ id: string; documents: number }> }
  return body.stores.find((s) => s.id === "shop")?.documents
}

/** Nothing but one line: no stack trace, no Effect cause, no pnpm noise. */
const oneSentence = (text: string) => {
  const lines = text.trim().split("\n")
  expect(lines).toHaveLength(1)
  expect(text).not.toMatch(/\bat .*\.(ts|js):\d+|FiberFailure|ERROR|\{\s*"_tag"/)
  return lines[0]
}

describe("the command line acts through a running server", () => {
  it("sync, touch, outbox retry and stores list reach the server's admin API; with no server they say so in one sentence", async () => {
    const sim = await heartlandSimulator({ orders, token: "hl-token", seed: 2 })
    const { dir, config } = tempConfig("admin-cli", [
      { id: "shop", simulatorUrl: sim.url, token: "hl-token", syncIntervalSeconds: 3600 }
    ])
    const server = await startServer(config, await freePort())
    const at = ["--config", config, "--server", server.url]
    try {
      // The store's interval is an hour (its first run waits up to 6 minutes of jitter): the run comes from `sync`,
      // done by the server (with no server answering, the same command fails: below).
      const synced = await runCli(["sync", ...at, "--store", "shop"])
      expect(synced.status).toBe(0)
      expect(synced.stdout.trim()).toMatch(
        new RegExp(`^shop: succeeded, ${orders} documents in \\d+ pages \\(run \\d+ on the server\\)$`)
      )
      expect(await documents(server.url)).toBe(orders)

      const first = (await Effect.runPromise(sim.control.orders))[0]
      const number = first?.public_id ?? "missing"
      const touched = await runCli(["touch", ...at, "--store", "shop", "--order", number])
      expect(touched.status).toBe(0)
      expect(touched.stdout).toMatch(
        new RegExp(`^Order ${number} of shop refreshed: it will be in ShipStation's next poll`)
      )
      const explained = await runCli(["explain", "--config", config, "--store", "shop", "--order", number])
      expect(explained.status).toBe(0)
      expect(explained.stdout).toContain("an operator refreshed it (touch)")

      // A ship notice an operator must decide on (never claimed by the server's worker until then).
      const doubtful = await Effect.runPromise(
        Effect.gen(function* () {
          const store = yield* OrderStore.OrderStore
          return yield* store.recordShipNotice(
            {
              storeId: StoreId.StoreId.make("shop"),
              orderNumber: number,
              carrier: "UPS",
              trackingNumber: "1Z-A | 1Z-B",
              items: [],
              problems: [{ severity: "attention", message: "2 <TrackingNumber> elements" }]
            },
            { key: "shop|doubtful", posRef: Option.some(String(first?.id)) }
          )
        }).pipe(Effect.provide(SqliteStore.layer({ filename: join(dir, "posbridge.sqlite") })))
      )
      const outbox = await runCli(["outbox", "list", "--config", config, "--store", "shop"])
      expect(outbox.stdout.trim()).toBe(`${doubtful.outboxId}  attention, 0 attempt(s), order ${first?.id}`)
      const retried = await runCli(["outbox", "retry", ...at, "--store", "shop", "--item", doubtful.outboxId])
      expect(retried.status, retried.all).toBe(0)
      expect(retried.stdout).toMatch(new RegExp(`^Write-back ${doubtful.outboxId} of shop is due again \\(pending, `))

      const listed = await runCli(["stores", "list", ...at])
      expect(listed.status).toBe(0)
      expect(listed.stdout).toMatch(/^ {2}owner: /m)
      expect(listed.stdout).not.toContain("no server answers")

      const unknownOrder = await runCli(["explain", "--config", config, "--store", "shop", "--order", "NOPE-1"])
      expect(unknownOrder.status).toBe(1)
      expect(oneSentence(unknownOrder.all)).toBe(
        'Store "shop" has no order "NOPE-1" (looked up by POS id, then by order number).'
      )
    } finally {
      await server.kill("SIGTERM")
    }

    const sentence = `No posbridge server answers at ${server.url}; start it with \`pnpm start\` (or pass --server).`
    for (const args of [
      ["sync", ...at, "--store", "shop"],
      ["touch", ...at, "--store", "shop", "--order", "SO-1"],
      ["outbox", "retry", ...at, "--store", "shop", "--item", "outbox-1"]
    ]) {
      const r = await runCli(args)
      expect(r.status, args.join(" ")).toBe(1)
      expect(oneSentence(r.all)).toBe(sentence)
    }
    const offline = await runCli(["stores", "list", ...at])
    expect(offline.status).toBe(0)
    expect(offline.stdout).toContain("owner: — (no server answers)")

    // A configuration mistake is one sentence too, naming the field.
    const bad = join(dir, "bad.json")
    writeFileSync(bad, JSON.stringify({ stores: [{ id: "shop", adapter: "heartland", documentKind: "sales" }] }))
    const refused = await runCli(["sync", "--config", bad, "--store", "shop"])
    expect(refused.status).toBe(1)
    expect(oneSentence(refused.all)).toMatch(/^The configuration .*bad\.json is invalid: stores\[0\]\.documentKind: /)
    await sim.close()
  }, 120_000)
})
