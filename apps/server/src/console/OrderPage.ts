/** The console's order search: an order's `explain` timeline, and the Refresh button (what `posbridge touch` does). */
import type * as AdminApi from "../AdminApi.js"
import { actionButton, type Html, html } from "./Html.js"
import { when } from "./StorePages.js"

export interface Search {
  readonly store: string
  readonly order: string
}

const form = (
  stores: ReadonlyArray<string>,
  search: Search
) => html`<form class="search card" method="get" action="/admin/order">
<label>Store<br><select name="store">${stores.map(
  (id) => html`<option value="${id}"${id === search.store ? html` selected` : ""}>${id}</option>`
)}</select></label>
<label>Order (POS id or order number)<br><input type="search" name="order" value="${search.order}" required></label>
<button type="submit">Explain</button></form>`

/** Whether a poll sent the order since its current export stamp (a refreshed order waits for the next one). */
const sentSinceStamp = (e: AdminApi.Explanation) =>
  e.timeline.some((t) => t.kind === "exported" && Date.parse(t.at) >= Date.parse(e.stamp))

export const explanation = (e: AdminApi.Explanation, csrf: string): Html => {
  const o = e.order
  return html`<section class="card ${e.heldReasons.length === 0 ? "ok" : "bad"}" data-order="${o.posRef}">
<h2>Order ${o.orderNumber} <span class="muted">POS id ${o.posRef}, ${o.kind}, store ${e.storeId}</span></h2>
<dl><dt>Status</dt><dd>${o.status}</dd>
<dt>Total</dt><dd>${o.orderTotal}${o.currency ? ` ${o.currency}` : ""}, ${o.lines} line(s)</dd>
<dt>POS modified</dt><dd>${when(o.posModifiedAt)}</dd>
<dt>Export stamp</dt><dd>${when(e.stamp)} (ShipStation's LastModified)</dd>
<dt>Sent to ShipStation</dt><dd>${
    sentSinceStamp(e)
      ? "yes"
      : html`${e.exported ? "before its last restamp; not since: " : "not yet: "}the first poll whose window includes ${when(e.stamp)} takes it`
  }</dd>
${e.heldReasons.length === 0 ? "" : html`<dt>Held back</dt><dd class="warn">${e.heldReasons.join("; ")}</dd>`}</dl>
${actionButton("/admin/do/touch", "Refresh", csrf, { store: e.storeId, order: o.posRef })}
<span class="muted">Restamps the order so ShipStation's next poll sends it again.</span></section>
<h2>Timeline</h2><div class="scroll"><table class="stack"><thead><tr><th>At</th><th>What happened</th></tr></thead><tbody>${e.timeline.map(
    (t) =>
      html`<tr class="${t.kind}"><td>${when(t.at)}</td><td${t.kind === "problem" ? html` class="warn"` : ""}>${t.text}</td></tr>`
  )}</tbody></table></div>`
}

/** The search page; `result` is the explanation, or the sentence saying why there is none. */
export const render = (
  stores: ReadonlyArray<string>,
  search: Search,
  result: AdminApi.Explanation | string | undefined,
  csrf: string
): Html =>
  html`<h1>Order search</h1>${form(stores, search)}${
    result === undefined
      ? ""
      : typeof result === "string"
        ? html`<p class="flash error">${result}</p>`
        : explanation(result, csrf)
  }`

const shownAt = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z")

const minutes = (ms: number) =>
  ms < 90_000 ? `${Math.round(ms / 1000)} seconds` : `${Math.round(ms / 60_000)} minutes`

/**
 * The sentence after Refresh: the new stamp, and when ShipStation's next poll will pick the order up, judged from
 * the store's recent page-1 polls (ShipStation polls on its own schedule; posbridge cannot make it come sooner).
 */
export const touchedSentence = (t: AdminApi.Touched, polls: ReadonlyArray<AdminApi.StoreDetail["polls"][number]>) => {
  const starts = polls.filter((p) => p.page === 1).map((p) => Date.parse(p.at))
  const head = `Order ${t.orderNumber} refreshed: its export stamp is now ${shownAt(t.stamp)}.`
  if (t.refresh?.outcome === "queued") {
    return `${head} ShipStation is being asked to refresh the store now${t.refresh.ahead > 0 ? ` (${t.refresh.ahead} store(s) of the same API key ahead)` : ""}; its poll will pick the order up.`
  }
  if (starts.length === 0) return `${head} ShipStation has not polled this store yet; its first poll will pick it up.`
  const gaps = starts
    .slice(0, -1)
    .map((s, i) => s - (starts[i + 1] ?? s))
    .filter((g) => g > 0)
    .sort((a, b) => a - b)
  const typical = gaps[Math.floor(gaps.length / 2)]
  const last = shownAt(new Date(starts[0] ?? 0).toISOString())
  return typical === undefined
    ? `${head} ShipStation's next poll of this store will pick it up (its last poll was at ${last}).`
    : `${head} ShipStation's next poll will pick it up: it polls this store about every ${minutes(typical)}, so around ${shownAt(new Date((starts[0] ?? 0) + typical).toISOString())} (last poll at ${last}).`
}
