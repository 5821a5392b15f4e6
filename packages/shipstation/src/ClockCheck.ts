/**
 * Watches the windows ShipStation asks for. ShipStation's `end_date` is its "now"; when recent end dates sit
 * hours away from the bridge clock, ShipStation is probably sending another zone (Pacific time) or the
 * store's time setting is wrong. posbridge never changes behaviour on its own: it warns.
 */
import type { OrderStore, StoreSettings } from "@posbridge/core"
import { DateTime } from "effect"

/** Offsets under this are clock skew or poll lag, not a zone mistake. */
export const threshold = 45 * 60_000

/** The median of `end − received` over recent polls, in milliseconds; undefined with fewer than 2 polls. */
export const medianOffset = (polls: ReadonlyArray<OrderStore.PollRecord>): number | undefined => {
  // Only page 1 of each poll: later pages repeat the same window.
  const offsets = polls
    .filter((p) => p.page === 1)
    .map((p) => DateTime.toEpochMillis(p.window.end) - DateTime.toEpochMillis(p.at))
    .sort((a, b) => a - b)
  if (offsets.length < 2) return undefined
  const mid = Math.floor(offsets.length / 2)
  return offsets.length % 2 ? offsets[mid] : (offsets[mid - 1]! + offsets[mid]!) / 2
}

export const warning = (
  polls: ReadonlyArray<OrderStore.PollRecord>,
  timeZone: string
): StoreSettings.StoreWarning | undefined => {
  const offset = medianOffset(polls)
  if (offset === undefined || Math.abs(offset) < threshold) return undefined
  const hours = Math.round((Math.abs(offset) / 3_600_000) * 10) / 10
  const direction = offset < 0 ? "behind" : "ahead of"
  return {
    code: "shipstation-clock",
    message:
      `ShipStation's end_date is about ${hours} h ${direction} the bridge clock (store time setting: ${timeZone}). ` +
      "ShipStation documents UTC; if it is sending Pacific time, set the store's timeZone to America/Los_Angeles, " +
      "otherwise check the server clock. Orders are still exported; nothing was changed automatically."
  }
}
