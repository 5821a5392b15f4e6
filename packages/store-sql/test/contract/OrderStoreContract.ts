/**
 * The OrderStore contract, written once and run against every implementation (memory, SQLite, PostgreSQL).
 * Each test uses its own store id and a later day on the suite's TestClock, so one database serves the suite.
 * Every store under test is given `options` (a history retention of 30 days).
 */
import { expect, layer } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { DateTime, Duration, Effect, Exit, type Layer, Option, TestClock } from "effect"
import { doc, freshDay, minute, ms, storeId, utc } from "../support/Fixtures.js"

/** What each store under the contract is configured with: the retention the refresh-call test relies on. */
export const options = { historyRetention: Duration.days(30) }

const day = 86_400_000

const window = (startMs: number, endMs: number): OrderWindow.OrderWindow => OrderWindow.make(utc(startMs), utc(endMs))

const exportAll = (
  store: OrderStore.OrderStoreService,
  storeId: string,
  w: OrderWindow.OrderWindow,
  pageSize: number
) =>
  Effect.gen(function* () {
    const first = yield* store.exportPage({ storeId, window: w, page: 1, pageSize })
    const rest = []
    for (let page = 2; page <= first.pages; page++) {
      rest.push(yield* store.exportPage({ storeId, window: w, page, pageSize }))
    }
    return [first, ...rest]
  })

/** A store id of its own and a fresh day on the TestClock; the POS ids given are ingested first. */
const fresh = (...posRefs: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const t0 = yield* freshDay
    const s = storeId()
    const ref = { id: s, kind: "invoices" as const }
    if (posRefs.length > 0) {
      yield* store.ingest(
        ref,
        posRefs.map((posRef) => doc({ storeId: s, posRef })),
        Option.none()
      )
    }
    return { store, t0, s, ref }
  })

const notice = (s: string, trackingNumber: string, carrier = "UPS", orderNumber = "N-1") => ({
  storeId: s as never,
  orderNumber,
  carrier,
  trackingNumber,
  items: []
})

/** Field rules that hold these POS ids back, with one reason each. */
const holding =
  (reasons: Readonly<Record<string, string>>) =>
  (order: { readonly posRef: string }): ReadonlyArray<string> => {
    const reason = reasons[order.posRef]
    return reason === undefined ? [] : [reason]
  }

const refreshCall = (
  storeId: string,
  atMs: number,
  call: Partial<Omit<OrderStore.RefreshCall, "storeId" | "at">> = {}
): OrderStore.RefreshCall => ({
  storeId,
  at: utc(atMs),
  reason: "arrival",
  posRef: Option.none(),
  outcome: "requested",
  message: Option.none(),
  ...call
})

/** A store's refresh calls as plain values, times relative to `t0`. */
const refreshesOf = (store: OrderStore.OrderStoreService, storeId: string, t0: number, limit = 100) =>
  Effect.map(store.refreshCalls(storeId, limit), (calls) =>
    calls.map((c) => [
      c.storeId === storeId ? "" : c.storeId,
      ms(c.at) - t0,
      c.reason,
      Option.getOrNull(c.posRef),
      c.outcome,
      Option.getOrNull(c.message)
    ])
  )

export const contract = (name: string, storeLayer: Layer.Layer<OrderStore.OrderStore, unknown>) =>
  layer(storeLayer, { timeout: Duration.seconds(60) })(`OrderStore contract: ${name}`, (it) => {
    it.effect("ingest counts inserts, re-saves, content changes, unchanged re-polls and ignored documents", () =>
      Effect.gen(function* () {
        const { store, t0, s, ref } = yield* fresh()
        const first = yield* store.ingest(
          ref,
          [
            doc({ storeId: s, posRef: "a", posModifiedAt: t0 }),
            doc({ storeId: s, posRef: "b", posModifiedAt: t0 }),
            doc({ storeId: s, posRef: "q", kind: "orders" }),
            doc({ storeId: s, posRef: "x", exclude: "sale not completed" })
          ],
          Option.none()
        )
        expect(first.inserted).toBe(2)
        expect(first.ignored).toEqual({ "wrong-kind": 1, excluded: 1, "older-version": 0, "not-found": 0 })

        yield* TestClock.adjust(Duration.minutes(1))
        const second = yield* store.ingest(
          ref,
          [
            doc({ storeId: s, posRef: "a", posModifiedAt: t0 }),
            doc({ storeId: s, posRef: "b", posModifiedAt: t0 + minute }),
            doc({ storeId: s, posRef: "c", posModifiedAt: t0 }),
            doc({ storeId: s, posRef: "b", posModifiedAt: t0 - minute })
          ],
          Option.none()
        )
        expect(second).toEqual({
          inserted: 1,
          restamped: { "pos-resaved": 1, "content-changed": 0, touched: 0 },
          unchanged: 1,
          ignored: { "wrong-kind": 0, excluded: 0, "older-version": 1, "not-found": 0 }
        })

        const third = yield* store.ingest(
          ref,
          [doc({ storeId: s, posRef: "a", posModifiedAt: t0, total: "12.50" })],
          Option.none()
        )
        expect(third.restamped["content-changed"]).toBe(1)
        const a = yield* store.find(s, "a")
        expect(Option.map(a, (o) => o.order.orderTotal)).toEqual(Option.some("12.50"))
        expect((yield* store.stats(s)).documents).toBe(3)
      })
    )

    it.effect("a batch and its cursor commit together, and a bad batch writes nothing and keeps the cursor", () =>
      Effect.gen(function* () {
        const { store, s, ref } = yield* fresh()
        const other = storeId()
        expect(yield* store.cursor(s)).toEqual(Option.none())
        yield* store.ingest(ref, [doc({ storeId: s, posRef: "a" })], Option.some("cursor-1"))
        expect(yield* store.cursor(s)).toEqual(Option.some("cursor-1"))

        const bad = yield* Effect.exit(
          store.ingest(
            ref,
            [doc({ storeId: s, posRef: "b" }), doc({ storeId: other, posRef: "c" })],
            Option.some("cursor-2")
          )
        )
        expect(Exit.isFailure(bad)).toBe(true)
        expect(yield* store.cursor(s)).toEqual(Option.some("cursor-1"))
        expect(yield* store.find(s, "b")).toEqual(Option.none())
        expect((yield* store.stats(s)).documents).toBe(1)

        // No cursor given: documents commit, the cursor stays where it was.
        yield* store.ingest(ref, [doc({ storeId: s, posRef: "d" })], Option.none())
        expect(yield* store.cursor(s)).toEqual(Option.some("cursor-1"))
      })
    )

    it.effect("an empty window answers zero pages, and a page past the last is empty with the same page count", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const empty = yield* store.exportPage({
          storeId: s,
          window: window(t0 - 60 * minute, t0),
          page: 1,
          pageSize: 10
        })
        expect(empty).toMatchObject({ page: 1, pages: 0, total: 0, orders: [] })

        yield* store.ingest(
          { id: s, kind: "invoices" },
          [doc({ storeId: s, posRef: "a" }), doc({ storeId: s, posRef: "b" }), doc({ storeId: s, posRef: "c" })],
          Option.none()
        )
        const w = window(t0 - 60 * minute, t0 + minute)
        const page1 = yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 2 })
        const page3 = yield* store.exportPage({ storeId: s, window: w, page: 3, pageSize: 2 })
        expect(page1.pages).toBe(2)
        expect(page3).toMatchObject({ page: 3, pages: 2, total: 3, orders: [], snapshotId: page1.snapshotId })
      })
    )

    it.effect("pages of one poll come from one snapshot: every member once, current content, constant page count", () =>
      Effect.gen(function* () {
        const { store, t0, s, ref } = yield* fresh()
        const refs = ["e", "a", "d", "b", "c"]
        // Stamps differ by a second each, so snapshot order is ingest order, not POS-id order.
        for (const posRef of refs) {
          yield* store.ingest(ref, [doc({ storeId: s, posRef, posModifiedAt: t0 })], Option.none())
          yield* TestClock.adjust(Duration.seconds(1))
        }
        const w = window(t0, t0 + 10 * minute)
        const page1 = yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 2 })
        expect(page1.snapshotCreated).toBe(true)
        expect(page1.orders.map((o) => o.order.posRef)).toEqual(["e", "a"])

        // Between pages: a member is re-saved (its stamp moves past the others) and a new document arrives.
        yield* store.ingest(
          ref,
          [
            doc({ storeId: s, posRef: "d", posModifiedAt: t0 + minute, total: "99.00" }),
            doc({ storeId: s, posRef: "f" })
          ],
          Option.none()
        )
        const page2 = yield* store.exportPage({ storeId: s, window: w, page: 2, pageSize: 2 })
        const page3 = yield* store.exportPage({ storeId: s, window: w, page: 3, pageSize: 2 })
        expect([page2.snapshotCreated, page3.snapshotCreated]).toEqual([false, false])
        expect([page1.pages, page2.pages, page3.pages]).toEqual([3, 3, 3])
        const seen = [page1, page2, page3].flatMap((p) => p.orders.map((o) => o.order.posRef))
        expect(seen).toEqual(refs)
        const d = page2.orders.find((o) => o.order.posRef === "d")
        expect(d?.order.orderTotal).toBe("99.00")

        // Both changes were stamped after the served window: a re-poll of it freezes a new snapshot without
        // them, and the next window carries them.
        const again = yield* exportAll(store, s, w, 2)
        expect(again[0]?.snapshotCreated).toBe(true)
        expect(again.flatMap((p) => p.orders.map((o) => o.order.posRef))).toEqual(["e", "a", "b", "c"])
        const next = yield* exportAll(store, s, window(t0 + 10 * minute, t0 + 20 * minute), 2)
        expect(next.flatMap((p) => p.orders.map((o) => o.order.posRef))).toEqual(["d", "f"])
      })
    )

    it.effect(
      "an order read on a page, then changed, is sent with its new content, never the version read before",
      () =>
        Effect.gen(function* () {
          const { store, t0, s, ref } = yield* fresh("a", "b")
          const first = yield* exportAll(store, s, window(t0, t0 + 10 * minute), 1)
          expect(first.flatMap((p) => p.orders.map((o) => [o.order.posRef, o.order.orderTotal]))).toEqual([
            ["a", "10.00"],
            ["b", "10.00"]
          ])
          yield* TestClock.adjust(Duration.minutes(11))
          yield* store.ingest(
            ref,
            [doc({ storeId: s, posRef: "a", posModifiedAt: t0 + minute, total: "20.00" })],
            Option.none()
          )
          // Restamped when it changed: a window over both stamps sends it after b, with its new content.
          const all = yield* exportAll(store, s, window(t0, t0 + 30 * minute), 1)
          expect(all.flatMap((p) => p.orders.map((o) => [o.order.posRef, o.order.orderTotal]))).toEqual([
            ["b", "10.00"],
            ["a", "20.00"]
          ])
        })
    )

    it.effect("a version ingested after a window was served is stamped after it and shows in the next window", () =>
      Effect.gen(function* () {
        const { store, t0, s, ref } = yield* fresh()
        // ShipStation's clock runs 5 minutes ahead: it asks for a window ending after the bridge's now.
        const served = window(t0 - 60 * minute, t0 + 5 * minute)
        yield* store.exportPage({ storeId: s, window: served, page: 1, pageSize: 100 })
        expect((yield* store.stats(s)).watermark).toEqual(Option.some(utc(t0 + 6 * minute)))

        // A late POS document whose own modified time is an hour old.
        yield* store.ingest(ref, [doc({ storeId: s, posRef: "late", posModifiedAt: t0 - 60 * minute })], Option.none())
        const late = yield* store.find(s, "late")
        expect(Option.map(late, (o) => ms(o.stamp))).toEqual(Option.some(t0 + 6 * minute))
        expect((yield* store.stats(s)).waitingForPoll).toBe(1)

        const next = yield* store.exportPage({
          storeId: s,
          window: window(t0 + 5 * minute, t0 + 10 * minute),
          page: 1,
          pageSize: 100
        })
        expect(next.orders.map((o) => o.order.posRef)).toEqual(["late"])
      })
    )

    it.effect("a window ending an hour in the future is served but does not move the watermark", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        yield* store.exportPage({ storeId: s, window: window(t0 - 10 * minute, t0), page: 1, pageSize: 10 })
        const future = yield* store.exportPage({
          storeId: s,
          window: window(t0, t0 + 60 * minute),
          page: 1,
          pageSize: 10
        })
        expect(future.watermarkClamped).toBe(true)
        expect((yield* store.stats(s)).watermark).toEqual(Option.some(utc(t0 + minute)))
      })
    )

    it.effect("touch restamps an order found by POS id or by order number, and unknown orders are not found", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        yield* store.ingest(
          { id: s, kind: "invoices" },
          [doc({ storeId: s, posRef: "1001", orderNumber: "INV-7" })],
          Option.none()
        )
        yield* store.exportPage({
          storeId: s,
          window: window(t0 - 10 * minute, t0 + 2 * minute),
          page: 1,
          pageSize: 10
        })
        yield* TestClock.adjust(Duration.minutes(1))
        const byNumber = yield* store.touch(s, "INV-7")
        expect(byNumber.order.posRef).toBe("1001")
        expect(ms(byNumber.stamp)).toBe(t0 + 3 * minute)
        yield* TestClock.adjust(Duration.minutes(5))
        const byRef = yield* store.touch(s, "1001")
        expect(ms(byRef.stamp)).toBe(t0 + 6 * minute)
        expect(Option.map(yield* store.find(s, "INV-7"), (o) => ms(o.stamp))).toEqual(Option.some(t0 + 6 * minute))

        const missing = yield* Effect.flip(store.touch(s, "nope"))
        expect(missing._tag).toBe("OrderNotFound")
        expect(yield* store.find(s, "nope")).toEqual(Option.none())
        // Another store's order is not found either.
        expect(yield* store.find(storeId(), "1001")).toEqual(Option.none())
      })
    )

    it.effect("explain shows every ingest and restamp with its reason, holds, exports, notices and write-backs", () =>
      Effect.gen(function* () {
        const { store, t0, s, ref } = yield* fresh()
        yield* store.ingest(ref, [doc({ storeId: s, posRef: "a", posModifiedAt: t0 })], Option.none())
        yield* TestClock.adjust(Duration.minutes(1))
        yield* store.ingest(ref, [doc({ storeId: s, posRef: "a", posModifiedAt: t0 + minute })], Option.none())
        const w = window(t0 - 10 * minute, t0 + 2 * minute)
        yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 10 })
        // Polled twice more under field rules that hold it: one hold recorded.
        const hold = holding({ a: "ship-to country missing" })
        yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 10, hold })
        yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 10, hold })
        expect((yield* store.stats(s)).held).toBe(1)
        yield* TestClock.adjust(Duration.minutes(1))
        yield* store.touch(s, "a")
        yield* store.recordShipNotice(
          { ...notice(s, "1Z999", "UPS", "N-a"), orderId: "a" },
          { key: `${s}|a|1Z999|UPS`, posRef: Option.some("a") }
        )

        const explanation = yield* store.explain(s, "N-a")
        expect(explanation.current.order.posRef).toBe("a")
        expect(explanation.current.heldReasons).toEqual([])
        expect(explanation.history.map((e) => (e._tag === "Restamped" ? `${e._tag}:${e.reason}` : e._tag))).toEqual([
          "Inserted",
          "Restamped:pos-resaved",
          "Exported",
          "HeldBack",
          "Restamped:touched"
        ])
        const exported = explanation.history[2]
        expect(exported?._tag === "Exported" && [exported.page, exported.pages, ms(exported.window.end)]).toEqual([
          1,
          1,
          t0 + 2 * minute
        ])
        const held = explanation.history[3]
        expect(held?._tag === "HeldBack" && held.reasons).toEqual(["ship-to country missing"])
        expect(explanation.shipNotices.map((n) => n.notice.trackingNumber)).toEqual(["1Z999"])
        expect(explanation.writeBacks.map((o) => o.state)).toEqual(["pending"])

        const missing = yield* Effect.flip(store.explain(s, "nope"))
        expect(missing._tag).toBe("OrderNotFound")
      })
    )

    it.effect("an order held back by the field rules is returned apart, never recorded as exported nor counted", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh("a", "b", "c")
        const hold = holding({ b: "no ship-to address" })
        const w = window(t0 - 10 * minute, t0)
        const first = yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 2, hold })
        const second = yield* store.exportPage({ storeId: s, window: w, page: 2, pageSize: 2, hold })
        expect([first.pages, second.pages, first.total]).toEqual([2, 2, 3])
        expect([...first.orders, ...second.orders].map((o) => o.order.posRef)).toEqual(["a", "c"])
        expect(first.held.map((h) => [h.order.order.posRef, h.reasons, h.isNew])).toEqual([
          ["b", ["no ship-to address"], true]
        ])
        expect(second.held).toEqual([])
        const log = yield* store.polls(s, 10)
        expect(log.map((p) => [p.page, p.count])).toEqual([
          [2, 1],
          [1, 1]
        ])
        const b = yield* store.explain(s, "b")
        expect(b.history.map((e) => e._tag)).toEqual(["Inserted", "HeldBack"])
        const a = yield* store.explain(s, "a")
        expect(a.history.map((e) => e._tag)).toEqual(["Inserted", "Exported"])
        expect((yield* store.stats(s)).held).toBe(1)
      })
    )

    it.effect(
      "a hold is recorded by the page that meets it and reported new once: when it first appears, when its reasons change, and for a new version",
      () =>
        Effect.gen(function* () {
          const { store, t0, s, ref } = yield* fresh("a", "b", "c")
          const poll = (w: OrderWindow.OrderWindow, reasons: Readonly<Record<string, string>>) =>
            Effect.map(
              store.exportPage({ storeId: s, window: w, page: 1, pageSize: 10, hold: holding(reasons) }),
              (p) => p.held.map((h) => [h.order.order.posRef, h.reasons.join(), h.isNew])
            )
          const w = window(t0 - 10 * minute, t0)
          expect(yield* poll(w, { b: "no SKU" })).toEqual([["b", "no SKU", true]])
          // Recorded by the page itself: nothing else was called.
          expect(Option.map(yield* store.find(s, "b"), (o) => o.heldReasons)).toEqual(Option.some(["no SKU"]))
          expect((yield* store.stats(s)).held).toBe(1)
          expect(yield* poll(w, { b: "no SKU" })).toEqual([["b", "no SKU", false]])
          expect(yield* poll(w, { b: "no ship-to", c: "no SKU" })).toEqual([
            ["b", "no ship-to", true],
            ["c", "no SKU", true]
          ])
          expect(yield* poll(w, { b: "no ship-to", c: "no SKU" })).toEqual([
            ["b", "no ship-to", false],
            ["c", "no SKU", false]
          ])
          // A re-save is a new version: held again for the same reason, it is a new hold.
          yield* store.ingest(ref, [doc({ storeId: s, posRef: "b", posModifiedAt: t0 + minute })], Option.none())
          const next = window(t0, t0 + 5 * minute)
          expect(yield* poll(next, { b: "no ship-to" })).toEqual([["b", "no ship-to", true]])
          expect(yield* poll(next, { b: "no ship-to" })).toEqual([["b", "no ship-to", false]])
          const history = (yield* store.explain(s, "b")).history
          expect(history.map((e) => (e._tag === "HeldBack" ? e.reasons.join() : e._tag))).toEqual([
            "Inserted",
            "no SKU",
            "no ship-to",
            "Restamped",
            "no ship-to"
          ])
          expect((yield* store.stats(s)).held).toBe(2)
          // The operator's list: each held order with its current reasons, the most recently stamped (b, re-saved) first.
          const held = yield* store.held(s, 10)
          expect(held.map((o) => [o.order.posRef, o.heldReasons])).toEqual([
            ["b", ["no ship-to"]],
            ["c", ["no SKU"]]
          ])
          expect((yield* store.held(s, 1)).map((o) => o.order.posRef)).toEqual(["b"])
        })
    )

    it.effect("a hold first met on a later page is recorded by that page, which still reads the poll's snapshot", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh("a", "b", "c")
        const w = window(t0 - 10 * minute, t0)
        const hold = holding({ c: "no SKU" })
        const page = (n: number) => store.exportPage({ storeId: s, window: w, page: n, pageSize: 2, hold })
        const first = yield* page(1)
        const second = yield* page(2)
        const again = yield* page(2)
        expect([second, again].map((p) => [p.snapshotId, p.snapshotCreated, p.orders.length])).toEqual([
          [first.snapshotId, false, 0],
          [first.snapshotId, false, 0]
        ])
        expect([second, again].map((p) => p.held.map((h) => [h.order.order.posRef, h.isNew]))).toEqual([
          [["c", true]],
          [["c", false]]
        ])
        expect((yield* store.explain(s, "c")).history.map((e) => e._tag)).toEqual(["Inserted", "HeldBack"])
        expect((yield* store.polls(s, 10)).map((p) => [p.page, p.count])).toEqual([
          [2, 0],
          [2, 0],
          [1, 2]
        ])
      })
    )

    it.effect("the poll log lists every page served, newest first, and stats report the last poll", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh("a", "b", "c")
        const w = window(t0 - 10 * minute, t0)
        yield* exportAll(store, s, w, 2)
        const log = yield* store.polls(s, 10)
        expect(log.map((p) => [p.page, p.pages, p.count])).toEqual([
          [2, 2, 1],
          [1, 2, 2]
        ])
        expect(log[0]?.snapshotId).toBe(log[1]?.snapshotId)
        expect((yield* store.polls(s, 1)).length).toBe(1)
        const stats = yield* store.stats(s)
        expect(stats.lastPoll).toEqual(Option.some(log[0]))
        expect(stats).toMatchObject({ documents: 3, waitingForPoll: 0, held: 0 })
      })
    )

    it.effect("statsAll reports each store exactly as stats does, and an unknown store as empty", () =>
      Effect.gen(function* () {
        const { store, t0, s: polled, ref } = yield* fresh("a", "b", "c")
        const w = window(t0 - 10 * minute, t0)
        const hold = holding({ b: "no ship-to address" })
        yield* store.exportPage({ storeId: polled, window: w, page: 1, pageSize: 2, hold })
        yield* store.exportPage({ storeId: polled, window: w, page: 2, pageSize: 2, hold })
        yield* store.ingest(ref, [doc({ storeId: polled, posRef: "d" })], Option.none())
        yield* store.recordShipNotice(notice(polled, "1Z1"), { key: `${polled}|1Z1`, posRef: Option.some("a") })
        const neverPolled = storeId()
        yield* store.ingest(
          { id: neverPolled, kind: "invoices" },
          [doc({ storeId: neverPolled, posRef: "x" })],
          Option.none()
        )
        const unknown = storeId()

        const all = yield* store.statsAll([polled, neverPolled, unknown])
        expect([...all.keys()]).toEqual([polled, neverPolled, unknown])
        for (const id of [polled, neverPolled, unknown]) expect(all.get(id)).toEqual(yield* store.stats(id))
        const p = all.get(polled)
        expect(p && [p.documents, p.waitingForPoll, p.held, p.outbox.pending]).toEqual([4, 1, 1, 1])
        expect(p && Option.map(p.lastPoll, (poll) => poll.page)).toEqual(Option.some(2))
        expect(Option.isSome(p?.watermark ?? Option.none())).toBe(true)
        const n = all.get(neverPolled)
        expect(n && [n.documents, n.waitingForPoll, Option.isNone(n.lastPoll), Option.isNone(n.watermark)]).toEqual([
          1,
          1,
          true,
          true
        ])
        expect(all.get(unknown)?.documents).toBe(0)
      })
    )

    it.effect("a ship notice stored twice with the same key is stored once and reported as a duplicate", () =>
      Effect.gen(function* () {
        const { store, s } = yield* fresh()
        const key = `${s}|1|94001000|USPS`
        const first = yield* store.recordShipNotice(notice(s, "9400 1000", "USPS"), { key, posRef: Option.some("1") })
        const second = yield* store.recordShipNotice(notice(s, "9400 1000", "USPS"), { key, posRef: Option.some("1") })
        expect(first._tag).toBe("Stored")
        expect(second).toEqual({ _tag: "Duplicate", noticeId: first.noticeId, outboxId: first.outboxId })
        const items = yield* store.outbox(s)
        expect(items.map((o) => [o.id, o.state, o.notice.trackingNumber])).toEqual([
          [first.outboxId, "pending", "9400 1000"]
        ])
      })
    )

    it.effect("write-backs are claimed under a lease, retried at their time, completed or marked dead", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const mine = (items: ReadonlyArray<OrderStore.OutboxItem>) => items.filter((o) => o.storeId === s)
        const claim = Effect.map(store.claimWriteBacks({ limit: 1000, leaseFor: Duration.minutes(5) }), mine)
        const a = yield* store.recordShipNotice(notice(s, "A"), { key: `${s}|A`, posRef: Option.some("1") })
        const b = yield* store.recordShipNotice(notice(s, "B"), { key: `${s}|B`, posRef: Option.none() })

        const claimed = yield* claim
        expect(claimed.map((o) => [o.id, o.state, o.attempts])).toEqual([
          [a.outboxId, "in-flight", 1],
          [b.outboxId, "in-flight", 1]
        ])
        expect(yield* claim).toEqual([])

        // The claimer of B died: after the lease B is due again. A failed and retries in 10 minutes.
        yield* store.failWriteBack(a.outboxId, "POS said 503", Option.some(utc(t0 + 10 * minute)))
        yield* TestClock.adjust(Duration.minutes(6))
        const afterLease = yield* claim
        expect(afterLease.map((o) => [o.id, o.attempts])).toEqual([[b.outboxId, 2]])
        yield* store.completeWriteBack(b.outboxId, "shipment recorded")

        yield* TestClock.adjust(Duration.minutes(4))
        const retry = yield* claim
        expect(retry.map((o) => [o.id, o.attempts, Option.getOrNull(o.lastError)])).toEqual([
          [a.outboxId, 2, "POS said 503"]
        ])
        yield* store.failWriteBack(a.outboxId, "order was deleted in the POS", Option.none())

        const all = yield* store.outbox(s)
        expect(all.map((o) => [o.id, o.state])).toEqual([
          [a.outboxId, "dead"],
          [b.outboxId, "done"]
        ])
        expect(Option.getOrNull(all[1]!.result)).toBe("shipment recorded")
        expect((yield* store.outbox(s, ["dead"])).map((o) => o.id)).toEqual([a.outboxId])
        expect(yield* store.outbox(s, [])).toEqual([])
        expect((yield* store.stats(s)).outbox).toEqual({ pending: 0, "in-flight": 0, done: 1, dead: 1, attention: 0 })
        expect(yield* claim).toEqual([])

        const unknown = yield* Effect.flip(store.completeWriteBack("outbox-unknown", "x"))
        expect(unknown._tag).toBe("OrderStoreError")
      })
    )

    it.effect("a claim for one store takes only that store's due write-backs, oldest first, under the same lease", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const other = `${s}-other`
        const claimAll = Effect.map(store.claimWriteBacks({ limit: 1000, leaseFor: Duration.minutes(5) }), (items) =>
          items.filter((o) => o.storeId === s || o.storeId === other).map((o) => [o.id, o.storeId, o.attempts])
        )
        const claimOf = (storeId: string, limit = 1000) =>
          Effect.map(store.claimWriteBacks({ storeId, limit, leaseFor: Duration.minutes(5) }), (items) =>
            items.map((o) => [o.id, o.storeId, o.attempts])
          )
        const dueStores = Effect.map(store.storesWithDueWriteBacks, (ids) =>
          ids.filter((id) => id === s || id === other)
        )
        expect(yield* dueStores).toEqual([])
        const a = yield* store.recordShipNotice(notice(s, "A"), { key: `${s}|A`, posRef: Option.none() })
        const b = yield* store.recordShipNotice(notice(other, "B"), { key: `${other}|B`, posRef: Option.none() })
        yield* TestClock.adjust(Duration.seconds(1))
        const c = yield* store.recordShipNotice(notice(s, "C"), { key: `${s}|C`, posRef: Option.none() })
        expect(yield* dueStores).toEqual([s, other])

        expect(yield* claimOf(s, 1)).toEqual([[a.outboxId, s, 1]])
        expect(yield* claimOf(s)).toEqual([[c.outboxId, s, 1]])
        expect(yield* claimOf(s)).toEqual([])
        expect(yield* claimOf(other)).toEqual([[b.outboxId, other, 1]])
        // Leases taken by one store's claim hold against a claim of every store too.
        expect(yield* claimAll).toEqual([])
        expect(yield* dueStores).toEqual([])

        // C failed and retries at 8 minutes; A's and B's claimers died, so their leases end at 5 minutes.
        yield* store.failWriteBack(c.outboxId, "POS said 503", Option.some(utc(t0 + 8 * minute)))
        yield* TestClock.adjust(Duration.minutes(5))
        expect(yield* dueStores).toEqual([s, other])
        expect(yield* claimOf(s)).toEqual([[a.outboxId, s, 2]])
        expect(yield* claimOf(`${s}-nobody`)).toEqual([])
        expect(yield* claimAll).toEqual([[b.outboxId, other, 2]])
        yield* TestClock.adjust(Duration.minutes(3))
        expect(yield* claimOf(s)).toEqual([[c.outboxId, s, 2]])
        // Finished items are never due again: B is written back, A is dead; only C, its lease over, is due.
        yield* store.completeWriteBack(b.outboxId, "shipment recorded")
        yield* store.failWriteBack(a.outboxId, "order deleted in the POS", Option.none())
        yield* TestClock.adjust(Duration.minutes(10))
        expect(yield* dueStores).toEqual([s])
      })
    )

    it.effect("a notice that needs attention is stored but never claimed until an operator decides", () =>
      Effect.gen(function* () {
        const { store, s } = yield* fresh()
        const claim = Effect.map(store.claimWriteBacks({ limit: 1000, leaseFor: Duration.minutes(5) }), (items) =>
          items.filter((o) => o.storeId === s)
        )
        const doubtful = (tracking: string) => ({
          ...notice(s, tracking),
          problems: [{ severity: "attention" as const, message: "2 <TrackingNumber> elements" }]
        })
        const a = yield* store.recordShipNotice(doubtful("A | B"), { key: `${s}|AB`, posRef: Option.some("1") })
        const c = yield* store.recordShipNotice(doubtful("C | D"), { key: `${s}|CD`, posRef: Option.some("1") })
        expect((yield* store.outbox(s)).map((o) => o.state)).toEqual(["attention", "attention"])
        expect((yield* store.stats(s)).outbox.attention).toBe(2)
        expect(yield* claim).toEqual([])

        const released = yield* store.resolveWriteBack(s, a.outboxId, "write-back")
        expect([released.state, released.attempts]).toEqual(["pending", 0])
        const dismissed = yield* store.resolveWriteBack(s, c.outboxId, "dismiss")
        expect([dismissed.state, Option.getOrNull(dismissed.result)]).toEqual([
          "done",
          "dismissed by the operator: nothing written back"
        ])
        expect((yield* claim).map((o) => o.id)).toEqual([a.outboxId])
        // Only an item waiting for a person can be decided; another store's id is not found.
        const again = yield* Effect.flip(store.resolveWriteBack(s, c.outboxId, "write-back"))
        expect(again.message).toMatch(/is done/)
        const elsewhere = yield* Effect.flip(store.resolveWriteBack(`${s}-other`, a.outboxId, "dismiss"))
        expect(elsewhere._tag).toBe("OrderStoreError")
      })
    )

    it.effect("a write-back retrying after a failure can be made due now by an operator, not dismissed", () =>
      Effect.gen(function* () {
        const { store, s } = yield* fresh()
        const claim = Effect.map(store.claimWriteBacks({ limit: 1000, leaseFor: Duration.minutes(5) }), (items) =>
          items.filter((o) => o.storeId === s)
        )
        const a = yield* store.recordShipNotice(notice(s, "R1"), { key: `${s}|R1`, posRef: Option.some("1") })
        expect((yield* claim).map((o) => o.id)).toEqual([a.outboxId])
        const later = DateTime.add(yield* DateTime.now, { hours: 1 })
        yield* store.failWriteBack(a.outboxId, "the POS answered 503", Option.some(later))
        expect(yield* claim).toEqual([])

        const refused = yield* Effect.flip(store.resolveWriteBack(s, a.outboxId, "dismiss"))
        expect(refused.message).toMatch(/is pending/)
        const now = yield* store.resolveWriteBack(s, a.outboxId, "write-back")
        expect([now.state, now.attempts]).toEqual(["pending", 0])
        expect((yield* claim).map((o) => o.id)).toEqual([a.outboxId])
        // Claimed again (in flight): an operator's retry is refused, the delivery under way is left alone.
        const busy = yield* Effect.flip(store.resolveWriteBack(s, a.outboxId, "write-back"))
        expect(busy.message).toMatch(/is in-flight/)
      })
    )

    it.effect("refresh calls are read newest first, at most the limit, and never another store's", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const other = `${s}-other`
        const record = (storeId: string, at: number, call: Parameters<typeof refreshCall>[2] = {}) =>
          store.recordRefresh(refreshCall(storeId, at, call))
        yield* record(s, t0 - 3 * minute, { reason: "touch", posRef: Option.some("a") })
        yield* record(s, t0 - minute, { outcome: "rate-limited", message: Option.some("429 Too Many Requests") })
        yield* record(other, t0 - 30_000, { reason: "touch", posRef: Option.some("a") })
        // Another runner's earlier call, recorded late, and a second call at the very same instant.
        yield* record(s, t0 - 2 * minute, {
          reason: "touch",
          posRef: Option.some("b"),
          outcome: "refused",
          message: Option.some("401 Unauthorized: the API key was refused")
        })
        yield* record(s, t0 - minute)

        expect(yield* refreshesOf(store, s, t0)).toEqual([
          ["", -minute, "arrival", null, "requested", null],
          ["", -minute, "arrival", null, "rate-limited", "429 Too Many Requests"],
          ["", -2 * minute, "touch", "b", "refused", "401 Unauthorized: the API key was refused"],
          ["", -3 * minute, "touch", "a", "requested", null]
        ])
        expect((yield* refreshesOf(store, s, t0, 2)).map((c) => [c[1], c[4]])).toEqual([
          [-minute, "requested"],
          [-minute, "rate-limited"]
        ])
        expect(yield* store.refreshCalls(s, 0)).toEqual([])
        expect(yield* refreshesOf(store, other, t0)).toEqual([["", -30_000, "touch", "a", "requested", null]])
        expect(yield* store.refreshCalls(`${s}-nobody`, 10)).toEqual([])
      })
    )

    it.effect("a refresh call reads back as recorded: the order and message it has, None for those it has not", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        yield* store.recordRefresh(
          refreshCall(s, t0 - minute, {
            reason: "touch",
            posRef: Option.some("INV-7 / 1001"),
            outcome: "unavailable",
            message: Option.some("ShipStation answered 503: \"Service Unavailable\" ('try later')")
          })
        )
        yield* store.recordRefresh(refreshCall(s, t0))
        const [arrival, touch] = yield* store.refreshCalls(s, 10)
        expect(arrival?.posRef).toEqual(Option.none())
        expect(arrival?.message).toEqual(Option.none())
        expect([arrival?.storeId, arrival && ms(arrival.at), arrival?.reason, arrival?.outcome]).toEqual([
          s,
          t0,
          "arrival",
          "requested"
        ])
        expect(touch?.posRef).toEqual(Option.some("INV-7 / 1001"))
        expect(touch?.message).toEqual(Option.some("ShipStation answered 503: \"Service Unavailable\" ('try later')"))
        expect([touch?.storeId, touch && ms(touch.at), touch?.reason, touch?.outcome]).toEqual([
          s,
          t0 - minute,
          "touch",
          "unavailable"
        ])
      })
    )

    it.effect("refresh calls recorded at once for one store, at one instant, are all kept", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const runners = Array.from({ length: 12 }, (_, i) => `runner ${i}`)
        yield* Effect.forEach(
          runners,
          (runner) => store.recordRefresh(refreshCall(s, t0, { outcome: "failed", message: Option.some(runner) })),
          { concurrency: "unbounded" }
        )
        const calls = yield* refreshesOf(store, s, t0)
        expect(calls.map((c) => c[5]).sort()).toEqual([...runners].sort())
        expect(new Set(calls.map((c) => c[1]))).toEqual(new Set([0]))
      })
    )

    it.effect("refresh calls older than the history retention are pruned, and recent ones stay", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh()
        const other = `${s}-other`
        for (const at of [t0 - 40 * day, t0 - 30 * day - 1, t0 - 30 * day, t0 - 29 * day, t0 - minute]) {
          yield* store.recordRefresh(refreshCall(s, at, { message: Option.some(`${(t0 - at) / day} days`) }))
        }
        yield* store.recordRefresh(refreshCall(other, t0 - 31 * day))
        yield* store.recordRefresh(refreshCall(other, t0 - day))
        expect((yield* refreshesOf(store, s, t0)).length).toBe(5)

        yield* store.pruneSnapshots
        // Exactly as old as the retention is not older than it.
        expect((yield* refreshesOf(store, s, t0)).map((c) => c[1])).toEqual([-minute, -29 * day, -30 * day])
        expect((yield* refreshesOf(store, other, t0)).map((c) => c[1])).toEqual([-day])
      })
    )

    it.effect("expired snapshots are pruned, a later page then freezes a new one, and the history is kept", () =>
      Effect.gen(function* () {
        const { store, t0, s } = yield* fresh("a", "b")
        const w = window(t0 - 10 * minute, t0)
        const page1 = yield* store.exportPage({ storeId: s, window: w, page: 1, pageSize: 1 })
        yield* TestClock.adjust(Duration.hours(2))
        expect(yield* store.pruneSnapshots).toBeGreaterThanOrEqual(1)
        expect(yield* store.pruneSnapshots).toBe(0)
        const page2 = yield* store.exportPage({ storeId: s, window: w, page: 2, pageSize: 1 })
        expect(page2.snapshotCreated).toBe(true)
        expect(page2.snapshotId).not.toBe(page1.snapshotId)
        const history = (yield* store.explain(s, "a")).history.map((e) => e._tag)
        expect(history).toEqual(["Inserted", "Exported"])
      })
    )
  })
