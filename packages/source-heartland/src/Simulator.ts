/**
 * An in-memory Heartland Retail API for tests, benchmarks and the server's `heartland-demo` store: Sales
 * Orders, Invoices, lines, customers, addresses and items behind the same paths, `_filter` operators, sorting,
 * paging and bearer auth as the real API (POS-APIS.md), with switchable faults (5xx, timeouts, truncated bodies,
 * 429 + Retry-After) from pos-testkit.
 *
 * `make` returns `{ app, control }`: `app` is an HttpRouter (serve it with pos-testkit's SimServer in-process or
 * over real HTTP), `control` changes the account the way a merchant would.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Decimal } from "@posbridge/core"
import { Faults } from "@posbridge/pos-testkit"
import { Clock, DateTime, type Duration, Effect } from "effect"

export interface Options {
  /** The API token the simulator accepts. Default `sim-token`. */
  readonly token?: string | undefined
  readonly faults?: Faults.FaultPlan | undefined
  /** Where "now" comes from (e.g. pos-testkit's SimClock). Default: Effect's Clock. */
  readonly clock?: { readonly now: Effect.Effect<DateTime.Utc> } | undefined
  /**
   * Whether a PUT on an order moves its `updated_at` (unconfirmed for the real API; default true, the case that
   * could cause an export loop).
   */
  readonly writeBumpsUpdatedAt?: boolean | undefined
  /** Largest `per_page` honoured. Default 500. */
  readonly maxPerPage?: number | undefined
}

type Json = string | number | boolean | null | { readonly [k: string]: Json } | ReadonlyArray<Json>

export interface SimLine {
  readonly id: number
  readonly item_id: number | null
  readonly qty: number
  readonly qty_fulfilled: number
  readonly original_unit_price: string
  readonly adjusted_unit_price: string
  readonly total_tax: string
}

export interface SimDocument {
  readonly id: number
  readonly public_id: string
  status: string
  readonly customer_id: number | null
  billing_address_id: number | null
  shipping_address_id: number | null
  shipping_charge: string
  custom: Record<string, Json>
  readonly created_at: string
  updated_at: string
  lines: Array<SimLine>
  /** Invoices only. */
  readonly order_id?: number | null
}

export interface SimCustomer {
  readonly id: number
  readonly public_id: string
  readonly first_name: string
  readonly last_name: string
  readonly email: string | null
}

export interface SimAddress {
  readonly id: number
  readonly customer_id: number
  readonly first_name: string
  readonly last_name: string
  readonly company: string | null
  readonly line_1: string
  readonly line_2: string | null
  readonly city: string
  readonly state: string
  readonly postal_code: string
  readonly country: string
  readonly phone: string | null
}

export interface SimItem {
  readonly id: number
  readonly public_id: string
  readonly description: string
  readonly upc: string | null
}

export interface LineInput {
  readonly itemId: number | null
  readonly qty: number
  readonly unitPrice: string
  /** Price after a discount; defaults to `unitPrice`. */
  readonly adjustedUnitPrice?: string | undefined
  readonly tax?: string | undefined
}

export interface OrderInput {
  readonly customerId?: number | null | undefined
  readonly shippingAddressId?: number | null | undefined
  readonly billingAddressId?: number | null | undefined
  readonly status?: string | undefined
  readonly lines: ReadonlyArray<LineInput>
  readonly shippingCharge?: string | undefined
  readonly publicId?: string | undefined
  readonly custom?: Record<string, Json> | undefined
  /** Creation and modification time; default now. */
  readonly at?: DateTime.DateTime.Input | undefined
}

export interface OrderPatch {
  readonly status?: string | undefined
  readonly shippingAddressId?: number | null | undefined
  readonly lines?: ReadonlyArray<LineInput> | undefined
  readonly shippingCharge?: string | undefined
  readonly custom?: Record<string, Json> | undefined
  readonly at?: DateTime.DateTime.Input | undefined
}

export interface Stats {
  /** Requests that reached a handler (faulted requests are in `faults`). */
  readonly requests: number
  readonly byRoute: Readonly<Record<RouteName, number>>
  readonly unauthorized: number
  /** Faults injected so far (429s among them). */
  readonly faults: number
  readonly rateLimited: number
}

type RouteName =
  | "orders.list"
  | "orders.get"
  | "orders.lines"
  | "orders.put"
  | "invoices.list"
  | "invoices.get"
  | "invoices.lines"
  | "items.list"
  | "customers.addresses"

export interface Control {
  readonly addItem: (input: {
    readonly publicId: string
    readonly description: string
    readonly upc?: string
  }) => Effect.Effect<SimItem>
  readonly addCustomer: (input: {
    readonly firstName: string
    readonly lastName: string
    readonly email?: string | undefined
    readonly publicId?: string | undefined
  }) => Effect.Effect<SimCustomer>
  readonly addAddress: (
    customerId: number,
    input: Omit<SimAddress, "id" | "customer_id" | "company" | "line_2" | "phone"> &
      Partial<Pick<SimAddress, "company" | "line_2" | "phone">>
  ) => Effect.Effect<SimAddress>
  readonly addOrder: (input: OrderInput) => Effect.Effect<SimDocument>
  readonly updateOrder: (id: number, patch: OrderPatch) => Effect.Effect<SimDocument>
  /** Closes the order (all lines fulfilled) and creates its complete invoice. */
  readonly completeToInvoice: (
    orderId: number,
    options?: { readonly at?: DateTime.DateTime.Input | undefined }
  ) => Effect.Effect<SimDocument>
  readonly voidInvoice: (
    id: number,
    options?: { readonly at?: DateTime.DateTime.Input | undefined }
  ) => Effect.Effect<SimDocument>
  readonly setFaults: (plan: Faults.FaultPlan) => Effect.Effect<void>
  /** Changes the accepted token (the old one is then rejected with 401). */
  readonly setToken: (token: string) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly resetStats: Effect.Effect<void>
  readonly orders: Effect.Effect<ReadonlyArray<SimDocument>>
  readonly invoices: Effect.Effect<ReadonlyArray<SimDocument>>
  readonly order: (id: number) => Effect.Effect<SimDocument | undefined>
}

export interface Simulator {
  readonly app: HttpRouter.HttpRouter
  readonly control: Control
}

class BadRequest {
  constructor(readonly message: string) {}
}

const iso = (dt: DateTime.Utc) => DateTime.formatIso(dt)

// ---------------------------------------------------------------------------------------------------------------
// _filter and sort[] (the operators Heartland is known to accept, plus the obvious order comparisons)
// ---------------------------------------------------------------------------------------------------------------

const comparable = (field: string, value: unknown): number | string => {
  if (field.endsWith("_at") && typeof value === "string") {
    const t = Date.parse(value)
    if (!Number.isNaN(t)) return t
  }
  if (typeof value === "number") return value
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value)
  return String(value)
}

const compareValues = (field: string, a: unknown, b: unknown): number => {
  const x = comparable(field, a)
  const y = comparable(field, b)
  if (typeof x === "number" && typeof y === "number") return x - y
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0
}

type Predicate = (row: Record<string, unknown>) => boolean

const compileFilter = (raw: string | null): Predicate => {
  if (raw === null || raw === "") return () => true
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new BadRequest(`_filter is not valid JSON: ${raw}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadRequest("_filter must be a JSON object of field conditions")
  }
  const tests: Array<Predicate> = []
  for (const [field, condition] of Object.entries(parsed)) {
    const ops =
      typeof condition === "object" && condition !== null && !Array.isArray(condition)
        ? Object.entries(condition)
        : [["$eq", condition] as const]
    for (const [op, operand] of ops) {
      const cmp = (row: Record<string, unknown>) => compareValues(field, row[field], operand)
      switch (op) {
        case "$eq":
          tests.push((row) => row[field] !== undefined && cmp(row) === 0)
          break
        case "$neq":
          tests.push((row) => row[field] === undefined || cmp(row) !== 0)
          break
        case "$gt":
          tests.push((row) => row[field] != null && cmp(row) > 0)
          break
        case "$gte":
          tests.push((row) => row[field] != null && cmp(row) >= 0)
          break
        case "$lt":
          tests.push((row) => row[field] != null && cmp(row) < 0)
          break
        case "$lte":
          tests.push((row) => row[field] != null && cmp(row) <= 0)
          break
        case "$in": {
          if (!Array.isArray(operand)) throw new BadRequest(`$in on ${field} needs an array`)
          const set = new Set(operand.map((v) => String(v)))
          tests.push((row) => set.has(String(row[field])))
          break
        }
        default:
          throw new BadRequest(`unknown filter operator ${op} on ${field}`)
      }
    }
  }
  return (row) => tests.every((t) => t(row))
}

const compileSort = (specs: ReadonlyArray<string>) => {
  const keys = specs.map((spec) => {
    const [field = "", dir = "asc"] = spec.split(",").map((s) => s.trim())
    if (field === "" || (dir !== "asc" && dir !== "desc"))
      throw new BadRequest(`sort[] must be "field,asc|desc": ${spec}`)
    return { field, sign: dir === "asc" ? 1 : -1 }
  })
  return (a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const { field, sign } of keys) {
      const c = compareValues(field, a[field], b[field])
      if (c !== 0) return c * sign
    }
    return 0
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------------------------

const dec = (s: string) => Decimal.unsafeMake(s)
const asNumber = (d: string) => Number(d)

export const make = (options: Options = {}): Effect.Effect<Simulator> =>
  Effect.gen(function* () {
    const injector = yield* Faults.makeInjector(options.faults ?? Faults.none)
    const nowClock = options.clock?.now ?? Effect.map(Clock.currentTimeMillis, (ms) => DateTime.unsafeMake(ms))
    const bumps = options.writeBumpsUpdatedAt ?? true
    const maxPerPage = options.maxPerPage ?? 500
    let token = options.token ?? "sim-token"

    const orders = new Map<number, SimDocument>()
    const invoices = new Map<number, SimDocument>()
    const customers = new Map<number, SimCustomer>()
    const addresses = new Map<number, SimAddress>()
    const items = new Map<number, SimItem>()
    const ids = { order: 1000, invoice: 5000, customer: 100, address: 200, item: 300, line: 0 }

    const zeroRoutes = (): Record<RouteName, number> => ({
      "orders.list": 0,
      "orders.get": 0,
      "orders.lines": 0,
      "orders.put": 0,
      "invoices.list": 0,
      "invoices.get": 0,
      "invoices.lines": 0,
      "items.list": 0,
      "customers.addresses": 0
    })
    let byRoute = zeroRoutes()
    let unauthorized = 0
    let faultBase = { faults: 0, rateLimited: 0 }

    const timeOf = (at: DateTime.DateTime.Input | undefined) =>
      at === undefined ? Effect.map(nowClock, iso) : Effect.succeed(iso(DateTime.toUtc(DateTime.unsafeMake(at))))

    const makeLines = (input: ReadonlyArray<LineInput>): Array<SimLine> =>
      input.map((line) => ({
        id: ++ids.line,
        item_id: line.itemId,
        qty: line.qty,
        qty_fulfilled: 0,
        original_unit_price: line.unitPrice,
        adjusted_unit_price: line.adjustedUnitPrice ?? line.unitPrice,
        total_tax: line.tax ?? "0"
      }))

    const totals = (doc: SimDocument) => {
      const tax = Decimal.sum(doc.lines.map((l) => dec(l.total_tax)))
      const goods = Decimal.sum(doc.lines.map((l) => Decimal.multiplyInt(dec(l.adjusted_unit_price), l.qty)))
      return { tax, total: Decimal.sum([goods, tax, dec(doc.shipping_charge)]) }
    }

    const render = (doc: SimDocument, includeCustomer: boolean): Record<string, unknown> => {
      const { lines: _lines, ...rest } = doc
      const { tax, total } = totals(doc)
      const row: Record<string, unknown> = {
        ...rest,
        shipping_charge: asNumber(doc.shipping_charge),
        total: asNumber(total),
        total_tax: asNumber(tax),
        source_location_id: 1,
        shipping_method_id: null
      }
      if (includeCustomer) row.customer = doc.customer_id === null ? null : (customers.get(doc.customer_id) ?? null)
      return row
    }

    const renderLine = (line: SimLine) => ({
      ...line,
      original_unit_price: asNumber(line.original_unit_price),
      adjusted_unit_price: asNumber(line.adjusted_unit_price),
      total_tax: asNumber(line.total_tax)
    })

    const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

    const guarded = (
      name: RouteName,
      handler: (
        url: URL,
        params: Readonly<Record<string, string | undefined>>,
        request: HttpServerRequest.HttpServerRequest
      ) => Effect.Effect<HttpServerResponse.HttpServerResponse>
    ) =>
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const params = yield* HttpRouter.params
        if (request.headers.authorization !== `Bearer ${token}`) {
          unauthorized++
          return json({ error: "unauthorized", message: "Invalid or missing API token" }, 401)
        }
        byRoute[name]++
        const url = new URL(request.url, "http://heartland.sim")
        return yield* Effect.suspend(() => handler(url, params, request)).pipe(
          Effect.catchAllDefect((defect) =>
            defect instanceof BadRequest
              ? Effect.succeed(json({ error: "bad_request", message: defect.message }, 400))
              : Effect.die(defect)
          )
        )
      })

    const list = (
      source: ReadonlyArray<Record<string, unknown>>,
      url: URL
    ): { total: number; pages: number; results: Array<Record<string, unknown>> } => {
      const predicate = compileFilter(url.searchParams.get("_filter"))
      const sorts = url.searchParams.getAll("sort[]")
      const matching = source.filter(predicate)
      if (sorts.length > 0) matching.sort(compileSort(sorts))
      const perPage = Math.min(maxPerPage, Math.max(1, Number(url.searchParams.get("per_page") ?? "20") || 20))
      const page = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1)
      return {
        total: matching.length,
        pages: Math.ceil(matching.length / perPage),
        results: matching.slice((page - 1) * perPage, page * perPage)
      }
    }

    const includesCustomer = (url: URL) => url.searchParams.getAll("_include[]").includes("customer")

    const documentRoutes = (kind: "orders" | "invoices", store: Map<number, SimDocument>) => {
      const base = `/api/sales/${kind}` as const
      const find = (params: Readonly<Record<string, string | undefined>>) => store.get(Number(params.id))
      const notFound = json({ error: "not_found", message: `no such ${kind === "orders" ? "order" : "invoice"}` }, 404)
      return [
        HttpRouter.get(
          base,
          guarded(`${kind}.list`, (url) =>
            Effect.sync(() => {
              const include = includesCustomer(url)
              const rows = [...store.values()].map((doc) => render(doc, include))
              return json(list(rows, url))
            })
          )
        ),
        HttpRouter.get(
          `${base}/:id`,
          guarded(`${kind}.get`, (url, params) =>
            Effect.sync(() => {
              const doc = find(params)
              return doc === undefined ? notFound : json(render(doc, includesCustomer(url)))
            })
          )
        ),
        HttpRouter.get(
          `${base}/:id/lines`,
          guarded(`${kind}.lines`, (url, params) =>
            Effect.sync(() => {
              const doc = find(params)
              return doc === undefined ? notFound : json(list(doc.lines.map(renderLine), url))
            })
          )
        )
      ] as const
    }

    const [ordersList, ordersGet, ordersLines] = documentRoutes("orders", orders)
    const [invoicesList, invoicesGet, invoicesLines] = documentRoutes("invoices", invoices)

    const router = HttpRouter.empty.pipe(
      ordersList,
      ordersGet,
      ordersLines,
      invoicesList,
      invoicesGet,
      invoicesLines,
      HttpRouter.put(
        "/api/sales/orders/:id",
        guarded("orders.put", (_url, params, request) =>
          Effect.gen(function* () {
            const doc = orders.get(Number(params.id))
            if (doc === undefined) return json({ error: "not_found", message: "no such order" }, 404)
            const body = yield* Effect.orElseSucceed(request.json, () => undefined)
            if (typeof body !== "object" || body === null)
              return json({ error: "bad_request", message: "expected a JSON object" }, 400)
            const patch = body as { custom?: unknown; status?: unknown }
            if (patch.custom !== undefined) {
              if (typeof patch.custom !== "object" || patch.custom === null) {
                return json({ error: "bad_request", message: "custom must be an object" }, 400)
              }
              // Merged key by key (unconfirmed: the real API may replace the object; the adapter sends it whole).
              doc.custom = { ...doc.custom, ...(patch.custom as Record<string, Json>) }
            }
            if (typeof patch.status === "string") doc.status = patch.status
            if (bumps) doc.updated_at = iso(yield* nowClock)
            return json(render(doc, false))
          })
        )
      ),
      HttpRouter.get(
        "/api/items",
        guarded("items.list", (url) => Effect.sync(() => json(list([...items.values()] as never, url))))
      ),
      HttpRouter.get(
        "/api/customers/:id/addresses",
        guarded("customers.addresses", (url, params) =>
          Effect.sync(() => {
            const id = Number(params.id)
            if (!customers.has(id)) return json({ error: "not_found", message: "no such customer" }, 404)
            return json(list([...addresses.values()].filter((a) => a.customer_id === id) as never, url))
          })
        )
      ),
      HttpRouter.use(Faults.middleware),
      HttpRouter.provideService(Faults.FaultInjector, injector)
    )

    const requireOrder = (id: number) =>
      Effect.suspend(() => {
        const doc = orders.get(id)
        return doc === undefined ? Effect.dieMessage(`Simulator: no order ${id}`) : Effect.succeed(doc)
      })

    const control: Control = {
      addItem: (input) =>
        Effect.sync(() => {
          const item: SimItem = {
            id: ++ids.item,
            public_id: input.publicId,
            description: input.description,
            upc: input.upc ?? null
          }
          items.set(item.id, item)
          return item
        }),
      addCustomer: (input) =>
        Effect.sync(() => {
          const id = ++ids.customer
          const customer: SimCustomer = {
            id,
            public_id: input.publicId ?? `C-${id}`,
            first_name: input.firstName,
            last_name: input.lastName,
            email: input.email ?? null
          }
          customers.set(id, customer)
          return customer
        }),
      addAddress: (customerId, input) =>
        Effect.sync(() => {
          const address: SimAddress = {
            company: null,
            line_2: null,
            phone: null,
            ...input,
            id: ++ids.address,
            customer_id: customerId
          }
          addresses.set(address.id, address)
          return address
        }),
      addOrder: (input) =>
        Effect.map(timeOf(input.at), (at) => {
          const id = ++ids.order
          const doc: SimDocument = {
            id,
            public_id: input.publicId ?? `SO-${id}`,
            status: input.status ?? "open",
            customer_id: input.customerId ?? null,
            billing_address_id: input.billingAddressId ?? input.shippingAddressId ?? null,
            shipping_address_id: input.shippingAddressId ?? null,
            shipping_charge: input.shippingCharge ?? "0",
            custom: { ...input.custom },
            created_at: at,
            updated_at: at,
            lines: makeLines(input.lines)
          }
          orders.set(id, doc)
          return doc
        }),
      updateOrder: (id, patch) =>
        Effect.gen(function* () {
          const doc = yield* requireOrder(id)
          if (patch.status !== undefined) doc.status = patch.status
          if (patch.shippingAddressId !== undefined) doc.shipping_address_id = patch.shippingAddressId
          if (patch.lines !== undefined) doc.lines = makeLines(patch.lines)
          if (patch.shippingCharge !== undefined) doc.shipping_charge = patch.shippingCharge
          if (patch.custom !== undefined) doc.custom = { ...doc.custom, ...patch.custom }
          doc.updated_at = yield* timeOf(patch.at)
          return doc
        }),
      completeToInvoice: (orderId, opts = {}) =>
        Effect.gen(function* () {
          const doc = yield* requireOrder(orderId)
          const at = yield* timeOf(opts.at)
          doc.status = "closed"
          doc.lines = doc.lines.map((line) => ({ ...line, qty_fulfilled: line.qty }))
          doc.updated_at = at
          const id = ++ids.invoice
          const invoice: SimDocument = {
            id,
            public_id: `INV-${id}`,
            status: "complete",
            order_id: doc.id,
            customer_id: doc.customer_id,
            billing_address_id: doc.billing_address_id,
            shipping_address_id: doc.shipping_address_id,
            shipping_charge: doc.shipping_charge,
            custom: {},
            created_at: at,
            updated_at: at,
            lines: doc.lines.map((line) => ({ ...line, id: ++ids.line }))
          }
          invoices.set(id, invoice)
          return invoice
        }),
      voidInvoice: (id, opts = {}) =>
        Effect.gen(function* () {
          const invoice = invoices.get(id)
          if (invoice === undefined) return yield* Effect.dieMessage(`Simulator: no invoice ${id}`)
          invoice.status = "void"
          invoice.updated_at = yield* timeOf(opts.at)
          return invoice
        }),
      setFaults: (plan) => injector.setPlan(plan),
      setToken: (next) =>
        Effect.sync(() => {
          token = next
        }),
      stats: Effect.map(injector.history, (history) => {
        const faulted = history.filter((d) => d.fault !== undefined)
        const requests = Object.values(byRoute).reduce((a, b) => a + b, 0)
        return {
          requests,
          byRoute: { ...byRoute },
          unauthorized,
          faults: faultBase.faults + faulted.length,
          rateLimited: faultBase.rateLimited + faulted.filter((d) => d.fault?._tag === "RateLimited").length
        }
      }),
      resetStats: Effect.sync(() => {
        byRoute = zeroRoutes()
        unauthorized = 0
        faultBase = { faults: 0, rateLimited: 0 }
      }),
      orders: Effect.sync(() => [...orders.values()]),
      invoices: Effect.sync(() => [...invoices.values()]),
      order: (id) => Effect.sync(() => orders.get(id))
    }
    // setPlan restarts the injector's history; keep counting across plan switches.
    const setFaults = control.setFaults
    const withCarry: Control = {
      ...control,
      setFaults: (plan) =>
        Effect.gen(function* () {
          const s = yield* control.stats
          faultBase = { faults: s.faults, rateLimited: s.rateLimited }
          yield* setFaults(plan)
        }),
      resetStats: Effect.zipRight(control.resetStats, injector.setPlan(options.faults ?? Faults.none))
    }
    return { app: router, control: withCarry }
  })

// ---------------------------------------------------------------------------------------------------------------
// Demo data
// ---------------------------------------------------------------------------------------------------------------

const firstNames = [
  "Ana",
  "Björn",
  "Chloé",
  "Dmitri",
  "Émile",
  "Fatima",
  "Grace",
  "Hiro",
  "Inés",
  "José",
  "Kai",
  "Łucja",
  "Mia",
  "Noah",
  "Zoë"
]
const lastNames = ["García", "Müller", "O'Brien", "Nguyễn", "Smith", "Søren", "Kowalski", "Dubois", "Tanaka", "Johnson"]
const streets = ["Main St", "Oak Ave", "Rue de l'Église", "Market St", "Elm Rd", "Cedar Ln"]
const cities: ReadonlyArray<readonly [string, string, string]> = [
  ["Portland", "OR", "97205"],
  ["Austin", "TX", "78701"],
  ["Burlington", "VT", "05401"],
  ["Madison", "WI", "53703"],
  ["Asheville", "NC", "28801"]
]
const products = [
  "Trail Runner",
  "Wool Socks",
  "Rain Shell",
  "Camp Mug",
  "Headlamp",
  "Café Blend 1kg",
  "Daypack 20L",
  "Beanie"
]

export interface SeedOptions {
  readonly seed: number
  readonly orders?: number | undefined
  readonly customers?: number | undefined
  readonly items?: number | undefined
  /** Share of orders without a shipping address (in-store pickup). Default 0.05. */
  readonly withoutShipping?: number | undefined
  /** Time of the first order; orders are one second apart. Default: now minus one second per order. */
  readonly start?: DateTime.DateTime.Input | undefined
}

export interface Seeded {
  readonly customers: ReadonlyArray<SimCustomer>
  readonly items: ReadonlyArray<SimItem>
  readonly orders: ReadonlyArray<SimDocument>
}

/** Realistic, reproducible demo data: customers with addresses (unicode names), items, orders with discounts. */
export const seedDemo = (control: Control, options: SeedOptions): Effect.Effect<Seeded> =>
  Effect.gen(function* () {
    const rng = Faults.makePrng(options.seed)
    const orderCount = options.orders ?? 50
    const start =
      options.start === undefined
        ? DateTime.subtract(DateTime.unsafeMake(yield* Clock.currentTimeMillis), { seconds: orderCount + 1 })
        : DateTime.toUtc(DateTime.unsafeMake(options.start))
    const items: Array<SimItem> = []
    for (let i = 0; i < (options.items ?? 30); i++) {
      const name = products[i % products.length] ?? "Item"
      items.push(
        yield* control.addItem({
          publicId: `SKU-${1000 + i}`,
          description: `${name} ${Math.floor(i / products.length) + 1}`
        })
      )
    }
    const customers: Array<{ customer: SimCustomer; address: SimAddress }> = []
    for (let i = 0; i < (options.customers ?? 20); i++) {
      const first = rng.pick(firstNames)
      const last = rng.pick(lastNames)
      const customer = yield* control.addCustomer({
        firstName: first,
        lastName: last,
        email: `${first}.${last}.${i}@example.com`
          .toLowerCase()
          .normalize("NFD")
          .replace(/[^\x20-\x7e]/g, "")
          .replace(/'/g, "")
      })
      const [city, state, zip] = rng.pick(cities)
      const address = yield* control.addAddress(customer.id, {
        first_name: first,
        last_name: last,
        line_1: `${100 + rng.nextInt(900)} ${rng.pick(streets)}`,
        city,
        state,
        postal_code: zip,
        country: "US"
      })
      customers.push({ customer, address })
    }
    const orders: Array<SimDocument> = []
    const withoutShipping = options.withoutShipping ?? 0.05
    for (let i = 0; i < orderCount; i++) {
      const buyer = rng.pick(customers)
      const lines: Array<LineInput> = []
      const lineCount = 1 + rng.nextInt(3)
      for (let l = 0; l < lineCount; l++) {
        const price = `${5 + rng.nextInt(95)}.${String(rng.nextInt(100)).padStart(2, "0")}`
        const discounted = rng.next() < 0.2
        lines.push({
          itemId: rng.pick(items).id,
          qty: 1 + rng.nextInt(3),
          unitPrice: price,
          adjustedUnitPrice: discounted ? Decimal.fixed(Decimal.add(dec(price), dec("-2.50"))) : undefined,
          tax: `${rng.nextInt(5)}.${String(rng.nextInt(100)).padStart(2, "0")}`
        })
      }
      orders.push(
        yield* control.addOrder({
          customerId: buyer.customer.id,
          shippingAddressId: rng.next() < withoutShipping ? null : buyer.address.id,
          billingAddressId: buyer.address.id,
          status: rng.next() < 0.8 ? "open" : "pending",
          shippingCharge: rng.pick(["0", "5.99", "9.95"]),
          lines,
          at: DateTime.add(start, { seconds: i })
        })
      )
    }
    return { customers: customers.map((c) => c.customer), items, orders }
  })

/**
 * One step of merchant activity for the demo: a new order, an edit, an order completed into an invoice, or a
 * voided invoice. Run it on a schedule (`Effect.repeat(step, Schedule.spaced(...))`) to keep the demo moving.
 */
export const demoStep = (control: Control, seeded: Seeded, rng: Faults.Prng): Effect.Effect<void> =>
  Effect.gen(function* () {
    const orders = (yield* control.orders).filter((o) => o.status === "open" || o.status === "pending")
    const roll = rng.next()
    if (roll < 0.5 || orders.length === 0) {
      const customer = rng.pick(seeded.customers)
      const address = (yield* control.orders).find((o) => o.customer_id === customer.id)?.shipping_address_id ?? null
      yield* control.addOrder({
        customerId: customer.id,
        shippingAddressId: address,
        lines: [
          { itemId: rng.pick(seeded.items).id, qty: 1 + rng.nextInt(2), unitPrice: `${10 + rng.nextInt(50)}.00` }
        ],
        shippingCharge: "5.99"
      })
    } else if (roll < 0.75) {
      const order = rng.pick(orders)
      yield* control.updateOrder(order.id, { shippingCharge: rng.pick(["0", "5.99", "12.50"]) })
    } else if (roll < 0.95) {
      yield* control.completeToInvoice(rng.pick(orders).id)
    } else {
      const invoices = (yield* control.invoices).filter((i) => i.status === "complete")
      if (invoices.length > 0) yield* control.voidInvoice(rng.pick(invoices).id)
    }
  })

/** Keeps the demo account changing every `every` until interrupted. */
export const runDemo = (
  control: Control,
  seeded: Seeded,
  options: { readonly seed: number; readonly every: Duration.DurationInput }
) =>
  Effect.gen(function* () {
    const rng = Faults.makePrng(options.seed + 1)
    return yield* Effect.forever(Effect.zipRight(Effect.sleep(options.every), demoStep(control, seeded, rng)))
  })
