/**
 * The poll benchmark's workload, shared by the loader, the re-saver, the simulated ShipStation and the raw
 * baselines: which stores, which orders (and their re-saved versions), which stamps, which windows.
 *
 * Simulated time: the stores' history is stamped over `preloadHours` hours before H0; round r (0 ≤ r ≤ hours)
 * polls every store with a window ending at the last minute of hour r (hour r = [H0 + r h, H0 + (r + 1) h)).
 * Round 0 is the store's first poll: one big window over the whole history (10 pages at 1,000 orders). Later
 * rounds continue contiguously from the previous end, and every fifth poll of a store reaches an hour back
 * into the previous window (ShipStation's occasional overlap). The orders re-saved for hour r are stamped
 * inside hour r, after every window already served (so the watermark never restamps them).
 */

const env = (name: string, fallback: number) => {
  const v = process.env[name]
  return v === undefined || v === "" ? fallback : Number(v)
}

export const stores = env("POLLBENCH_STORES", 1000)
export const ordersPerStore = env("POLLBENCH_ORDERS", 1000)
/** Polled hours after the first poll (rounds 1..hours). */
export const hours = env("POLLBENCH_HOURS", 2)
export const preloadHours = 10
/** Share of each store's orders re-saved per simulated hour. */
export const resaveShare = 0.01
export const pageSize = 100
export const inFlight = 10

const hour = 3_600_000
const minute = 60_000
/** Start of live hour 0, whole hours in the past of the bridge's clock (the watermark trusts past windows). */
export const H0 = Date.UTC(2026, 10, 1, 0, 0)

export const storeId = (i: number) => `s${String(i).padStart(4, "0")}`
export const posRef = (k: number) => String(100_000 + k)

export const shipstation = { username: "ss", password: "ss-secret" }
export const authorization = `Basic ${Buffer.from(`${shipstation.username}:${shipstation.password}`).toString("base64")}`

/** The POS document of order k of a store, as `Order.decodeSync` takes it; `version` > 0 for a re-save. */
export const orderInput = (store: string, k: number, version: number, at: number) => ({
  storeId: store,
  kind: "orders" as const,
  posRef: posRef(k),
  orderNumber: `SO-${100_000 + k}`,
  orderDate: new Date(H0 - preloadHours * hour + (k % 600) * minute).toISOString(),
  posModifiedAt: new Date(at).toISOString(),
  status: "paid",
  customerCode: `C${k % 5000}`,
  billTo: { name: "Ada Lovelace", email: "ada@example.com" },
  shipTo: { name: "Ada Lovelace", address1: "12 Analytical Way", city: "London", postalCode: "N1 7AA", country: "GB" },
  lines: [
    { lineId: `${k}-1`, sku: "MUG-01", name: "Mug & saucer", quantity: 2, unitPrice: "12.50" },
    { lineId: `${k}-2`, sku: "TEE-BLK-M", name: "T-shirt «noir» M", quantity: 1 + version, unitPrice: "19.99" }
  ],
  orderTotal: "44.99",
  currency: "USD",
  customerNotes: version === 0 ? "Leave at the door" : `Leave at the door (v${version})`
})
export type OrderInput = ReturnType<typeof orderInput>

/**
 * Preload hour of order k: one stamp per (store, hour) batch, dealt round-robin, so that a window's stamp order
 * is not its POS id order (the byte check then sees a server that sorts by id alone).
 */
export const preloadHourOf = (k: number) => k % preloadHours
export const preloadStamp = (h: number) => H0 - (preloadHours - h) * hour + 7 * minute

/** Orders re-saved for live hour r ≥ 1: a rolling slice, so an order is re-saved again only after 100 hours. */
export const resavedIn = (r: number): ReadonlyArray<number> => {
  const n = Math.max(1, Math.round(ordersPerStore * resaveShare))
  return Array.from({ length: n }, (_, i) => (((r - 1) * n + i) % ordersPerStore) as number)
}
/** The stamp of hour r's re-saves (one batch per store). */
export const resaveStamp = (r: number) => H0 + r * hour + 5 * minute

export interface Window {
  readonly start: number
  /** The last minute included. */
  readonly end: number
}

/** The window ShipStation asks store i for in round r. */
export const windowOf = (i: number, r: number): Window => {
  const end = H0 + (r + 1) * hour - minute
  if (r === 0) return { start: H0 - preloadHours * hour, end }
  const previousEnd = H0 + r * hour - minute
  const overlap = (i + r) % 5 === 0
  return { start: overlap ? previousEnd - hour + minute : previousEnd + minute, end }
}

const two = (n: number) => String(n).padStart(2, "0")
/** `MM/dd/yyyy HH:mm`, UTC: ShipStation's date form (in the query and as the XML's dates). */
export const format = (ms: number) => {
  const d = new Date(ms)
  return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`
}

export const exportPath = (store: string, w: Window, page: number) =>
  `/shipstation/${store}?action=export&start_date=${encodeURIComponent(format(w.start))}&end_date=${encodeURIComponent(format(w.end))}&page=${page}`
