/** The console's store pages: the overview of every store, and one store with what an operator may act on. */
import type * as AdminApi from "../AdminApi.js"
import { actionButton, type Html, html } from "./Html.js"

export const when = (iso: string | null | undefined) =>
  iso ? html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>` : html`never`

const window = (p: AdminApi.StoreDetail["polls"][number]) => html`${when(p.window.start)} → ${when(p.window.end)}`

/** Whether one glance should say "look here": warnings, a failed sync, dead or doubtful write-backs. */
export const problemsOf = (s: AdminApi.StoreStatus): ReadonlyArray<string> => [
  ...s.warnings.map((w) => w.message),
  ...(s.lastSync?.outcome === "failed" ? [`The last POS sync failed: ${s.lastSync.error ?? "no reason given"}`] : []),
  ...(s.outbox.dead > 0 ? [`${s.outbox.dead} write-back(s) failed for good.`] : []),
  ...(s.outbox.attention > 0 ? [`${s.outbox.attention} ship notice(s) need attention.`] : [])
]

const outbox = (o: AdminApi.StoreStatus["outbox"]) =>
  `${o.pending} pending, ${o["in-flight"]} in flight, ${o.done} done, ${o.dead} dead, ${o.attention} need attention`

const lastSync = (s: AdminApi.StoreStatus) =>
  s.lastSync === null
    ? html`not known on this runner`
    : html`${when(s.lastSync.at)} <span class="tag ${s.lastSync.outcome === "failed" ? "bad" : "ok"}">${s.lastSync.outcome}</span>`

const firstSync = (s: AdminApi.StoreStatus) =>
  s.firstSync === null
    ? html`not finished on this runner yet`
    : html`${when(s.firstSync.at)}, ${s.firstSync.seconds.toFixed(1)} s after start, ${s.firstSync.documents} ${s.documentKind}`

const lastPoll = (s: AdminApi.StoreStatus) =>
  s.lastPoll === null
    ? html`ShipStation has not polled yet`
    : html`${when(s.lastPoll.at)}, window ${window(s.lastPoll)}`

const facts = (s: AdminApi.StoreStatus, showOwner = true) => html`<dl>
<dt>POS</dt><dd>${s.adapter}, sends ${s.documentKind}</dd>
${s.owner === null || !showOwner ? "" : html`<dt>Owner runner</dt><dd>${s.owner}</dd>`}
<dt>First POS sync</dt><dd>${firstSync(s)}</dd>
<dt>Last POS sync</dt><dd>${lastSync(s)}</dd>
<dt>Last ShipStation poll</dt><dd>${lastPoll(s)}</dd>
<dt>POS save to ShipStation poll</dt><dd>${s.saveToPoll === null ? "not measured yet" : html`${Math.round(s.saveToPoll.seconds)} s (latest, ${when(s.saveToPoll.at)})`}</dd>
<dt>Orders</dt><dd>${s.documents} kept, ${s.waitingForPoll} waiting for a poll, ${s.held} held back</dd>
<dt>Write-backs</dt><dd>${outbox(s.outbox)}</dd>
</dl>`

const health = (problems: ReadonlyArray<string>) =>
  problems.length === 0
    ? html`<span class="tag ok">healthy</span>`
    : html`<span class="tag bad">needs a look</span><ul class="warn">${problems.map((p) => html`<li>${p}</li>`)}</ul>`

export const overview = (stores: ReadonlyArray<AdminApi.StoreStatus>): Html => html`<h1>Stores</h1>
${stores.length === 0 ? html`<p>No store is configured on this server.</p>` : ""}
<div class="stores">${stores.map((s) => {
  const problems = problemsOf(s)
  // The owner matters only when several runners share the stores.
  const showOwner = new Set(stores.map((t) => t.owner)).size > 1
  return html`<section class="card ${problems.length === 0 ? "ok" : "bad"}" data-store="${s.id}">
<h2><a href="/admin/stores/${encodeURIComponent(s.id)}">${s.id}</a></h2>${health(problems)}${facts(s, showOwner)}</section>`
})}</div>`

const writeBackRow = (storeId: string, w: AdminApi.WriteBack, csrf: string) => {
  const fields = { store: storeId, writeBack: w.id }
  const state = w.state === "pending" ? "retrying" : w.state === "attention" ? "needs attention" : w.state
  return html`<tr data-write-back="${w.id}">
<td><a href="/admin/order?store=${encodeURIComponent(storeId)}&amp;order=${encodeURIComponent(w.posRef ?? w.notice.orderNumber)}">${w.notice.orderNumber || "(no order named)"}</a></td>
<td>${w.notice.carrier} ${w.notice.trackingNumber}</td>
<td><strong>${state}</strong>, ${w.attempts} attempt(s)${w.lastError ? html`<br><span class="muted">${w.lastError}</span>` : ""}${
    w.notice.problems.length
      ? html`<ul>${w.notice.problems.map((p) => html`<li>${p.severity === "attention" ? "needs attention" : "note"}: ${p.message}</li>`)}</ul>`
      : ""
  }</td>
<td>${
    w.state === "attention"
      ? html`${actionButton("/admin/do/retry", "Write back", csrf, fields)} ${actionButton("/admin/do/dismiss", "Dismiss", csrf, fields, true)}`
      : w.state === "dead"
        ? html`${actionButton("/admin/do/retry", "Retry", csrf, fields)} ${actionButton("/admin/do/dismiss", "Dismiss", csrf, fields, true)}`
        : actionButton("/admin/do/retry", "Retry now", csrf, fields)
  }</td></tr>`
}

export const store = (d: AdminApi.StoreDetail, csrf: string): Html => {
  const s = d.store
  const problems = problemsOf(s)
  const notices = d.writeBacks.filter((w) => w.state === "attention")
  const failing = d.writeBacks.filter((w) => w.state !== "attention")
  const table = (rows: ReadonlyArray<AdminApi.WriteBack>) =>
    html`<div class="scroll"><table class="stack"><thead><tr><th>Order</th><th>Shipment</th><th>State</th><th></th></tr></thead>
<tbody>${rows.map((w) => writeBackRow(s.id, w, csrf))}</tbody></table></div>`
  return html`<h1>Store ${s.id}</h1>
<section class="card ${problems.length === 0 ? "ok" : "bad"}">${health(problems)}${facts(s)}
${actionButton("/admin/do/sync", "Sync now", csrf, { store: s.id })}
${s.adapter === "lightspeed" ? actionButton("/admin/do/connect", s.lastSync?.outcome === "succeeded" ? "Reconnect Lightspeed" : "Connect Lightspeed", csrf, { store: s.id }, true) : ""}
</section>
<form class="search card" method="get" action="/admin/order"><input type="hidden" name="store" value="${s.id}">
<label>Order (POS id or order number)<br><input type="search" name="order" required></label><button type="submit">Explain</button></form>
<h2>Ship notices that need attention</h2>
${notices.length === 0 ? html`<p>None.</p>` : table(notices)}
<h2>Dead and retrying write-backs</h2>
${failing.length === 0 ? html`<p>None.</p>` : table(failing)}
<h2>Held orders</h2>
${
  d.held.length === 0
    ? html`<p>None.</p>`
    : html`${s.held > d.held.length ? html`<p>${s.held} held; the ${d.held.length} most recently stamped:</p>` : ""}<div class="scroll"><table class="stack"><thead><tr><th>Order</th><th>Stamped</th><th>Why it is held back</th></tr></thead><tbody>${d.held.map(
        (h) =>
          html`<tr><td><a href="/admin/order?store=${encodeURIComponent(s.id)}&amp;order=${encodeURIComponent(h.posRef)}">${h.orderNumber}</a></td><td>${when(h.stamp)}</td><td>${h.reasons.join("; ")}</td></tr>`
      )}</tbody></table></div>`
}
<h2>Recent ShipStation polls</h2>
${
  d.polls.length === 0
    ? html`<p>ShipStation has not polled this store yet.</p>`
    : html`<div class="scroll"><table class="stack"><thead><tr><th>At</th><th>Window</th><th>Page</th><th>Orders sent</th></tr></thead><tbody>${d.polls.map(
        (p) =>
          html`<tr><td>${when(p.at)}</td><td>${window(p)}</td><td>page ${p.page} of ${p.pages}</td><td>${p.count} order(s) sent</td></tr>`
      )}</tbody></table></div>`
}`
}
