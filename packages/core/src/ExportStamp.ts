/**
 * The export stamp decides which ShipStation window shows a document version (and is sent as LastModified).
 *
 *   stamp     = max(ingestedAt, watermark)
 *   watermark = one minute after the latest window end this store has served
 *
 * A version ingested after a window was served is therefore always stamped after that window's end, so
 * the next contiguous or overlapping window contains it, whatever the POS's own modified time says (late
 * arrivals) and whichever side's clock is ahead (within the skew posbridge absorbs).
 */
import { DateTime, Duration, Option } from "effect"
import * as OrderWindow from "./OrderWindow.js"

/** The largest bridge↔ShipStation clock skew posbridge is built to absorb. */
export const maxSkew = Duration.minutes(10)
/** A window end further than this past the bridge clock never moves the watermark. Must exceed `maxSkew`. */
export const defaultTolerance = Duration.minutes(15)

export interface StampInput {
  readonly ingestedAt: DateTime.Utc
  readonly watermark: Option.Option<DateTime.Utc>
  /** The POS's own modified time; only the naive rule uses it. */
  readonly posModifiedAt: DateTime.Utc
}

/** How a version's stamp is chosen. `bridge` is posbridge's rule; `posModified` exists to prove tests can fail. */
export type StampRule = "bridge" | "posModified"

export const stamp = (input: StampInput, rule: StampRule = "bridge"): DateTime.Utc => {
  if (rule === "posModified") return input.posModifiedAt
  return Option.match(input.watermark, {
    onNone: () => input.ingestedAt,
    onSome: (w) => DateTime.max(input.ingestedAt, w)
  })
}

export interface WatermarkAdvance {
  readonly watermark: Option.Option<DateTime.Utc>
  /** True when the window end was too far in the future and was not trusted (ShipStation clock warning). */
  readonly clamped: boolean
}

export const advanceWatermark = (
  current: Option.Option<DateTime.Utc>,
  window: OrderWindow.OrderWindow,
  now: DateTime.Utc,
  tolerance: Duration.Duration = defaultTolerance
): WatermarkAdvance => {
  if (DateTime.greaterThan(window.end, DateTime.addDuration(now, tolerance))) {
    return { watermark: current, clamped: true }
  }
  const candidate = OrderWindow.endExclusive(window)
  return {
    watermark: Option.some(
      Option.match(current, { onNone: () => candidate, onSome: (w) => DateTime.max(w, candidate) })
    ),
    clamped: false
  }
}
