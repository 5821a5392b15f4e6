/**
 * Later pages of a poll are served from a read transaction; what they record (the poll log and export
 * history) is written behind. Page 1 stays a durable write: it moves the watermark.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import Database from "better-sqlite3"
import { DateTime, Effect, ManagedRuntime, Option } from "effect"
import * as SqliteStore from "../src/SqliteStore.js"
import { doc, storeId } from "./support/Fixtures.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})
const tempFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-wb-"))
  dirs.push(dir)
  return path.join(dir, "store.db")
}

/** 250 orders ingested now and a window ending now: three pages of 100. */
const seed = (store: OrderStore.OrderStoreService, s: string) =>
  Effect.gen(function* () {
    yield* store.ingest(
      { id: s, kind: "invoices" },
      Array.from({ length: 250 }, (_, i) => doc({ storeId: s, posRef: String(1000 + i) })),
      Option.none()
    )
    const now = yield* DateTime.now
    return OrderWindow.make(DateTime.subtract(now, { hours: 1 }), now)
  })

it("later pages are served while another process holds the write lock, and show in explain and the poll log once it is released", async () => {
  const filename = tempFile()
  const runtime = ManagedRuntime.make(SqliteStore.layer({ filename, synchronous: "normal", busyTimeout: 200 }))
  try {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    const s = storeId("lock")
    const window = await runtime.runPromise(seed(store, s))
    const first = await runtime.runPromise(store.exportPage({ storeId: s, window, page: 1, pageSize: 100 }))
    expect(first.pages).toBe(3)

    // Another process (a sync worker, a CLI) in the middle of a long write transaction.
    const other = new Database(filename)
    other.exec("BEGIN IMMEDIATE")
    let pages: Array<OrderStore.ExportPage>
    try {
      pages = await Promise.all(
        [2, 3].map((page) => runtime.runPromise(store.exportPage({ storeId: s, window, page, pageSize: 100 })))
      )
    } finally {
      other.exec("COMMIT")
      other.close()
    }
    expect(pages.map((p) => [p.page, p.orders.length, p.snapshotId])).toEqual([
      [2, 100, first.snapshotId],
      [3, 50, first.snapshotId]
    ])

    const onPage3 = pages[1]?.orders[0]?.order.posRef ?? ""
    const explained = await runtime.runPromise(store.explain(s, onPage3))
    const exports = explained.history.flatMap((e) => (e._tag === "Exported" ? [[e.page, e.pages]] : []))
    expect(exports).toEqual([[3, 3]])
    const log = await runtime.runPromise(store.polls(s, 0))
    expect(log.map((p) => p.page)).toEqual([3, 2, 1])
  } finally {
    await runtime.dispose()
  }
}, 30_000)

it("export history still buffered when the store is closed is written, and reads back after a restart", async () => {
  const filename = tempFile()
  // A flush interval far longer than the test: only the close can write what later pages recorded.
  const options = { filename, synchronous: "normal" as const, historyFlushInterval: "1 hour" as const }
  const s = storeId("close")
  const first = ManagedRuntime.make(SqliteStore.layer(options))
  let onPage2 = ""
  try {
    const store = await first.runPromise(OrderStore.OrderStore)
    const window = await first.runPromise(seed(store, s))
    for (const page of [1, 2, 3]) {
      const answer = await first.runPromise(store.exportPage({ storeId: s, window, page, pageSize: 100 }))
      if (page === 2) onPage2 = answer.orders[0]?.order.posRef ?? ""
    }
    // What a crash at this instant would keep: page 1 (durable before it returned), not pages 2 and 3 yet.
    const raw = new Database(filename, { readonly: true })
    try {
      const rows = raw.prepare("SELECT page FROM pb_polls WHERE store_id = ? ORDER BY seq").all(s)
      expect(rows).toEqual([{ page: 1 }])
    } finally {
      raw.close()
    }
  } finally {
    await first.dispose()
  }

  const second = ManagedRuntime.make(SqliteStore.layer(options))
  try {
    const store = await second.runPromise(OrderStore.OrderStore)
    expect((await second.runPromise(store.polls(s, 0))).map((p) => p.page)).toEqual([3, 2, 1])
    const explained = await second.runPromise(store.explain(s, onPage2))
    expect(explained.history.map((e) => (e._tag === "Exported" ? `Exported ${e.page}/${e.pages}` : e._tag))).toEqual([
      "Inserted",
      "Exported 2/3"
    ])
  } finally {
    await second.dispose()
  }
}, 30_000)

it("a hold first met on a later page is in the file when that page is answered; pages meeting no new hold stay buffered", async () => {
  const filename = tempFile()
  const runtime = ManagedRuntime.make(
    SqliteStore.layer({ filename, synchronous: "normal", historyFlushInterval: "1 hour" })
  )
  try {
    const store = await runtime.runPromise(OrderStore.OrderStore)
    const s = storeId("hold")
    const window = await runtime.runPromise(seed(store, s))
    // Page 2 holds POS ids 1100–1199.
    const hold = (order: { readonly posRef: string }) => (order.posRef === "1150" ? ["no ship-to address"] : [])
    const answers: Array<OrderStore.ExportPage> = []
    for (const page of [1, 2, 3, 2]) {
      answers.push(await runtime.runPromise(store.exportPage({ storeId: s, window, page, pageSize: 100, hold })))
    }
    expect(answers.map((a) => a.held.map((h) => [h.order.order.posRef, h.isNew]))).toEqual([
      [],
      [["1150", true]],
      [],
      [["1150", false]]
    ])

    // What a crash at this instant would keep: the hold, written with its page in one transaction.
    const raw = new Database(filename, { readonly: true })
    try {
      const ofHeld = [s, "1150"]
      expect(
        raw.prepare("SELECT held_reasons FROM pb_documents WHERE store_id = ? AND pos_ref = ?").get(ofHeld)
      ).toEqual({ held_reasons: JSON.stringify(["no ship-to address"]) })
      expect(
        raw.prepare("SELECT event FROM pb_history WHERE store_id = ? AND pos_ref = ? ORDER BY seq").all(ofHeld)
      ).toEqual([{ event: "Inserted" }, { event: "HeldBack" }])
      // Page 1 and the page that met the hold were durable writes; page 3 and page 2 read again are buffered.
      expect(raw.prepare("SELECT page FROM pb_polls WHERE store_id = ? ORDER BY seq").all(s)).toEqual([
        { page: 1 },
        { page: 2 }
      ])
    } finally {
      raw.close()
    }
  } finally {
    await runtime.dispose()
  }
}, 30_000)
