/**
 * Model-based histories for the OrderStore: orders created and re-saved in the POS, POS delays before the
 * bridge ingests, bridge↔ShipStation clock skew, ShipStation polls with contiguous or overlapping windows,
 * touches, unchanged re-polls, and re-ingests between two page requests of one poll.
 *
 * `run` replays a history against whatever `OrderStore` is provided (under `TestClock`) and checks DESIGN.md
 * invariants 1–3 from the store's answers alone:
 *   1. every stored version (and every touch) appears in an export page served after it;
 *   2. every snapshot's members appear exactly once across pages 1..pages, with a constant `pages`;
 *   3. ingest decisions are exactly: insert new, restamp on re-save / content change / touch, unchanged otherwise.
 */
import { DateTime, Effect, FastCheck as fc, Option, TestClock } from "effect"
import type * as Decimal from "../Decimal.js"
import * as Order from "../Order.js"
import * as OrderStore from "../OrderStore.js"
import * as OrderWindow from "../OrderWindow.js"
import type * as SourceDocument from "../SourceDocument.js"
import type { StoreId } from "../StoreId.js"

export type WindowStart =
  | { readonly _tag: "Contiguous" }
  | { readonly _tag: "SameMinute" }
  | { readonly _tag: "Overlap"; readonly minutes: number }
  | { readonly _tag: "ManualRefresh"; readonly minutes: number }

export type Step =
  | { readonly _tag: "Advance"; readonly seconds: number }
  | { readonly _tag: "Save"; readonly order: number; readonly delaySeconds: number; readonly change: boolean }
  | { readonly _tag: "ContentOnly"; readonly order: number; readonly delaySeconds: number }
  | { readonly _tag: "Repoll"; readonly order: number }
  | { readonly _tag: "WrongKind"; readonly order: number }
  | { readonly _tag: "Touch"; readonly order: number }
  | {
      readonly _tag: "Poll"
      readonly start: WindowStart
      readonly pageSize: number
      /** Re-ingests delivered right after the given page of this poll. */
      readonly midPoll: ReadonlyArray<{ readonly afterPage: number; readonly order: number }>
    }

export interface History {
  readonly orders: number
  /** ShipStation clock minus bridge clock, seconds. */
  readonly skewSeconds: number
  /** POS clock minus bridge clock, seconds. */
  readonly posOffsetSeconds: number
  readonly steps: ReadonlyArray<Step>
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly violation: string }

const orderIndex = fc.integer({ min: 0, max: 5 })

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ _tag: fc.constant("Advance" as const), seconds: fc.integer({ min: 0, max: 600 }) })
  },
  {
    weight: 5,
    arbitrary: fc.record({
      _tag: fc.constant("Save" as const),
      order: orderIndex,
      delaySeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 900 })),
      change: fc.boolean()
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      _tag: fc.constant("ContentOnly" as const),
      order: orderIndex,
      delaySeconds: fc.integer({ min: 0, max: 900 })
    })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Repoll" as const), order: orderIndex }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("WrongKind" as const), order: orderIndex }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Touch" as const), order: orderIndex }) },
  {
    weight: 4,
    arbitrary: fc.record({
      _tag: fc.constant("Poll" as const),
      start: fc.oneof(
        fc.constant({ _tag: "Contiguous" as const }),
        fc.constant({ _tag: "SameMinute" as const }),
        fc.record({ _tag: fc.constant("Overlap" as const), minutes: fc.integer({ min: 1, max: 30 }) }),
        fc.record({ _tag: fc.constant("ManualRefresh" as const), minutes: fc.integer({ min: 1, max: 120 }) })
      ),
      pageSize: fc.integer({ min: 1, max: 5 }),
      midPoll: fc.array(fc.record({ afterPage: fc.integer({ min: 1, max: 4 }), order: orderIndex }), { maxLength: 3 })
    })
  }
)

export const arbitrary: fc.Arbitrary<History> = fc.record({
  orders: fc.integer({ min: 1, max: 6 }),
  skewSeconds: fc.oneof(fc.constantFrom(-600, 0, 600), fc.integer({ min: -600, max: 600 })),
  posOffsetSeconds: fc.integer({ min: -300, max: 300 }),
  steps: fc.array(stepArbitrary, { minLength: 1, maxLength: 40 })
})

/** A fixed origin: histories are about relative time. 2026-03-01T00:00:00Z. */
const origin = 1_772_323_200_000
const minute = 60_000

interface Version {
  readonly posModifiedAt: number
  readonly content: number
}

interface Delivery {
  readonly at: number
  readonly seq: number
  readonly order: number
  readonly version: Version
  readonly kind: "orders" | "invoices"
}

interface Obligation {
  readonly what: string
  readonly order: number
  readonly seq: number
  readonly posModifiedAt: number
}

const makeOrder = (
  storeId: string,
  i: number,
  v: Version,
  kind: "orders" | "invoices"
): SourceDocument.SourceDocument => ({
  order: Order.decodeSync({
    storeId,
    kind,
    posRef: `o${i}`,
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

/**
 * Replays `history` against the provided OrderStore. `storeId` must be unused in that store (SQL runs share
 * one database across histories). The naive stamp rule is expected to make this return a violation.
 */
export const run = (
  history: History,
  options: { readonly storeId: string }
): Effect.Effect<Verdict, never, OrderStore.OrderStore> =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const storeId = options.storeId as StoreId
    const storeRef = { id: storeId, kind: "orders" as const }
    let now = origin
    let seq = 0
    const pending: Array<Delivery> = []
    /** What the POS holds now, per order. */
    const pos = new Map<number, Version>()
    /** The model of what the store holds (the newest accepted version). */
    const stored = new Map<number, Version>()
    const obligations: Array<Obligation> = []
    /** (seq, posRef, posModifiedAt) of every order rendered on an export page. */
    const served: Array<{ seq: number; order: number; posModifiedAt: number }> = []
    let lastEnd: number | undefined
    const violations: Array<string> = []
    const fail = (stepIndex: number | string, message: string) => violations.push(`step ${stepIndex}: ${message}`)

    const setTime = (t: number) => {
      now = t
      return TestClock.setTime(t)
    }

    const deliver = (batch: ReadonlyArray<Delivery>, stepIndex: number | string) =>
      Effect.gen(function* () {
        if (batch.length === 0) return
        seq++
        const ingestSeq = seq
        const expected = OrderStore.emptySummary()
        const exp = {
          inserted: 0,
          restamped: { ...expected.restamped },
          unchanged: 0,
          ignored: { ...expected.ignored }
        }
        const accepted: Array<Delivery> = []
        for (const d of batch) {
          if (d.kind !== "orders") {
            exp.ignored["wrong-kind"]++
            continue
          }
          const current = stored.get(d.order)
          if (!current) {
            exp.inserted++
          } else if (d.version.posModifiedAt < current.posModifiedAt) {
            exp.ignored["older-version"]++
            continue
          } else if (d.version.posModifiedAt > current.posModifiedAt) {
            exp.restamped["pos-resaved"]++
          } else if (d.version.content !== current.content) {
            exp.restamped["content-changed"]++
          } else {
            exp.unchanged++
            continue
          }
          stored.set(d.order, d.version)
          accepted.push(d)
        }
        const summary = yield* store
          .ingest(
            storeRef,
            batch.map((d) => makeOrder(storeId, d.order, d.version, d.kind)),
            Option.some(`cursor-${ingestSeq}`)
          )
          .pipe(Effect.orDie)
        if (JSON.stringify(summary) !== JSON.stringify(exp)) {
          fail(stepIndex, `ingest summary ${JSON.stringify(summary)}, expected ${JSON.stringify(exp)}`)
        }
        for (const d of accepted) {
          obligations.push({
            what: `version of o${d.order} saved at +${(d.version.posModifiedAt - origin) / 1000}s, ingested at +${(now - origin) / 1000}s`,
            order: d.order,
            seq: ingestSeq,
            posModifiedAt: d.version.posModifiedAt
          })
        }
      })

    const deliverDue = (stepIndex: number | string) => {
      const due = pending.filter((d) => d.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq)
      for (const d of due) pending.splice(pending.indexOf(d), 1)
      return deliver(due, stepIndex)
    }

    const save = (
      i: number,
      change: boolean,
      advancePos: boolean,
      delaySeconds: number,
      kind: "orders" | "invoices"
    ) => {
      const previous = pos.get(i)
      const posNow = now + history.posOffsetSeconds * 1000
      const version: Version = {
        posModifiedAt:
          advancePos || !previous ? Math.max(posNow, (previous?.posModifiedAt ?? 0) + 1000) : previous.posModifiedAt,
        content: !previous ? 0 : change ? previous.content + 1 : previous.content
      }
      if (kind === "orders") pos.set(i, version)
      seq++
      pending.push({ at: now + delaySeconds * 1000, seq, order: i, version, kind })
    }

    const poll = (step: Extract<Step, { _tag: "Poll" }>, stepIndex: number | string) =>
      Effect.gen(function* () {
        const ssNow = now + history.skewSeconds * 1000
        const end = ssNow - (((ssNow % minute) + minute) % minute)
        let start: number
        if (lastEnd === undefined) start = end - 24 * 60 * minute
        else {
          switch (step.start._tag) {
            case "Contiguous":
              start = lastEnd + minute
              break
            case "SameMinute":
              start = lastEnd
              break
            case "Overlap":
              start = lastEnd - step.start.minutes * minute
              break
            case "ManualRefresh":
              // A merchant's manual refresh: "from the last sync until now", reaching further back.
              start = Math.min(lastEnd + minute, end) - step.start.minutes * minute
              break
          }
        }
        start = Math.min(start, end)
        lastEnd = Math.max(lastEnd ?? end, end)
        const window = OrderWindow.make(DateTime.unsafeMake(start), DateTime.unsafeMake(end))
        seq++
        const first = yield* store.exportPage({ storeId, window, page: 1, pageSize: step.pageSize }).pipe(Effect.orDie)
        // The snapshot must hold exactly the documents stamped inside the window at this moment.
        let inWindow = 0
        for (const i of stored.keys()) {
          const found = yield* store.find(storeId, `o${i}`).pipe(Effect.orDie)
          if (Option.isSome(found) && OrderWindow.contains(window, found.value.stamp)) inWindow++
        }
        if (first.total !== inWindow)
          fail(stepIndex, `page 1 froze ${first.total} members, ${inWindow} are in the window`)
        const pages = first.pages
        const seen: Array<string> = []
        const record = (page: OrderStore.ExportPage, pageSeq: number) => {
          for (const o of page.orders) {
            seen.push(o.order.posRef)
            served.push({
              seq: pageSeq,
              order: Number(o.order.posRef.slice(1)),
              posModifiedAt: DateTime.toEpochMillis(o.order.posModifiedAt)
            })
          }
        }
        record(first, seq)
        for (let page = 1; page <= pages + 1; page++) {
          if (page > 1) {
            seq++
            const p = yield* store.exportPage({ storeId, window, page, pageSize: step.pageSize }).pipe(Effect.orDie)
            if (p.pages !== pages) fail(stepIndex, `page ${page} says pages=${p.pages}, page 1 said ${pages}`)
            if (p.snapshotId !== first.snapshotId) fail(stepIndex, `page ${page} came from another snapshot`)
            if (page > pages && p.orders.length !== 0) fail(stepIndex, `page ${page} past the last has orders`)
            record(p, seq)
          }
          for (const m of step.midPoll.filter((m) => m.afterPage === page && m.order < history.orders)) {
            save(m.order, true, true, 0, "orders")
            yield* deliverDue(`${stepIndex} (between pages)`)
          }
        }
        if (new Set(seen).size !== seen.length)
          fail(stepIndex, `an order appeared twice across pages: ${seen.join(",")}`)
        if (seen.length !== first.total) {
          fail(stepIndex, `pages 1..${pages} served ${seen.length} orders, the snapshot has ${first.total}`)
        }
      })

    yield* setTime(origin)
    for (const [index, step] of history.steps.entries()) {
      switch (step._tag) {
        case "Advance":
          yield* setTime(now + step.seconds * 1000)
          break
        case "Save":
          if (step.order < history.orders) save(step.order, step.change, true, step.delaySeconds, "orders")
          break
        case "ContentOnly":
          if (step.order < history.orders && pos.has(step.order)) {
            save(step.order, true, false, step.delaySeconds, "orders")
          }
          break
        case "Repoll": {
          const v = stored.get(step.order)
          if (v) {
            seq++
            pending.push({ at: now, seq, order: step.order, version: v, kind: "orders" })
          }
          break
        }
        case "WrongKind":
          if (step.order < history.orders) save(step.order, true, true, 0, "invoices")
          break
        case "Touch": {
          if (!stored.has(step.order)) break
          seq++
          const touched = yield* store.touch(storeId, `o${step.order}`).pipe(Effect.either)
          if (touched._tag === "Left") fail(index, `touch of o${step.order} failed: ${touched.left.message}`)
          else {
            obligations.push({
              what: `touch of o${step.order} at +${(now - origin) / 1000}s`,
              order: step.order,
              seq,
              posModifiedAt: stored.get(step.order)!.posModifiedAt
            })
          }
          break
        }
        case "Poll":
          yield* poll(step, index)
          break
      }
      yield* deliverDue(index)
    }

    // Let every delivery arrive, then let ShipStation poll twice more, far enough apart to cover any skew.
    const lastDelivery = Math.max(now, ...pending.map((d) => d.at))
    yield* setTime(lastDelivery)
    yield* deliverDue("final")
    for (const n of [1, 2]) {
      yield* setTime(now + 16 * minute)
      yield* poll({ _tag: "Poll", start: { _tag: "Contiguous" }, pageSize: 100, midPoll: [] }, `final poll ${n}`)
    }

    for (const o of obligations) {
      const shown = served.some((s) => s.order === o.order && s.seq > o.seq && s.posModifiedAt >= o.posModifiedAt)
      if (!shown) fail("end", `missed: the ${o.what} never appeared in a later export page`)
    }
    return violations.length === 0 ? { ok: true as const } : { ok: false as const, violation: violations.join("\n") }
  })
