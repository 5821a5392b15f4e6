/**
 * The replay behind `StoreHistory.run`: plays a history against an OrderStore while keeping the model
 * (`historyModel.ts`) of what the store must hold, and reports where the store's answers differ from the
 * model or break an invariant.
 */
import { DateTime, Duration, Effect, Option } from "effect"
import * as OrderStore from "../../OrderStore.js"
import * as OrderWindow from "../../OrderWindow.js"
import type { StoreId } from "../../StoreId.js"
import {
  type Delivery,
  expectIngest,
  type Held,
  makeOrder,
  manualClock,
  minute,
  origin,
  type PollStep,
  posRef,
  type Regular,
  rel,
  sameVersion,
  snapshotOf,
  type Version,
  versionOf,
  versionText,
  windowOf
} from "./historyModel.js"
import type { Between, History, Invariant, Options, Stats, Target, Verdict, Violation } from "./historyTypes.js"

interface Obligation {
  readonly what: string
  readonly order: number
  readonly seq: number
  readonly posModifiedAt: number
}

export const run = (history: History, options: Options): Effect.Effect<Verdict, never, OrderStore.OrderStore> =>
  Effect.suspend(() => {
    const clock = { now: origin }
    return replay(history, options, clock).pipe(Effect.withClock(manualClock(() => clock.now)))
  })

const replay = (history: History, options: Options, clock: { now: number }) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const storeId = options.storeId as StoreId
    const storeRef = { id: storeId, kind: "orders" as const }
    const tolerance = Duration.toMillis(Duration.decode(options.tolerance ?? Duration.minutes(15)))
    const orderOf = (i: number) => i % history.orders
    let seq = 0
    const pending: Array<Delivery> = []
    /** What the POS holds now, per order. */
    const pos = new Map<number, Version>()
    /** The model of the store: the newest accepted version of each order and the stamp it must carry. */
    const held = new Map<number, Held>()
    /** One minute past the latest window end served that was within the tolerance of the bridge clock. */
    let watermark: number | undefined
    const obligations: Array<Obligation> = []
    /** Every order rendered on an export page, and whether the page answered a regular poll. */
    const served: Array<{ seq: number; order: number; posModifiedAt: number; regular: boolean }> = []
    /** ShipStation's regular polling: the latest end it continues from, and its last window (for a retry). */
    let regularPolls: Regular = { lastEnd: undefined, lastWindow: undefined }
    const violations: Array<Violation> = []
    const stats = {
      steps: history.steps.length,
      polls: 0,
      pagedPolls: 0,
      changedBetweenPages: 0,
      unreadChanged: 0,
      aheadPolls: 0,
      clampedPages: 0,
      obligations: 0
    } satisfies Stats
    const fail = (invariant: Invariant, at: number | string, message: string) =>
      violations.push({ invariant, message: `step ${at}: ${message}` })
    const stampNow = () => Math.max(clock.now, watermark ?? clock.now)

    /** The store's copy of `order` against the model: version, stamp, and the bound on how far ahead it is. */
    const checkStored = (order: number, at: number | string) =>
      Effect.gen(function* () {
        const model = held.get(order)!
        const found = yield* store.find(storeId, posRef(order)).pipe(Effect.orDie)
        if (Option.isNone(found)) return fail("refresh", at, `o${order} is not in the store`)
        const stamp = DateTime.toEpochMillis(found.value.stamp)
        const wm = watermark === undefined ? "none" : rel(watermark)
        if (stamp > clock.now + tolerance + minute) {
          fail("stamp", at, `o${order} stamped ${rel(stamp)} at ${rel(clock.now)}, past bridge-now + tolerance + 1 min`)
        }
        if (stamp !== model.stamp) {
          fail("stamp", at, `o${order} stamped ${rel(stamp)}, the model says ${rel(model.stamp)} (watermark ${wm})`)
        }
        const version = versionOf(found.value)
        if (!sameVersion(version, model.version)) {
          fail("refresh", at, `o${order} holds ${versionText(version)}, the model ${versionText(model.version)}`)
        }
      })

    /** Ingests `batch` in one call; returns the orders whose version was accepted (inserted or restamped). */
    const deliver = (batch: ReadonlyArray<Delivery>, at: number | string) =>
      Effect.gen(function* () {
        if (batch.length === 0) return new Set<number>()
        seq++
        const ingestSeq = seq
        const { summary: expected, accepted: deliveries } = expectIngest(held, batch)
        const accepted = new Set<number>()
        for (const d of deliveries) {
          held.set(d.order, { version: d.version, stamp: stampNow() })
          accepted.add(d.order)
          obligations.push({
            what: `version of o${d.order} ${versionText(d.version)} ingested at ${rel(clock.now)}`,
            order: d.order,
            seq: ingestSeq,
            posModifiedAt: d.version.posModifiedAt
          })
        }
        const documents = batch.map((d) => makeOrder(storeId, d.order, d.version, d.kind))
        const summary = yield* store.ingest(storeRef, documents, Option.some(`cursor-${ingestSeq}`)).pipe(Effect.orDie)
        if (JSON.stringify(summary) !== JSON.stringify(expected)) {
          fail("refresh", at, `ingest summary ${JSON.stringify(summary)}, expected ${JSON.stringify(expected)}`)
        }
        for (const order of accepted) yield* checkStored(order, at)
        return accepted
      })

    const deliverDue = (at: number | string) => {
      const due = pending.filter((d) => d.at <= clock.now).sort((a, b) => a.at - b.at || a.seq - b.seq)
      for (const d of due) pending.splice(pending.indexOf(d), 1)
      return deliver(due, at)
    }

    const save = (i: number, change: boolean, advancePos: boolean, delaySeconds: number, kind: Delivery["kind"]) => {
      const previous = pos.get(i)
      const posNow = clock.now + history.posOffsetSeconds * 1000
      const version: Version = {
        posModifiedAt:
          advancePos || !previous ? Math.max(posNow, (previous?.posModifiedAt ?? 0) + 1000) : previous.posModifiedAt,
        content: !previous ? 0 : change ? previous.content + 1 : previous.content
      }
      if (kind === "orders") pos.set(i, version)
      seq++
      pending.push({ at: clock.now + delaySeconds * 1000, seq, order: i, version, kind })
    }

    /** An operator's touch of `order`, if the store holds it; true when it restamped. */
    const touch = (order: number, at: number | string) =>
      Effect.gen(function* () {
        const model = held.get(order)
        if (!model) return false
        seq++
        const touched = yield* store.touch(storeId, posRef(order)).pipe(Effect.either)
        if (touched._tag === "Left") {
          fail("refresh", at, `touch of o${order} failed: ${touched.left.message}`)
          return false
        }
        held.set(order, { version: model.version, stamp: stampNow() })
        obligations.push({
          what: `touch of o${order} at ${rel(clock.now)}`,
          order,
          seq,
          posModifiedAt: model.version.posModifiedAt
        })
        yield* checkStored(order, at)
        return true
      })

    /** Resolves and plays one event between two pages; returns the orders it changed in the store. */
    const playBetween = (event: Between, unread: ReadonlyArray<number>, at: string) =>
      Effect.gen(function* () {
        const target = (t: Target) =>
          t._tag === "Unread" && unread.length > 0
            ? unread[t.pick % unread.length]!
            : orderOf(t._tag === "Order" ? t.order : t.pick)
        const i = target(event.target)
        switch (event._tag) {
          case "Resave":
            save(i, event.change, true, 0, "orders")
            return yield* deliverDue(at)
          case "ContentOnly":
            if (pos.has(i)) save(i, true, false, 0, "orders")
            return yield* deliverDue(at)
          case "Touch":
            return (yield* touch(i, at)) ? new Set([i]) : new Set<number>()
        }
      })

    const poll = (step: PollStep, at: number | string) =>
      Effect.gen(function* () {
        const { start, end, regular } = windowOf(step, clock.now, history.skewSeconds, regularPolls)
        if (regular) {
          regularPolls = { lastEnd: Math.max(regularPolls.lastEnd ?? end, end), lastWindow: { start, end } }
        }
        const window = OrderWindow.make(DateTime.unsafeMake(start), DateTime.unsafeMake(end))
        const { pageSize } = step
        const members = snapshotOf(held, start, end)
        const seen: Array<string> = []
        const request = (page: number) =>
          Effect.gen(function* () {
            seq++
            const p = yield* store.exportPage({ storeId, window, page, pageSize }).pipe(Effect.orDie)
            const clamped = end > clock.now + tolerance
            if (p.watermarkClamped !== clamped) {
              fail("stamp", at, `page ${page} ending ${rel(end)} at ${rel(clock.now)}: clamped=${p.watermarkClamped}`)
            }
            if (clamped) stats.clampedPages++
            else watermark = Math.max(watermark ?? end + minute, end + minute)
            for (const o of p.orders) {
              const i = Number(o.order.posRef.slice(1))
              const model = held.get(i)
              const version = versionOf(o)
              seen.push(o.order.posRef)
              served.push({ seq, order: i, posModifiedAt: version.posModifiedAt, regular })
              const stamp = DateTime.toEpochMillis(o.stamp)
              const shown = `page ${page} rendered ${o.order.posRef} ${versionText(version)} stamped ${rel(stamp)}`
              if (!model) fail("paging", at, `${shown}, the model holds no such order`)
              else if (!sameVersion(version, model.version)) {
                fail("paging", at, `${shown}, the model's current version is ${versionText(model.version)}`)
              } else if (stamp !== model.stamp) fail("stamp", at, `${shown}, the model's stamp is ${rel(model.stamp)}`)
            }
            return p
          })
        const first = yield* request(1)
        const pages = first.pages
        if (first.total !== members.length) {
          fail("window", at, `page 1 froze ${first.total} members, the model has ${members.length} in the window`)
        }
        if (pages !== Math.ceil(first.total / pageSize)) {
          fail("paging", at, `${first.total} members in pages of ${pageSize} make ${pages} pages`)
        }
        let changed = false
        let unreadChanged = false
        for (let page = 1; page <= pages + 1; page++) {
          if (page > 1) {
            const p = yield* request(page)
            if (p.pages !== pages) fail("paging", at, `page ${page} says pages=${p.pages}, page 1 said ${pages}`)
            if (p.snapshotId !== first.snapshotId || p.snapshotCreated) {
              fail("paging", at, `page ${page} came from another snapshot`)
            }
            if (page > pages && p.orders.length !== 0) fail("paging", at, `page ${page} past the last has orders`)
          }
          if (page > Math.max(pages, 1)) break
          // Between this page and the next: time passes (late deliveries arrive), then the poll's events. An
          // event's page is folded onto the pages this snapshot has, so it lands between two of them.
          clock.now += step.pageGapSeconds * 1000
          const unread = members.slice(page * pageSize)
          const changes = [yield* deliverDue(`${at} (after page ${page})`)]
          for (const b of step.between) {
            if ((b.afterPage - 1) % Math.max(pages - 1, 1) !== page - 1) continue
            changes.push(yield* playBetween(b.event, unread, `${at} (after page ${page})`))
          }
          if (page < pages && changes.some((c) => c.size > 0)) changed = true
          if (page < pages && changes.some((c) => unread.some((i) => c.has(i)))) unreadChanged = true
        }
        if (new Set(seen).size !== seen.length) fail("paging", at, `an order appeared twice across pages: ${seen}`)
        if (seen.length !== first.total) {
          fail("paging", at, `pages 1..${pages} served ${seen.length} orders, the snapshot has ${first.total}`)
        }
        const expected = members.map(posRef)
        if (seen.join() !== expected.join()) {
          fail(
            "window",
            at,
            `pages served ${seen.join() || "nothing"}, the model's window holds ${expected.join() || "nothing"}`
          )
        }
        return { pages, changed, unreadChanged, regular }
      })

    for (const [index, step] of history.steps.entries()) {
      switch (step._tag) {
        case "Advance":
          clock.now += step.seconds * 1000
          break
        case "Save":
          save(orderOf(step.order), step.change, true, step.delaySeconds, "orders")
          break
        case "ContentOnly":
          if (pos.has(orderOf(step.order))) save(orderOf(step.order), true, false, step.delaySeconds, "orders")
          break
        case "Repoll": {
          const model = held.get(orderOf(step.order))
          if (model) {
            seq++
            pending.push({ at: clock.now, seq, order: orderOf(step.order), version: model.version, kind: "orders" })
          }
          break
        }
        case "WrongKind":
          save(orderOf(step.order), true, true, 0, "invoices")
          break
        case "Touch":
          yield* touch(orderOf(step.order), index)
          break
        case "Poll": {
          const result = yield* poll(step, index)
          stats.polls++
          if (result.pages > 1) stats.pagedPolls++
          if (result.changed) stats.changedBetweenPages++
          if (result.unreadChanged) stats.unreadChanged++
          if (!result.regular) stats.aheadPolls++
          break
        }
      }
      yield* deliverDue(index)
    }

    // Let every delivery arrive, then let ShipStation poll regularly twice more, 16 minutes apart: 32 minutes
    // cover tolerance + 1 minute + any skew, the furthest a correct store stamps ahead of the bridge clock.
    clock.now = Math.max(clock.now, ...pending.map((d) => d.at))
    yield* deliverDue("final")
    for (const n of [1, 2]) {
      clock.now += 16 * minute
      const final = {
        _tag: "Poll",
        window: { _tag: "Contiguous" },
        pageSize: 100,
        pageGapSeconds: 0,
        between: []
      } as const
      yield* poll(final, `final poll ${n}`)
    }

    stats.obligations = obligations.length
    for (const o of obligations) {
      const shown = served.some(
        (s) => s.regular && s.order === o.order && s.seq > o.seq && s.posModifiedAt >= o.posModifiedAt
      )
      if (!shown) fail("missed", "end", `the ${o.what} never appeared in a later page of a regular poll`)
    }
    return { ok: violations.length === 0, violations, stats } satisfies Verdict
  })
