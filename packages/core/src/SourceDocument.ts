import { Schema } from "effect"
import { Order } from "./Order.js"

/**
 * One document as a PosSource reports it: the normalized order (whose `posModifiedAt` is the POS's own
 * modified time) and, when the document exists but must not be shipped, the reason it is excluded.
 */
export const SourceDocument = Schema.Struct({
  order: Order,
  /** e.g. "sale not completed": the document is recorded as ignored with this reason, never exported. */
  exclude: Schema.optionalWith(Schema.String, { exact: true })
})
export type SourceDocument = typeof SourceDocument.Type
