/**
 * Decides what an incoming document (or an operator's touch) does to the stored copy:
 * insert, restamp (with a reason), leave unchanged, or ignore (with a reason).
 */
import { Data, DateTime, Option } from "effect"
import type { DocumentKind } from "./DocumentKind.js"
import * as ExportStamp from "./ExportStamp.js"
import type { SourceDocument } from "./SourceDocument.js"

/** What is known of the stored version of a document. */
export interface StoredState {
  readonly posModifiedAt: DateTime.Utc
  readonly contentHash: string
  readonly stamp: DateTime.Utc
}

export type RestampReason = "pos-resaved" | "content-changed" | "touched"
export type IgnoreReason = "wrong-kind" | "excluded" | "older-version" | "not-found"

export type Incoming =
  | { readonly _tag: "Document"; readonly document: SourceDocument; readonly contentHash: string }
  | { readonly _tag: "Touch" }

export type Decision = Data.TaggedEnum<{
  Insert: { readonly stamp: DateTime.Utc }
  Restamp: { readonly reason: RestampReason; readonly stamp: DateTime.Utc }
  Unchanged: {}
  Ignore: { readonly reason: IgnoreReason; readonly detail: string }
}>
export const Decision = Data.taggedEnum<Decision>()

export interface Context {
  readonly storeKind: DocumentKind
  /** The bridge clock at ingest. */
  readonly now: DateTime.Utc
  readonly watermark: Option.Option<DateTime.Utc>
  readonly stampRule?: ExportStamp.StampRule | undefined
}

export const decide = (existing: Option.Option<StoredState>, incoming: Incoming, ctx: Context): Decision => {
  if (incoming._tag === "Touch") {
    return Option.match(existing, {
      onNone: () => Decision.Ignore({ reason: "not-found", detail: "no such order in this store" }),
      onSome: (state) =>
        Decision.Restamp({
          reason: "touched",
          stamp: ExportStamp.stamp(
            { ingestedAt: ctx.now, watermark: ctx.watermark, posModifiedAt: state.posModifiedAt },
            ctx.stampRule
          )
        })
    })
  }
  const { order, exclude } = incoming.document
  if (order.kind !== ctx.storeKind) {
    return Decision.Ignore({
      reason: "wrong-kind",
      detail: `the store sends ${ctx.storeKind}, this document is one of its ${order.kind}`
    })
  }
  if (exclude !== undefined) return Decision.Ignore({ reason: "excluded", detail: exclude })
  const stamp = ExportStamp.stamp(
    { ingestedAt: ctx.now, watermark: ctx.watermark, posModifiedAt: order.posModifiedAt },
    ctx.stampRule
  )
  if (Option.isNone(existing)) return Decision.Insert({ stamp })
  const state = existing.value
  if (DateTime.lessThan(order.posModifiedAt, state.posModifiedAt)) {
    // An overlap re-read or an eventually consistent replica returned an older version: keep the newer one.
    return Decision.Ignore({ reason: "older-version", detail: "the POS returned an older version than the one stored" })
  }
  if (DateTime.greaterThan(order.posModifiedAt, state.posModifiedAt)) {
    return Decision.Restamp({ reason: "pos-resaved", stamp })
  }
  if (incoming.contentHash !== state.contentHash) return Decision.Restamp({ reason: "content-changed", stamp })
  return Decision.Unchanged()
}
