import { Effect } from "effect"
import { heartlandSimulator } from "../src/Simulators.js"
const sim = await heartlandSimulator({ orders: 40, token: "t" })
const q = async (after: string, page: number) => {
  const u = new URL(`${sim.url}/api/sales/orders`)
  u.searchParams.set("_filter", JSON.stringify({ updated_at: { $gt: after } }))
  u.searchParams.append("sort[]", "updated_at,asc"); u.searchParams.append("sort[]", "id,asc")
  u.searchParams.set("page", String(page)); u.searchParams.set("per_page", "10")
  const r = await (await fetch(u, { headers: { authorization: "Bearer t" } })).json() as any
  return r
}
let r = await q("2000-01-01T00:00:00.000Z", 1)
console.log(r.pages, r.results.map((x: any) => x.updated_at).join(" "))
const last = r.results.at(-1).updated_at
console.log("last", last, typeof last)
await sim.close()
