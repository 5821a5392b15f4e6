/**
 * Demo data for the simulator: realistic Sales (walk-ins, ship-tos, quotes, unicode names) seeded over the past
 * days, and the merchant activity that keeps the server's demo account changing.
 */
import { Faults } from "@posbridge/pos-testkit"
import { Clock, Duration, Effect, Schedule } from "effect"
import type { Merchant, PersonInput, SaleInput } from "./account.js"

const firstNames = ["Ada", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivan", "Jules", "Kofi"]
const lastNames = ["Lovelace", "Ørsted", "Durand", "Sokolov", "Kim", "Haddad", "Pereira", "Sato", "Petrov", "Verne"]
const cities = [
  { city: "Portland", stateCode: "OR", zip: "97205", countryCode: "US" },
  { city: "Montréal", stateCode: "QC", zip: "H2X 1Y4", countryCode: "CA" },
  { city: "Austin", stateCode: "TX", zip: "78701", countryCode: "US" },
  { city: "Burlington", stateCode: "VT", zip: "05401", countryCode: "US" }
]
const products = [
  { systemSku: "210000000101", customSku: "TEE-BLK-M", description: "T-shirt black M", unitPrice: "19.99" },
  { systemSku: "210000000102", customSku: "", description: "Mug & saucer", unitPrice: "12.5" },
  { systemSku: "210000000103", customSku: "CAP-RED", description: "Cap red", unitPrice: "15" },
  { systemSku: "210000000104", customSku: "BAG-TOTE", description: "Tote bag «café»", unitPrice: "24.00" },
  { systemSku: "210000000105", customSku: "", description: "Sticker pack", unitPrice: "3.25" }
]

export interface DemoOptions {
  readonly sales: number
  readonly seed?: number | undefined
  /** The seeded sales are spread over this many days before now. Default 7. */
  readonly days?: number | undefined
  /** The seeded history ends at this time (epoch ms); default now. Fixed values make runs comparable. */
  readonly until?: number | undefined
  /** Share of sales that are quotes. Default 0.2. */
  readonly quoteShare?: number | undefined
}

/** One sale as the demo rings it up; a `shippable` one has a customer and ships to an address (no walk-in). */
export const demoSale = (
  prng: Faults.Prng,
  at: number,
  quote: boolean,
  options: { readonly shippable?: boolean | undefined } = {}
): SaleInput => {
  const person = (): PersonInput => {
    const place = prng.pick(cities)
    return {
      firstName: prng.pick(firstNames),
      lastName: prng.pick(lastNames),
      address: { address1: `${1 + prng.nextInt(999)} Main St`, ...place },
      email: `customer${prng.nextInt(100000)}@example.com`,
      phone: `555-01${String(prng.nextInt(100)).padStart(2, "0")}`
    }
  }
  const walkIn = !options.shippable && prng.next() < 0.1
  const customer = walkIn ? undefined : person()
  const lineCount = 1 + prng.nextInt(4)
  return {
    at,
    customer,
    shipTo:
      customer !== undefined && (options.shippable || prng.next() < 0.6)
        ? { ...person(), lastName: customer.lastName }
        : undefined,
    lines: Array.from({ length: lineCount }, () => {
      const p = prng.pick(products)
      return { ...p, quantity: 1 + prng.nextInt(3) }
    }),
    ...(quote ? { quote: { notes: "Ship when ready" } } : {})
  }
}

/** Seeds `sales` realistic Sales (walk-ins, ship-tos, quotes, unicode names) spread over the past days. */
export const seedDemo = (control: Merchant, options: DemoOptions): Effect.Effect<void> =>
  Effect.gen(function* () {
    const prng = Faults.makePrng(options.seed ?? 7)
    const nowMs = options.until ?? (yield* Clock.currentTimeMillis)
    const span = (options.days ?? 7) * 24 * 3600 * 1000
    const quoteShare = options.quoteShare ?? 0.2
    for (let i = 0; i < options.sales; i++) {
      const at = nowMs - span + Math.floor((span * i) / Math.max(1, options.sales))
      yield* control.addSale(demoSale(prng, at, prng.next() < quoteShare))
    }
  })

/**
 * Keeps the demo account alive: every `every` a new Sale, sometimes a re-save of an older one or a quote edit.
 * Runs until interrupted (the server's demo mode forks it).
 */
export const runDemoActivity = (
  control: Merchant,
  options: { readonly every: Duration.DurationInput; readonly seed?: number | undefined }
): Effect.Effect<never> => {
  const prng = Faults.makePrng(options.seed ?? 11)
  const step = Effect.gen(function* () {
    const roll = prng.next()
    const count = yield* control.saleCount
    if (roll < 0.15 && count > 0) {
      const target = 1001 + prng.nextInt(count)
      const view = yield* control.sale(target)
      if (view !== undefined) yield* control.resaveSale(target)
      return
    }
    yield* control.addSale(demoSale(prng, yield* Clock.currentTimeMillis, roll > 0.85))
  })
  return Effect.repeat(step, Schedule.spaced(Duration.decode(options.every))).pipe(Effect.zipRight(Effect.never))
}
