/** Renders an order's explanation as a terminal timeline: why the order is where it is. */
import { Echo, type OrderStore, OrderWindow } from "@posbridge/core"
import { DateTime, Option } from "effect"
import type * as AdminApi from "./AdminApi.js"

const at = (t: DateTime.Utc) =>
  DateTime.formatIso(t)
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z")

const reasonText: Record<string, string> = {
  "pos-resaved": "the POS re-saved it",
  "content-changed": "its content changed",
  touched: "an operator refreshed it (touch)"
}

export type EventKind = AdminApi.TimelineEvent["kind"]

/** The order's events, oldest first: the same lines `posbridge explain` prints and the admin API answers. */
export const timeline = (ex: OrderStore.Explanation): ReadonlyArray<readonly [DateTime.Utc, EventKind, string]> => {
  const events: Array<[DateTime.Utc, EventKind, string]> = []
  for (const e of ex.history) {
    switch (e._tag) {
      case "Inserted":
        events.push([e.at, "ingested", `ingested (POS modified ${at(e.posModifiedAt)}), stamped ${at(e.stamp)}`])
        break
      case "Restamped":
        events.push([
          e.at,
          "restamped",
          `restamped to ${at(e.stamp)}: ${reasonText[e.reason ?? ""] ?? e.reason} (POS modified ${at(e.posModifiedAt)})`
        ])
        break
      case "HeldBack":
        events.push([e.at, "held", `held back from export: ${e.reasons.join("; ")}`])
        break
      case "Exported":
        events.push([
          e.at,
          "exported",
          `sent to ShipStation: window ${OrderWindow.toString(e.window)}, page ${e.page} of ${e.pages}`
        ])
        break
    }
  }
  for (const n of ex.shipNotices) {
    events.push([
      n.receivedAt,
      "ship-notice",
      `ship notice received: ${Echo.safe(n.notice.carrier)} ${Echo.safe(n.notice.trackingNumber, 80)}${n.notice.items.length ? ` (${n.notice.items.length} item line(s))` : " (whole order)"}`
    ])
    for (const p of n.notice.problems ?? []) {
      events.push([
        n.receivedAt,
        "problem",
        p.severity === "attention"
          ? `  NEEDS ATTENTION (not written back until an operator decides): ${Echo.safe(p.message, 300)}`
          : `  note: ${Echo.safe(p.message, 300)}`
      ])
    }
  }
  for (const w of ex.writeBacks) {
    const detail =
      w.state === "attention"
        ? "write-back waiting for an operator: the notice needs attention (see above)"
        : w.state === "done"
          ? `written back to the POS: ${Option.getOrElse(w.result, () => "")}`
          : w.state === "dead"
            ? `write-back FAILED for good after ${w.attempts} attempt(s): ${Option.getOrElse(w.lastError, () => "")}`
            : `write-back ${w.state}, ${w.attempts} attempt(s)${Option.match(w.lastError, { onNone: () => "", onSome: (e) => `, last error: ${e}` })}; next attempt ${at(w.nextAttemptAt)}`
    events.push([w.updatedAt, "write-back", detail])
  }
  // A stable sort: events of one instant keep the order above (a notice before its problems).
  events.sort((a, b) => DateTime.toEpochMillis(a[0]) - DateTime.toEpochMillis(b[0]))
  return events
}

const exported = (ex: OrderStore.Explanation) => ex.history.some((e) => e._tag === "Exported")

const atIso = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z")

/**
 * The terminal timeline `posbridge explain` prints, from the admin API's answer: the command line prints what the
 * API's handler answered, whether it came from a running server or from the database directly.
 */
export const render = (ex: AdminApi.Explanation): string => {
  const o = ex.order
  const lines: Array<string> = []
  lines.push(`Order ${o.orderNumber} (POS id ${o.posRef}, ${o.kind}) in store ${ex.storeId}`)
  lines.push(`  status ${o.status}, total ${o.orderTotal}${o.currency ? ` ${o.currency}` : ""}, ${o.lines} line(s)`)
  lines.push(`  POS modified ${atIso(o.posModifiedAt)}; export stamp (LastModified) ${atIso(ex.stamp)}`)
  if (ex.heldReasons.length > 0) {
    lines.push("  HELD BACK from ShipStation:")
    for (const r of ex.heldReasons) lines.push(`    - ${r}`)
  }
  lines.push("", "Timeline:")
  // A notice's problems are indented under it.
  for (const e of ex.timeline) lines.push(`  ${atIso(e.at)}  ${e.kind === "problem" ? "  " : ""}${e.text}`)
  if (!ex.exported) {
    lines.push(
      "",
      `Not yet sent to ShipStation: it will be in the first poll whose window includes ${atIso(ex.stamp)}.`
    )
  }
  return lines.join("\n")
}

const seconds = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`)

const refreshText = (call: OrderStore.RefreshCall, posRef: string, polls: ReadonlyArray<OrderStore.PollRecord>) => {
  const why =
    call.reason === "touch"
      ? Option.getOrUndefined(call.posRef) === posRef
        ? "this order was refreshed (touch)"
        : `order ${Option.getOrElse(call.posRef, () => "?")} was refreshed (touch)`
      : "new versions were waiting for a poll"
  if (call.outcome !== "requested") {
    return `ShipStation was NOT asked to refresh the store (${call.outcome}): ${Option.getOrElse(call.message, () => "no reason given")}`
  }
  const at = DateTime.toEpochMillis(call.at)
  // ShipStation's polls come as page 1 first: the first page 1 after the call is the poll it started, or its own.
  const next = polls
    .filter((p) => p.page === 1 && DateTime.toEpochMillis(p.at) >= at)
    .sort((a, b) => DateTime.toEpochMillis(a.at) - DateTime.toEpochMillis(b.at))[0]
  const after =
    next === undefined
      ? "ShipStation has not polled since"
      : `ShipStation polled ${seconds(DateTime.toEpochMillis(next.at) - at)} later (window ${OrderWindow.toString(next.window)})`
  return `asked ShipStation to refresh the store: ${why}; ${after}`
}

/**
 * The explanation with the store's calls to ShipStation's refresh API since the order was first seen, each with
 * how long ShipStation took to poll afterwards (from the poll log).
 */
export const withRefreshes = (
  ex: AdminApi.Explanation,
  calls: ReadonlyArray<OrderStore.RefreshCall>,
  polls: ReadonlyArray<OrderStore.PollRecord>
): AdminApi.Explanation => {
  const since = Math.min(...ex.timeline.map((e) => Date.parse(e.at)), Date.parse(ex.stamp))
  const events = calls
    .filter((c) => DateTime.toEpochMillis(c.at) >= since)
    .map((c) => ({
      at: DateTime.formatIso(c.at),
      kind: "refresh" as const,
      text: refreshText(c, ex.order.posRef, polls)
    }))
  if (events.length === 0) return ex
  const timeline = [...ex.timeline, ...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
  return { ...ex, timeline }
}

/** The explanation as the admin API answers it. */
export const toApi = (ex: OrderStore.Explanation): AdminApi.Explanation => {
  const o = ex.current.order
  return {
    storeId: ex.storeId,
    order: {
      posRef: o.posRef,
      orderNumber: o.orderNumber,
      kind: o.kind,
      status: o.status,
      orderTotal: o.orderTotal,
      currency: o.currency ?? null,
      lines: o.lines.length,
      posModifiedAt: DateTime.formatIso(o.posModifiedAt)
    },
    stamp: DateTime.formatIso(ex.current.stamp),
    heldReasons: ex.current.heldReasons,
    exported: exported(ex),
    timeline: timeline(ex).map(([t, kind, text]) => ({ at: DateTime.formatIso(t), kind, text: text.trim() }))
  }
}
