/**
 * What a ship notice writes to Lightspeed. Confirmed: an internal Sale note (`PUT Sale/{id}.json` with
 * `SaleNotes.InternalNote.note`). Unconfirmed, behind `markShipTo`: the ShipTo `shipped` flag and `shipNote`.
 *
 * Loop safety (PROTOCOL.md failure mode 4): the note line is idempotent (a notice whose tracking number is already
 * in the note is not written again), and the Sale it lands on maps to status `shipped`. If the write bumps
 * `updatetime` (unconfirmed, the simulator assumes it does), the order is exported once more, as shipped, and
 * never again: nothing posbridge does afterwards writes to that Sale.
 */
import type { ShipNotice } from "@posbridge/core"
import { writeBackMarker } from "./Mapping.js"

/** `[posbridge] Shipped 2024-05-01 via UPS (Ground), tracking 1Z999AA10123456784` (+ items when partial). */
export const noteLine = (notice: ShipNotice.ShipNotice): string => {
  const date = notice.shipDate ?? notice.labelCreateDate
  const service = notice.service === undefined || notice.service === "" ? "" : ` (${notice.service})`
  const items =
    notice.items.length === 0
      ? ""
      : `; items: ${notice.items.map((i) => `${i.sku ?? i.name ?? i.lineItemId ?? "?"} x${i.quantity ?? "?"}`).join(", ")}`
  return `${writeBackMarker}${date === undefined ? "" : ` ${date}`} via ${notice.carrier}${service}, tracking ${notice.trackingNumber}${items}`
}

/** True when this notice was already written to the note (a retry, or ShipStation re-sending it). */
export const alreadyRecorded = (existingNote: string | undefined, notice: ShipNotice.ShipNotice): boolean =>
  (existingNote ?? "")
    .split("\n")
    .some((line) => line.startsWith(writeBackMarker) && line.includes(`tracking ${notice.trackingNumber}`))

/** The Sale PUT body. The note is replaced by Lightspeed, so the existing text is kept above the new line. */
export const body = (
  existingNote: string | undefined,
  notice: ShipNotice.ShipNotice,
  options: { readonly markShipTo: boolean; readonly hasShipTo: boolean }
): Record<string, unknown> => {
  const line = noteLine(notice)
  const note = existingNote === undefined || existingNote.trim() === "" ? line : `${existingNote}\n${line}`
  return {
    SaleNotes: { InternalNote: { note } },
    ...(options.markShipTo && options.hasShipTo ? { ShipTo: { shipped: "true", shipNote: line } } : {})
  }
}
