/** The port a POS adapter implements: pull changed documents since a cursor; write a shipment back. */
import { Context, type DateTime, type Effect, type Option, Schema, type Stream } from "effect"
import type { Order } from "./Order.js"
import type { ShipNotice } from "./ShipNotice.js"
import type { SourceDocument } from "./SourceDocument.js"

export class PosSourceError extends Schema.TaggedError<PosSourceError>()("PosSourceError", {
  /**
   * auth: credentials rejected (park the store until they change); rate-limited / transient: retry with backoff;
   * malformed: the POS answered something unreadable; config: settings are wrong; permanent: do not retry.
   */
  kind: Schema.Literal("auth", "rate-limited", "transient", "malformed", "config", "permanent"),
  message: Schema.String,
  retryAfterMillis: Schema.optionalWith(Schema.Number, { exact: true })
}) {}

/** One committed step of a pull: the documents and the cursor to store with them, in one transaction. */
export interface PullBatch {
  readonly documents: ReadonlyArray<SourceDocument>
  /** Opaque to everyone but the adapter. Resuming from it must never skip a document. */
  readonly cursor: string
  readonly progress?: { readonly pages: number; readonly seen: number; readonly total?: number | undefined }
}

export interface PullOptions {
  /** With no cursor: how far back the first connect reads (the backfill look-back). */
  readonly since: DateTime.Utc
}

export interface WriteBackResult {
  /** One line for the operator: what was written where. */
  readonly summary: string
}

export interface PosSourceService {
  readonly adapterId: string
  readonly pull: (cursor: Option.Option<string>, options: PullOptions) => Stream.Stream<PullBatch, PosSourceError>
  /** Writes a shipment back to the POS. Must not make the order export again and again. */
  readonly recordShipment: (
    notice: ShipNotice,
    order: Option.Option<Order>
  ) => Effect.Effect<WriteBackResult, PosSourceError>
}

export class PosSource extends Context.Tag("@posbridge/core/PosSource")<PosSource, PosSourceService>() {}
