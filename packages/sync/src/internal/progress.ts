/**
 * Backfill progress of one run: what was pulled so far, and how much is left — the adapter's total when it
 * reports one, else extrapolated from the POS modified times seen (documents arrive in modified order).
 */
import type { OrderStore, PosSource, StoreSettings } from "@posbridge/core"
import { DateTime, Option } from "effect"
import type * as SyncStatus from "../SyncStatus.js"

/** Counters of one run, updated as its pages are committed. */
export interface Tally {
  backfill: boolean
  pages: number
  documents: number
  total: Option.Option<number>
  /** The earliest and latest POS modified times seen (the look-back start counts for a backfill). */
  firstPos: number
  lastPos: number
}

export const makeTally = (): Tally => ({
  backfill: false,
  pages: 0,
  documents: 0,
  total: Option.none(),
  firstPos: Number.POSITIVE_INFINITY,
  lastPos: Number.NEGATIVE_INFINITY
})

export const addBatch = (tally: Tally, batch: PosSource.PullBatch): void => {
  tally.pages = batch.progress?.pages ?? tally.pages + 1
  tally.documents += batch.documents.length
  if (batch.progress?.total !== undefined) tally.total = Option.some(batch.progress.total)
  for (const document of batch.documents) {
    const pos = DateTime.toEpochMillis(document.order.posModifiedAt)
    if (pos < tally.firstPos) tally.firstPos = pos
    if (pos > tally.lastPos) tally.lastPos = pos
  }
}

export const progress = (
  tally: Tally,
  run: { readonly storeId: StoreSettings.StoreSettings["id"]; readonly run: number; readonly startedAt: DateTime.Utc },
  at: DateTime.Utc,
  done: boolean
): SyncStatus.Progress => {
  const { documents, total, firstPos, lastPos } = tally
  const nowMillis = DateTime.toEpochMillis(at)
  const elapsed = (nowMillis - DateTime.toEpochMillis(run.startedAt)) / 1000
  const docsPerSecond = elapsed > 0 ? documents / elapsed : 0
  const backlog: Option.Option<number> = done
    ? Option.some(0)
    : Option.isSome(total)
      ? Option.some(Math.max(0, total.value - documents))
      : documents > 0 && lastPos > firstPos
        ? // Documents come in POS-modified order: extrapolate the density seen so far up to now.
          Option.some(Math.round((documents / (lastPos - firstPos)) * Math.max(0, nowMillis - lastPos)))
        : Option.none()
  return {
    storeId: run.storeId,
    run: run.run,
    backfill: tally.backfill,
    startedAt: run.startedAt,
    pages: tally.pages,
    seen: documents,
    total,
    docsPerSecond,
    backlog,
    etaMillis: Option.flatMap(backlog, (b) =>
      docsPerSecond > 0 ? Option.some((b / docsPerSecond) * 1000) : Option.none()
    ),
    done
  }
}

export const zeroCounts = {
  documentsIngested: 0,
  inserted: 0,
  unchanged: 0,
  restamps: { "pos-resaved": 0, "content-changed": 0, touched: 0 },
  ignored: { "wrong-kind": 0, excluded: 0, "older-version": 0, "not-found": 0 }
} as const

/** The store's running counters after one committed batch of `documents` documents. */
export const addCounts = (
  s: SyncStatus.StoreStatus,
  documents: number,
  summary: OrderStore.IngestSummary
): SyncStatus.StoreStatus => ({
  ...s,
  documentsIngested: s.documentsIngested + documents,
  inserted: s.inserted + summary.inserted,
  unchanged: s.unchanged + summary.unchanged,
  restamps: {
    "pos-resaved": s.restamps["pos-resaved"] + summary.restamped["pos-resaved"],
    "content-changed": s.restamps["content-changed"] + summary.restamped["content-changed"],
    touched: s.restamps.touched + summary.restamped.touched
  },
  ignored: {
    "wrong-kind": s.ignored["wrong-kind"] + summary.ignored["wrong-kind"],
    excluded: s.ignored.excluded + summary.ignored.excluded,
    "older-version": s.ignored["older-version"] + summary.ignored["older-version"],
    "not-found": s.ignored["not-found"] + summary.ignored["not-found"]
  }
})
