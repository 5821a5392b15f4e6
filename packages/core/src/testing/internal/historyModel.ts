/**
 * The model behind `StoreHistory.run`, computed from the history alone in plain milliseconds: DESIGN.md's
 * rules written out again, never taken from the store or from core's ExportStamp/OrderWindow code. What the
 * store must decide on an ingest, where a poll's window lies, which orders its snapshot must freeze.
 */
import { Clock, DateTime, Effect } from "effect"
import type * as Decimal from "../../Decimal.js"
import * as Order from "../../Order.js"
import * as OrderStore from "../../OrderStore.js"
import type * as SourceDocument from "../../SourceDocument.js"
import type { Step } from "./historyTypes.js"

/** A fixed origin: histories are about relative time. 2026-03-01T00:00:00Z. */
export const origin = 1_772_323_200_000
export const minute = 60_000
const day = 24 * 60 * minute

export interface Version {
  readonly posModifiedAt: number
  readonly content: number
}

export interface Delivery {
  readonly at: number
  readonly seq: number
  readonly order: number
  readonly version: Version
  readonly kind: "orders" | "invoices"
}

/** What the model says the store holds for one order. */
export interface Held {
  readonly version: Version
  readonly stamp: number
}

export type PollStep = Extract<Step, { _tag: "Poll" }>

export const posRef = (i: number) => `o${i}`
/** A time relative to the history's origin: `+90s`, `-540s`. */
export const rel = (t: number) => `${t < origin ? "-" : "+"}${Math.abs(t - origin) / 1000}s`
const floorMinute = (t: number) => t - (((t % minute) + minute) % minute)
export const sameVersion = (a: Version, b: Version) => a.posModifiedAt === b.posModifiedAt && a.content === b.content
export const versionText = (v: Version) => `(modified ${rel(v.posModifiedAt)}, v${v.content})`

export const makeOrder = (
  storeId: string,
  i: number,
  v: Version,
  kind: Delivery["kind"]
): SourceDocument.SourceDocument => ({
  order: Order.decodeSync({
    storeId,
    kind,
    posRef: posRef(i),
    orderNumber: String(1000 + i),
    orderDate: DateTime.formatIso(DateTime.unsafeMake(origin)),
    posModifiedAt: DateTime.formatIso(DateTime.unsafeMake(v.posModifiedAt)),
    status: "paid",
    customerCode: `c${i}`,
    billTo: { name: "Buyer" },
    shipTo: { name: "Buyer", address1: "1 Main St", city: "Springfield", state: "IL", country: "US" },
    lines: [{ lineId: "1", sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: "1.00" as Decimal.Decimal }],
    orderTotal: "1.00",
    customField1: `v${v.content}`
  })
})

export const versionOf = (stored: OrderStore.StoredOrder): Version => ({
  posModifiedAt: DateTime.toEpochMillis(stored.order.posModifiedAt),
  content: Number(stored.order.customField1?.slice(1))
})

/**
 * What an ingest of `batch` must report, and which deliveries it must accept (insert or restamp), given what
 * the store holds: the refresh rule as DESIGN.md states it.
 */
export const expectIngest = (held: ReadonlyMap<number, Held>, batch: ReadonlyArray<Delivery>) => {
  const empty = OrderStore.emptySummary()
  const summary = { ...empty, restamped: { ...empty.restamped }, ignored: { ...empty.ignored } }
  const accepted: Array<Delivery> = []
  const current = new Map(Array.from(held, ([i, h]) => [i, h.version]))
  for (const d of batch) {
    const stored = current.get(d.order)
    if (d.kind !== "orders") {
      summary.ignored["wrong-kind"]++
      continue
    }
    if (!stored) summary.inserted++
    else if (d.version.posModifiedAt < stored.posModifiedAt) {
      summary.ignored["older-version"]++
      continue
    } else if (d.version.posModifiedAt > stored.posModifiedAt) summary.restamped["pos-resaved"]++
    else if (d.version.content !== stored.content) summary.restamped["content-changed"]++
    else {
      summary.unchanged++
      continue
    }
    current.set(d.order, d.version)
    accepted.push(d)
  }
  return { summary, accepted }
}

/** ShipStation's regular polling so far: the latest end it continues from, and its last window. */
export interface Regular {
  readonly lastEnd: number | undefined
  readonly lastWindow: { readonly start: number; readonly end: number } | undefined
}

/** Where a poll's window lies (minute-aligned); one-off windows are not `regular`. */
export const windowOf = (step: PollStep, now: number, skewSeconds: number, regular: Regular) => {
  const w = step.window
  const { lastEnd, lastWindow } = regular
  if (w._tag === "Ahead") {
    const end = floorMinute(now) + w.minutes * minute
    const from = w.span === "LastSync" ? (lastEnd === undefined ? end - day : lastEnd + minute) : end - w.span * minute
    return { start: Math.min(from, end), end, regular: false }
  }
  if (w._tag === "Retry" && lastWindow) return { ...lastWindow, regular: true }
  const end = floorMinute(now + skewSeconds * 1000)
  let start = end - day
  if (lastEnd !== undefined) {
    if (w._tag === "SameMinute") start = lastEnd
    else if (w._tag === "Overlap") start = lastEnd - w.minutes * minute
    // A merchant's manual refresh: "from the last sync until now", reaching further back.
    else if (w._tag === "ManualRefresh") start = Math.min(lastEnd + minute, end) - w.minutes * minute
    else start = lastEnd + minute
  }
  return { start: Math.min(start, end), end, regular: true }
}

/** The snapshot a window must freeze: the orders stamped in [start, end + 1 minute), by stamp then id. */
export const snapshotOf = (held: ReadonlyMap<number, Held>, start: number, end: number): Array<number> =>
  Array.from(held.entries())
    .filter(([, h]) => h.stamp >= start && h.stamp < end + minute)
    .sort(([a, x], [b, y]) => x.stamp - y.stamp || (posRef(a) < posRef(b) ? -1 : 1))
    .map(([i]) => i)

/**
 * A clock the replay sets directly. `TestClock.setTime` first waits, on real timers, for other fibers to
 * suspend (a few milliseconds a step), which long histories cannot afford; one fiber replays a history, so
 * there is nothing to wait for. Sleeping (no store sleeps while it answers) runs on the real clock.
 */
export const manualClock = (read: () => number): Clock.Clock => {
  const live = Clock.make()
  return {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: read,
    currentTimeMillis: Effect.sync(read),
    unsafeCurrentTimeNanos: () => BigInt(read()) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(read()) * 1_000_000n),
    sleep: (duration) => live.sleep(duration)
  }
}
