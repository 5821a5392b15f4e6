/**
 * Ship notices under SIGKILL (not part of `pnpm test`): a stream of ship notices goes to the real server (as
 * `pnpm start` runs it; build first) while the server is killed with SIGKILL at random moments and started
 * again, `--kills` times (default 50). Then it checks, from the database and from the Heartland simulator's own
 * orders, that every notice answered 200 was stored exactly once and written back to the POS exactly once (its
 * tracking line appears once in its order), and that no stored notice lacks its write-back item.
 *
 *   pnpm kill:shipnotify [--kills 50] [--seed 1]
 */
import { join } from "node:path"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { freePort, waitFor } from "../src/Processes.js"
import { basic, type RunningServer, startServer, tempConfig } from "../src/ServerProcess.js"
import { heartlandSimulator } from "../src/Simulators.js"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const kills = arg("kills", 50)
let seed = arg("seed", 1)
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed / 2 ** 31
}

const main = async () => {
  const sim = await heartlandSimulator({ orders: 40, token: "hl-token", seed: 4 })
  const orders = (await Effect.runPromise(sim.control.orders)).map((o) => o.id)
  const { dir, config } = tempConfig("kill-notify", [{ id: "shop", simulatorUrl: sim.url, token: "hl-token" }])
  const port = await freePort()
  const auth = basic("ss", "ss-secret")
  /** Tracking number → order id, for every notice the server answered 200. */
  const acknowledged = new Map<string, number>()
  let sent = 0
  let cutOff = 0
  let next = 0
  const post = async (url: string) => {
    const order = orders[Math.floor(random() * orders.length)]!
    const tracking = `1ZKILL${String(next++).padStart(6, "0")}`
    const body =
      `<?xml version="1.0" encoding="utf-8"?><ShipNotice><OrderID>${order}</OrderID><OrderNumber>${order}</OrderNumber>` +
      `<Carrier>UPS</Carrier><Service>Ground</Service><TrackingNumber>${tracking}</TrackingNumber></ShipNotice>`
    sent++
    const reply = await fetch(`${url}/shipstation/shop?action=shipnotify&order_number=${order}`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/xml" },
      body
    }).catch(() => {
      cutOff++
      return undefined
    })
    if (reply?.status === 200) acknowledged.set(tracking, order)
    else if (reply !== undefined && reply.status !== 200)
      throw new Error(`notice answered ${reply.status}: ${await reply.text()}`)
  }
  const started = Date.now()
  let server: RunningServer | undefined
  try {
    for (let k = 0; k <= kills; k++) {
      server = await startServer(config, port)
      const url = server.url
      const until = Date.now() + (k === kills ? 5_000 : 200 + random() * 2_500)
      // Eight notices in flight at a time; the kill lands while they are (a request cut off is not acknowledged).
      const streams = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (Date.now() < until) await post(url)
        })
      )
      if (k < kills) {
        await new Promise((r) => setTimeout(r, until - Date.now()))
        await server.kill("SIGKILL")
        server = undefined
      }
      await streams
      if (k % 10 === 0) console.log(`kill ${k}/${kills}: ${sent} sent, ${acknowledged.size} acknowledged`)
    }
    const db = () => new Database(join(dir, "posbridge.sqlite"), { readonly: true })
    // Let the last server write everything back.
    await waitFor(
      "every write-back to finish",
      async () => {
        const d = db()
        const open = d.prepare("SELECT COUNT(*) AS n FROM pb_outbox WHERE state NOT IN ('done', 'dead')").get() as {
          n: number
        }
        d.close()
        return open.n === 0 ? true : undefined
      },
      300_000
    )
  } finally {
    await server?.kill("SIGTERM")
  }
  const d = new Database(join(dir, "posbridge.sqlite"), { readonly: true })
  const stored = new Map<string, number>()
  for (const row of d.prepare("SELECT notice_json FROM pb_ship_notices").all() as Array<{ notice_json: string }>) {
    const tracking = (JSON.parse(row.notice_json) as { trackingNumber: string }).trackingNumber
    stored.set(tracking, (stored.get(tracking) ?? 0) + 1)
  }
  const states = d.prepare("SELECT state, COUNT(*) AS n FROM pb_outbox GROUP BY state").all()
  const halves = d
    .prepare(
      "SELECT COUNT(*) AS n FROM pb_ship_notices n WHERE NOT EXISTS (SELECT 1 FROM pb_outbox o WHERE o.notice_id = n.notice_id)"
    )
    .get() as { n: number }
  d.close()
  const written = new Map<string, number>()
  for (const order of await Effect.runPromise(sim.control.orders)) {
    const text = String(order.custom.shipstation_tracking ?? "")
    for (const tracking of text.match(/1ZKILL\d{6}/g) ?? []) written.set(tracking, (written.get(tracking) ?? 0) + 1)
  }
  await sim.close()
  const problems: Array<string> = []
  for (const [tracking, order] of acknowledged) {
    if (stored.get(tracking) !== 1)
      problems.push(`${tracking} (order ${order}) answered 200, stored ${stored.get(tracking) ?? 0} times`)
    if (written.get(tracking) !== 1)
      problems.push(`${tracking} (order ${order}) answered 200, written back ${written.get(tracking) ?? 0} times`)
  }
  for (const [tracking, n] of stored) {
    if (n > 1) problems.push(`${tracking} stored ${n} times`)
    if ((written.get(tracking) ?? 0) > 1) problems.push(`${tracking} written back ${written.get(tracking)} times`)
  }
  if (halves.n > 0) problems.push(`${halves.n} notices stored without their write-back item`)
  console.log(
    `${kills} SIGKILLs in ${((Date.now() - started) / 1000).toFixed(0)} s: ${sent} notices sent, ${acknowledged.size} answered 200, ${cutOff} cut off by a kill, ` +
      `${stored.size} stored, ${written.size} written back; outbox ${JSON.stringify(states)}; ${problems.length} problems`
  )
  for (const p of problems.slice(0, 20)) console.log(`PROBLEM ${p}`)
  process.exit(problems.length === 0 ? 0 : 1)
}

await main()
