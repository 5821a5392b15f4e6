/**
 * The ShipStation poll simulator's named scenarios. Each runs against a fresh in-process server (Bridge), moves
 * the bridge clock and the POS, polls like ShipStation over real HTTP, and then checks DESIGN.md's invariants
 * from the server's answers alone:
 *   - no missed version: every version the bridge ingested at bridge time t is served, after t, by some export
 *     answer with LastModified ≥ t (minute precision), given contiguous or overlapping windows and a final
 *     catch-up poll;
 *   - stable paging: across pages 1..N of one poll every OrderID appears once and `pages` never changes;
 *   - protocol answers: status codes and sentences for credentials, dates and ship notices.
 */
import { ClockCheck } from "@posbridge/server"
import { Cause, Effect, Exit, Option } from "effect"
import * as Bridge from "./Bridge.js"
import * as ProtocolChecks from "./ProtocolChecks.js"
import type * as Report from "./Report.js"
import * as SS from "./ShipStationClient.js"

const minute = 60_000
const floorMinute = (ms: number) => ms - (ms % minute)

export interface Driver {
  readonly bridge: Bridge.Bridge
  /** ShipStation's clock minus the bridge clock. */
  offset: number
  readonly problems: Array<string>
  readonly served: Array<{ readonly at: number; readonly storeId: string } & SS.ServedOrder>
  readonly lastEnd: Map<string, number>
  /** posRefs expected to be held back (not served), per store. */
  readonly held: Set<string>
  /** Scenarios that only check protocol answers skip the closing no-miss check. */
  skipFinal: boolean
}

const creds = (s: Bridge.StoreAccess): SS.Credentials => ({ username: s.username, password: s.password })

export const ssNow = (d: Driver) => d.bridge.clock.now() + d.offset

export const advance = (d: Driver, minutes: number) => Effect.sync(() => d.bridge.clock.advance(minutes * minute))

/** A poll as ShipStation schedules it: from the last end (minus overlap, or plus a gap) to its own now. */
export const poll = (
  d: Driver,
  store: Bridge.StoreAccess,
  options: SS.PollOptions & { readonly overlapMinutes?: number; readonly start?: number; readonly end?: number } = {}
) =>
  Effect.gen(function* () {
    const end = options.end ?? floorMinute(ssNow(d))
    const last = d.lastEnd.get(store.id)
    const start =
      options.start ?? (last === undefined ? end - 60 * minute : last - (options.overlapMinutes ?? 0) * minute)
    const at = d.bridge.clock.now()
    const result = yield* SS.poll(d.bridge.url, store.id, creds(store), { start, end }, options)
    if (result.status !== 200) {
      d.problems.push(
        `poll ${SS.formatDate(start)} – ${SS.formatDate(end)} answered ${result.status}: ${result.body.trim()}`
      )
      return result
    }
    const ids = result.orders.map((o) => o.posRef)
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i)
    if (dupes.length > 0) {
      d.problems.push(
        `poll ${SS.formatDate(start)} – ${SS.formatDate(end)}: order(s) ${[...new Set(dupes)].join(", ")} served twice across pages`
      )
    }
    if (new Set(result.pageCounts).size > 1) {
      d.problems.push(
        `poll ${SS.formatDate(start)} – ${SS.formatDate(end)}: pages changed between page requests (${result.pageCounts.join(", ")})`
      )
    }
    for (const o of result.orders) d.served.push({ ...o, at, storeId: store.id })
    d.lastEnd.set(store.id, Math.max(end, last ?? end))
    return result
  })

/** The closing check: a catch-up poll well after everything, then every version must have been served. */
export const finish = (d: Driver) =>
  Effect.gen(function* () {
    if (d.skipFinal) return
    yield* advance(d, 30)
    for (const store of [Bridge.stores.orders, Bridge.stores.invoices]) {
      if (d.lastEnd.has(store.id)) yield* poll(d, store)
    }
    const byRef = new Map<string, Array<Driver["served"][number]>>()
    for (const s of d.served) {
      const key = `${s.storeId}|${s.posRef}`
      const list = byRef.get(key)
      if (list) list.push(s)
      else byRef.set(key, [s])
    }
    for (const v of d.bridge.versions) {
      if (d.held.has(v.posRef) || !d.lastEnd.has(v.storeId)) continue
      const ok = (byRef.get(`${v.storeId}|${v.posRef}`) ?? []).some(
        (s) => s.at >= v.at && s.lastModified >= floorMinute(v.at)
      )
      if (!ok) {
        d.problems.push(
          `missed version: order ${v.posRef} of ${v.storeId} (${v.why} at bridge ${new Date(v.at).toISOString()}) was never served by a later poll`
        )
      }
    }
  })

// ------------------------------------------------------------------------------------------------------------
// POS helpers (Heartland simulator behind hl-orders / hl-invoices)
// ------------------------------------------------------------------------------------------------------------

export const posSetup = (d: Driver) =>
  Effect.gen(function* () {
    const pos = d.bridge.pos
    const item = yield* pos.addItem({ publicId: "BOOT-42", description: "Trail boot" })
    const customer = yield* pos.addCustomer({ firstName: "Ana", lastName: "García" })
    const address = yield* pos.addAddress(customer.id, {
      first_name: "Ana",
      last_name: "García",
      line_1: "12 Main St",
      city: "Portland",
      state: "OR",
      postal_code: "97205",
      country: "US"
    })
    return { item, customer, address }
  })

type Pos = Effect.Effect.Success<ReturnType<typeof posSetup>>

export const addOrder = (d: Driver, p: Pos, options: { readonly at?: number; readonly qty?: number } = {}) =>
  d.bridge.pos.addOrder({
    customerId: p.customer.id,
    shippingAddressId: p.address.id,
    billingAddressId: p.address.id,
    lines: [{ itemId: p.item.id, qty: options.qty ?? 1, unitPrice: "10.00" }],
    ...(options.at === undefined ? {} : { at: new Date(options.at) })
  })

const sync = (d: Driver, store: Bridge.StoreAccess = Bridge.stores.orders) => d.bridge.sync(store.id)

const expect = (d: Driver, ok: boolean, problem: string) =>
  Effect.sync(() => (ok ? undefined : d.problems.push(problem)))

// ------------------------------------------------------------------------------------------------------------
// Scenarios
// ------------------------------------------------------------------------------------------------------------

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Needs the bridge clock or the POS: not applicable against an external server. */
  readonly needsControl: boolean
  /** The protocol check behind a scenario that needs no control; `--url` runs it against a running server. */
  readonly check?: ((t: ProtocolChecks.Target) => Effect.Effect<ReadonlyArray<string>>) | undefined
  readonly run: (d: Driver) => Effect.Effect<void>
}

const steady = (d: Driver, p: Pos, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => addOrder(d, p), { discard: true })

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "late-arriving-resave",
    description: "A re-save stamped 10:00 in the POS reaches the bridge at 10:07, after ShipStation polled to 10:05.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const o = yield* addOrder(d, p)
        yield* sync(d)
        yield* poll(d, Bridge.stores.orders)
        yield* advance(d, 5)
        const resavedAt = d.bridge.clock.now()
        yield* d.bridge.pos.updateOrder(o.id, { shippingCharge: "4.00", at: new Date(resavedAt) })
        yield* advance(d, 2)
        yield* poll(d, Bridge.stores.orders)
        yield* advance(d, 5)
        yield* sync(d)
        yield* advance(d, 5)
        yield* poll(d, Bridge.stores.orders)
      })
  },
  {
    name: "resave-no-change",
    description: "The merchant opens an order and saves it unchanged: it is exported again.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const o = yield* addOrder(d, p)
        yield* sync(d)
        yield* advance(d, 1)
        yield* poll(d, Bridge.stores.orders)
        yield* advance(d, 3)
        yield* d.bridge.pos.updateOrder(o.id, { at: new Date(d.bridge.clock.now()) })
        yield* sync(d)
        const before = d.bridge.versions.length
        yield* advance(d, 3)
        const r = yield* poll(d, Bridge.stores.orders)
        yield* expect(
          d,
          d.bridge.versions.length === before && r.orders.some((x) => x.posRef === String(o.id)),
          `the unchanged re-save of ${o.id} was not exported again`
        )
      })
  },
  {
    name: "unchanged-repoll",
    description: "A POS re-poll that finds nothing new restamps nothing: the order is not exported again.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const o = yield* addOrder(d, p)
        yield* sync(d)
        yield* advance(d, 2)
        yield* poll(d, Bridge.stores.orders)
        yield* advance(d, 5)
        yield* sync(d)
        yield* sync(d)
        yield* advance(d, 5)
        const r = yield* poll(d, Bridge.stores.orders)
        yield* expect(
          d,
          !r.orders.some((x) => x.posRef === String(o.id)),
          `order ${o.id} was exported again after an unchanged re-poll`
        )
      })
  },
  {
    name: "heartland-invoice-touch",
    description: "A Heartland invoice cannot be re-saved; the operator's touch exports it again.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const o = yield* addOrder(d, p)
        const invoice = yield* d.bridge.pos.completeToInvoice(o.id)
        yield* sync(d, Bridge.stores.invoices)
        yield* advance(d, 2)
        yield* poll(d, Bridge.stores.invoices)
        yield* advance(d, 10)
        yield* d.bridge.touch(Bridge.stores.invoices.id, String(invoice.id))
        yield* advance(d, 2)
        const r = yield* poll(d, Bridge.stores.invoices)
        yield* expect(
          d,
          r.orders.some((x) => x.posRef === String(invoice.id)),
          `touched invoice ${invoice.id} was not in the next poll`
        )
      })
  },
  ...[10, -10].map(
    (skew): Scenario => ({
      name: `shipstation-clock-${skew > 0 ? "ahead" : "behind"}-10-minutes`,
      description: `ShipStation's clock is ${Math.abs(skew)} minutes ${skew > 0 ? "ahead of" : "behind"} the bridge's; orders arrive around every poll.`,
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          d.offset = skew * minute
          const p = yield* posSetup(d)
          for (let i = 0; i < 8; i++) {
            const o = yield* addOrder(d, p, { at: d.bridge.clock.now() - 3 * minute })
            yield* advance(d, 1)
            if (i % 2 === 0) yield* sync(d)
            yield* poll(d, Bridge.stores.orders)
            if (i % 3 === 0) yield* d.bridge.pos.updateOrder(o.id, { shippingCharge: "2.00" })
            yield* sync(d)
            yield* advance(d, 2)
          }
        })
    })
  ),
  {
    name: "overlapping-windows",
    description: "Each poll starts 5 minutes before the previous end.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        for (let i = 0; i < 6; i++) {
          yield* steady(d, p, 2)
          yield* sync(d)
          yield* advance(d, 3)
          yield* poll(d, Bridge.stores.orders, { overlapMinutes: 5 })
        }
      })
  },
  {
    name: "one-minute-gaps",
    description: "Windows at minute precision: each starts at the previous end (inclusive end minute), every minute.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        for (let i = 0; i < 8; i++) {
          yield* addOrder(d, p)
          yield* Effect.sync(() => d.bridge.clock.advance(37_000))
          yield* sync(d)
          const last = d.lastEnd.get(Bridge.stores.orders.id)
          yield* poll(d, Bridge.stores.orders, last === undefined ? {} : { start: last + minute })
          yield* Effect.sync(() => d.bridge.clock.advance(23_000))
        }
      })
  },
  {
    name: "manual-refresh-mid-poll",
    description:
      "The merchant forces a refresh (last sync → now) while ShipStation is between pages of a scheduled poll.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        yield* steady(d, p, 5)
        yield* sync(d)
        yield* advance(d, 2)
        const last = d.lastEnd.get(Bridge.stores.orders.id)
        yield* poll(d, Bridge.stores.orders, {
          betweenPages: (page) =>
            page === 1
              ? Effect.gen(function* () {
                  yield* addOrder(d, p)
                  yield* sync(d)
                  yield* advance(d, 1)
                  yield* poll(d, Bridge.stores.orders, last === undefined ? {} : { start: last })
                })
              : Effect.void
        })
      })
  },
  {
    name: "documents-changing-between-pages",
    description: "Orders on page 1 are re-saved and new ones arrive while ShipStation reads pages 2..N.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const first = yield* addOrder(d, p)
        yield* steady(d, p, 6)
        yield* sync(d)
        yield* advance(d, 2)
        yield* poll(d, Bridge.stores.orders, {
          betweenPages: () =>
            Effect.gen(function* () {
              yield* d.bridge.pos.updateOrder(first.id, { shippingCharge: "1.00", at: new Date(d.bridge.clock.now()) })
              yield* addOrder(d, p)
              yield* sync(d)
              yield* Effect.sync(() => d.bridge.clock.advance(10_000))
            })
        })
      })
  },
  {
    name: "unrepairable-order-among-valid",
    description: "One order has a ship-to country that cannot be mapped; it is held back and the rest are served.",
    needsControl: true,
    run: (d) =>
      Effect.gen(function* () {
        const p = yield* posSetup(d)
        const bad = yield* d.bridge.pos.addAddress(p.customer.id, {
          first_name: "Ana",
          last_name: "García",
          line_1: "1 Nowhere",
          city: "Nowhere",
          state: "ZZ",
          postal_code: "0",
          country: "Atlantis"
        })
        yield* steady(d, p, 2)
        const o = yield* d.bridge.pos.addOrder({
          customerId: p.customer.id,
          shippingAddressId: bad.id,
          billingAddressId: bad.id,
          lines: [{ itemId: p.item.id, qty: 1, unitPrice: "5.00" }]
        })
        d.held.add(String(o.id))
        yield* steady(d, p, 2)
        yield* sync(d)
        yield* advance(d, 2)
        const r = yield* poll(d, Bridge.stores.orders)
        yield* expect(
          d,
          r.orders.length === 4 && !r.orders.some((x) => x.posRef === String(o.id)),
          `expected the 4 valid orders without ${o.id}, got ${r.orders.map((x) => x.posRef).join(", ")}`
        )
        const explained = yield* d.bridge.store.find(Bridge.stores.orders.id, String(o.id)).pipe(Effect.orDie)
        yield* expect(
          d,
          explained._tag === "Some" && explained.value.heldReasons.length > 0,
          `order ${o.id} has no held reason to show the merchant`
        )
      })
  },
  ...protocolScenarios(),
  ...overHttpOnly()
]

function protocolScenarios(): ReadonlyArray<Scenario> {
  const orders = Bridge.stores.orders
  const notify = (d: Driver, n: SS.Notice, store: Bridge.StoreAccess = orders) =>
    SS.shipNotify(d.bridge.url, store.id, creds(store), n)
  const shipped = (d: Driver) =>
    Effect.gen(function* () {
      const p = yield* posSetup(d)
      const o = yield* addOrder(d, p, { qty: 3 })
      yield* sync(d)
      yield* advance(d, 1)
      yield* poll(d, orders)
      return { p, o, id: String(o.id), number: o.public_id }
    })
  const putsToPos = (d: Driver) => Effect.map(d.bridge.pos.stats, (s) => s.byRoute["orders.put"])
  return [
    {
      name: "duplicate-ship-notices",
      description: "ShipStation sends the same notice twice: both get 200, the POS is written once.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          const { id, number } = yield* shipped(d)
          const n = { orderId: id, orderNumber: number, carrier: "UPS", trackingNumber: "1Z0001" }
          const a = yield* notify(d, n)
          const b = yield* notify(d, n)
          yield* expect(d, a.status === 200 && b.status === 200, `notices answered ${a.status} and ${b.status}`)
          yield* expect(d, /already received/.test(b.body), `the retry was not recognized: ${b.body.trim()}`)
          const before = yield* putsToPos(d)
          yield* d.bridge.deliverOutbox
          yield* d.bridge.deliverOutbox
          yield* expect(
            d,
            (yield* putsToPos(d)) - before === 1,
            "the duplicate notice did not reach the POS exactly once"
          )
        })
    },
    {
      name: "concurrent-ship-notices",
      description: "Five identical notices at once: all answered 200, exactly one stored, one write-back.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          const { id, number } = yield* shipped(d)
          const n = { orderId: id, orderNumber: number, carrier: "FedEx", trackingNumber: "7777" }
          const all = yield* Effect.all(
            Array.from({ length: 5 }, () => notify(d, n)),
            { concurrency: "unbounded" }
          )
          yield* expect(
            d,
            all.every((r) => r.status === 200),
            `statuses ${all.map((r) => r.status).join(",")}`
          )
          yield* expect(
            d,
            all.filter((r) => !/already received/.test(r.body)).length === 1,
            "not exactly one notice was stored"
          )
          const before = yield* putsToPos(d)
          yield* d.bridge.deliverOutbox
          yield* expect(
            d,
            (yield* putsToPos(d)) - before === 1,
            "concurrent notices did not reach the POS exactly once"
          )
        })
    },
    {
      name: "split-order-notice",
      description: "ShipStation split the order: the notice's OrderNumber has a suffix; it matches by OrderID.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          const { id, number } = yield* shipped(d)
          const r = yield* notify(d, {
            orderId: id,
            orderNumber: `${number}-1`,
            carrier: "USPS",
            trackingNumber: "9400"
          })
          yield* expect(
            d,
            r.status === 200 && !/no matching order/.test(r.body),
            `split notice: ${r.status} ${r.body.trim()}`
          )
          const found = yield* d.bridge.store.explain(orders.id, id).pipe(Effect.orDie)
          yield* expect(d, found.shipNotices.length === 1, "the split notice is not attached to the order")
        })
    },
    {
      name: "partial-shipment",
      description: "A notice for one of three units: accepted and written back; a second notice ships the rest.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          const { id, number } = yield* shipped(d)
          const a = yield* notify(d, {
            orderId: id,
            orderNumber: number,
            carrier: "UPS",
            trackingNumber: "P1",
            items: [{ sku: "BOOT-42", quantity: 1 }]
          })
          const b = yield* notify(d, {
            orderId: id,
            orderNumber: number,
            carrier: "UPS",
            trackingNumber: "P2",
            items: [{ sku: "BOOT-42", quantity: 2 }]
          })
          yield* expect(
            d,
            a.status === 200 && b.status === 200 && !/already/.test(b.body),
            `partial notices: ${a.status} ${b.status} ${b.body.trim()}`
          )
          const found = yield* d.bridge.store.explain(orders.id, id).pipe(Effect.orDie)
          yield* expect(
            d,
            found.shipNotices.length === 2,
            `expected two stored partial notices, found ${found.shipNotices.length}`
          )
        })
    },
    {
      name: "query-credentials",
      description: "SS-UserName / SS-Password in the query string are accepted like Basic auth.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          const p = yield* posSetup(d)
          yield* steady(d, p, 3)
          yield* sync(d)
          yield* advance(d, 1)
          const r = yield* poll(d, orders, { auth: "query" })
          yield* expect(d, r.orders.length === 3, `expected 3 orders, got ${r.orders.length}`)
        })
    },
    {
      name: "shipstation-sends-pacific-time",
      description: "ShipStation sends Pacific wall-clock time instead of UTC; the server must warn.",
      needsControl: true,
      run: (d) =>
        Effect.gen(function* () {
          d.skipFinal = true
          const p = yield* posSetup(d)
          for (let i = 0; i < 4; i++) {
            yield* addOrder(d, p)
            yield* sync(d)
            yield* advance(d, 5)
            const end = floorMinute(ssNow(d))
            yield* SS.poll(
              d.bridge.url,
              orders.id,
              creds(orders),
              { start: end - 10 * minute, end },
              { timeZone: "America/Los_Angeles" }
            )
          }
          const polls = yield* d.bridge.store.polls(orders.id, 20).pipe(Effect.orDie)
          const warning = ClockCheck.warning(polls, "utc")
          yield* expect(
            d,
            warning?.code === "shipstation-clock",
            "no ShipStation clock warning after four Pacific-time polls"
          )
        })
    }
  ]
}

/** A scenario made of one protocol check: it runs in-process here and against any server with `--url`. */
// A declaration, not a const: `scenarios` above is built when the module loads.
function overHttp(
  name: string,
  description: string,
  check: (t: ProtocolChecks.Target) => Effect.Effect<ReadonlyArray<string>>
): Scenario {
  return {
    name,
    description,
    needsControl: false,
    check,
    run: (d) =>
      Effect.gen(function* () {
        d.skipFinal = true
        d.problems.push(...(yield* check(targetOf(d))))
      })
  }
}

/** The in-process server seen as an external target: the main orders store, and the second merchant. */
export const targetOf = (d: Driver): ProtocolChecks.Target => ({
  url: d.bridge.url,
  store: Bridge.stores.orders,
  other: Bridge.stores.other,
  now: () => floorMinute(ssNow(d))
})

function overHttpOnly(): ReadonlyArray<Scenario> {
  return [
    overHttp(
      "bad-credentials",
      "A wrong password, by Basic auth and by query: 401 with a sentence, no orders.",
      ProtocolChecks.badCredentials
    ),
    overHttp(
      "both-credential-forms",
      "The store's credentials are accepted as HTTP Basic and as SS-UserName / SS-Password query parameters.",
      ProtocolChecks.bothCredentialForms
    ),
    overHttp(
      "credentials-of-another-store",
      "Store B's valid credentials on store A's URL (and A's on B's) are refused, for exports and notices.",
      ProtocolChecks.credentialsOfAnotherStore
    ),
    overHttp(
      "malformed-dates",
      "Dates in other forms and impossible dates: 400 naming the parameter; seconds and AM/PM are tolerated.",
      ProtocolChecks.malformedDates
    ),
    overHttp(
      "start-after-end",
      "A window whose start is after its end: 400 naming start_date.",
      ProtocolChecks.startAfterEnd
    ),
    overHttp(
      "empty-window",
      "A window with no orders is still a valid Orders document, not an empty body.",
      ProtocolChecks.emptyWindow
    ),
    overHttp(
      "page-beyond-last",
      "The page after the last is answered 200 with a well-formed Orders document without orders.",
      ProtocolChecks.pageBeyondLast
    ),
    overHttp(
      "paging-stability",
      "One poll over the last week, pages 1..N: pages never changes and every OrderID appears once.",
      ProtocolChecks.pagingStability
    ),
    overHttp(
      "duplicate-ship-notice-over-http",
      'The same notice twice (a made-up order): 200 both times, "already received" the second time.',
      ProtocolChecks.duplicateShipNotice
    ),
    overHttp(
      "unknown-store",
      "A URL for a store that does not exist answers 404 with a sentence.",
      ProtocolChecks.unknownStore
    )
  ]
}

export const makeDriver = (bridge: Bridge.Bridge): Driver => ({
  bridge,
  offset: 0,
  problems: [],
  served: [],
  lastEnd: new Map(),
  held: new Set(),
  skipFinal: false
})

/** Runs one scenario on a fresh server; never fails: problems are the case's result. */
export const run = (scenario: Scenario, options: Bridge.Options = {}): Effect.Effect<Report.CaseResult> =>
  Effect.gen(function* () {
    const started = Date.now()
    const exit = yield* Effect.exit(
      Effect.scoped(
        Effect.gen(function* () {
          const bridge = yield* Bridge.make(options)
          const d = makeDriver(bridge)
          yield* Effect.withClock(
            Effect.gen(function* () {
              yield* scenario.run(d)
              yield* finish(d)
            }),
            bridge.clock.clock
          )
          return d
        })
      )
    )
    const problems = Exit.isSuccess(exit)
      ? exit.value.problems
      : [
          `the scenario crashed: ${Option.getOrElse(Option.map(Cause.dieOption(exit.cause), String), () => Cause.pretty(exit.cause).split("\n")[0] ?? "")}`
        ]
    return {
      name: `scenario ${scenario.name}`,
      status: problems.length === 0 ? "passed" : "failed",
      problems,
      millis: Date.now() - started
    }
  })
