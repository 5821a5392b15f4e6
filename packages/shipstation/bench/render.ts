/**
 * Micro-benchmark of the export's CPU work for one page: `FieldRules.check` on 100 typical orders, then
 * `ExportXml.render` of them. No store, no HTTP: this is the part this package owns.
 *
 *   pnpm bench                              (BENCH_ITERATIONS=… to change the run length)
 */
import { Order } from "@posbridge/core"
import { DateTime } from "effect"
import { ExportXml, FieldRules } from "../src/index.js"

const iterations = Number(process.env.BENCH_ITERATIONS ?? 2000)
const warmup = Math.min(500, iterations)
const T0 = Date.UTC(2026, 0, 1, 0, 0)

const names = ["Ada Lovelace", "Zoë Åkesson", "Renée O'Brien & Sons", "李小龍", "José Müller-Lüdenscheid"]
const cities = [
  { city: "London", state: undefined, country: "GB", postalCode: "N1 7AA" },
  { city: "Québec", state: "Québec", country: "Canada", postalCode: "G1R 4P5" },
  { city: "Austin", state: "TX", country: "US", postalCode: "78701" },
  { city: "München", state: "Bayern", country: "Deutschland", postalCode: "80331" }
] as const

/** A realistic order: 2-3 lines, unicode and `&` in names, a few optional fields, one country given by name. */
const order = (i: number) => {
  const place = cities[i % cities.length]!
  const name = names[i % names.length]!
  const at = new Date(T0 + i * 60_000).toISOString()
  return Order.decodeSync({
    storeId: "bench",
    kind: "orders",
    posRef: String(100_000 + i),
    orderNumber: `SO-${100_000 + i}`,
    orderDate: at,
    posModifiedAt: at,
    status: "paid",
    customerCode: i % 7 === 0 ? "" : `C${i % 5000}`,
    billTo: { name, email: `customer${i}@example.com`, phone: "+44 20 7946 0958" },
    shipTo: {
      name,
      ...(i % 3 === 0 ? { company: "Smith & Wesson Ltd." } : {}),
      address1: `${i} Analytical Way`,
      ...(i % 2 === 0 ? { address2: "Flat 3 — rear" } : {}),
      city: place.city,
      ...(place.state === undefined ? {} : { state: place.state }),
      postalCode: place.postalCode,
      country: place.country,
      phone: "+44 20 7946 0958"
    },
    lines: [
      { lineId: `${i}-1`, sku: "MUG-01", name: "Mug & saucer", quantity: 2, unitPrice: "12.50", weight: "0.75" },
      {
        lineId: `${i}-2`,
        sku: "TEE-BLK-M",
        name: "T-shirt «noir» M",
        quantity: 1,
        unitPrice: "19.99",
        options: [
          { name: "Size", value: "M" },
          { name: "Colour", value: "Noir ]]> édition" }
        ]
      },
      ...(i % 2 === 0 ? [{ lineId: `${i}-3`, sku: "", name: "Discount 10%", quantity: 1, unitPrice: "-4.45" }] : [])
    ],
    orderTotal: i % 2 === 0 ? "40.545" : "44.99",
    taxAmount: "3.20",
    shippingAmount: "5",
    currency: "usd",
    shippingMethod: "Royal Mail Tracked 48",
    paymentMethod: "Visa",
    customerNotes: "Leave at the door — merci <3 & thanks",
    gift: i % 5 === 0,
    ...(i % 5 === 0 ? { giftMessage: "Joyeux anniversaire ✨" } : {})
  })
}

const orders = Array.from({ length: 100 }, (_, i) => ({
  order: order(i),
  stamp: DateTime.unsafeMake(T0 + 3_600_000 + i * 1000)
}))

const page = (): Uint8Array => {
  const served: Array<ExportXml.ExportedOrder> = []
  for (const { order, stamp } of orders) {
    const checked = FieldRules.check(order)
    if (checked._tag === "Ok") served.push({ order: checked.order, stamp })
  }
  return ExportXml.renderBytes(served, 10)
}

const sample = page()
const bytes = sample.length
for (let i = 0; i < warmup; i++) page()

// The machine is shared: wall time of one long run mostly measures the neighbours. Several batches are
// timed and the best is reported, beside the CPU time this process used (less sensitive to load).
const batches = 10
const perBatch = Math.max(1, Math.round(iterations / batches))
const wall: Array<number> = []
let sink = 0
const cpuStart = process.cpuUsage()
for (let b = 0; b < batches; b++) {
  const started = performance.now()
  // `renderBytes` is what the route sends: the bytes of the response body.
  for (let i = 0; i < perBatch; i++) sink += page().length
  wall.push((performance.now() - started) / perBatch)
}
const cpu = process.cpuUsage(cpuStart)
if (sink !== bytes * batches * perBatch) throw new Error("pages differ between iterations")
wall.sort((a, b) => a - b)
const best = wall[0]!
const median = wall[Math.floor(wall.length / 2)]!
const cpuMs = (cpu.user + cpu.system) / 1000 / (batches * perBatch)

console.log(
  `check + render, 100 orders (${(bytes / 1024).toFixed(1)} KiB), ${batches * perBatch} pages: ` +
    `best ${best.toFixed(3)} ms/page (${(bytes / 1024 / 1024 / (best / 1000)).toFixed(1)} MB/s), ` +
    `median ${median.toFixed(3)} ms/page, CPU ${cpuMs.toFixed(3)} ms/page`
)
