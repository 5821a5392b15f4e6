/**
 * THE one place that decides how Lightspeed changes are detected (see README, "Change detection").
 *
 * `timeStamp` is documented as "last modified, or if complete the time it was completed": on a completed Sale it
 * can stay at the completion time when the merchant re-saves it, so a re-save would be invisible. `updatetime` is
 * the true last update and is documented as sortable; whether it can be *filtered* is unconfirmed. posbridge
 * filters and sorts on `updatetime` by default and keeps `timeStamp` as a setting for accounts where a real
 * recording shows the `updatetime` filter is ignored or rejected. Whatever the query field, a document's POS
 * modified time is the later of the two, so a re-save of a completed Sale always advances it.
 *
 * Lightspeed's own 2016 tutorial answers spell the field `updateTime`; both spellings are read.
 */
import { DateTime, Option, Schema } from "effect"
import type * as Wire from "./Wire.js"

export const ChangeField = Schema.Literal("updatetime", "timeStamp")
export type ChangeField = typeof ChangeField.Type

/** `updatetime`, whichever way the answer spells it. */
const updateTime = (sale: Wire.Sale): Option.Option<DateTime.Utc> | undefined =>
  sale.updatetime !== undefined && Option.isSome(sale.updatetime) ? sale.updatetime : sale.updateTime

/** The POS modified time posbridge records: the later of `updatetime` and `timeStamp` (then `createTime`). */
export const modifiedAt = (sale: Wire.Sale): Option.Option<DateTime.Utc> => {
  const candidates = [updateTime(sale), sale.timeStamp, sale.createTime].flatMap((t) =>
    t !== undefined && Option.isSome(t) ? [t.value] : []
  )
  return candidates.length === 0 ? Option.none() : Option.some(candidates.reduce((a, b) => DateTime.max(a, b)))
}

/** The value of the query field on one Sale (what the cursor advances by). */
export const fieldValue = (sale: Wire.Sale, field: ChangeField): Option.Option<DateTime.Utc> =>
  Option.flatten(Option.fromNullable(field === "updatetime" ? updateTime(sale) : sale.timeStamp))

/** Lightspeed time format, `+00:00` offset (the `+` becomes `%2B` when the query is encoded). */
export const formatTime = (t: DateTime.Utc): string =>
  `${DateTime.formatIso(t)
    .replace(/\.\d{3}Z$/, "")
    .replace(/Z$/, "")}+00:00`

/** Query parameters selecting Sales changed at or after `from`, oldest first. */
export const query = (field: ChangeField, from: DateTime.Utc): ReadonlyArray<readonly [string, string]> => [
  [field, `>=,${formatTime(from)}`],
  ["sort", field]
]
