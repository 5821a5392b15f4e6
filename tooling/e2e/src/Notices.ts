/**
 * A stream of ShipStation ship notices to replicas (round-robin over those in rotation, as a load balancer sends
 * them), and the POS-side count of what reached the POS: each Heartland order's tracking field as the simulator's
 * own API serves it, where the adapter's write-back appends one line per notice. A notice answered 200 must be
 * there exactly once; a notice cut off by a kill (no answer) at most once.
 */
import { ShipStationClient as SS } from "@posbridge/pos-testkit"
import { Effect } from "effect"
import { changes } from "./ReplicaChecks.js"
import type { ReplicaSet, Store } from "./Replicas.js"

export interface Sent {
  readonly store: Store
  readonly order: string
  readonly tracking: string
}

export interface Tally {
  readonly sent: ReadonlyArray<Sent>
  /** Answered 200. */
  readonly acknowledged: ReadonlyArray<Sent>
  /** No answer: the replica went away with the request. */
  readonly cutOff: number
  /** Answered something else than 200 (each with its status and body). */
  readonly refused: ReadonlyArray<string>
}

export interface Stream {
  readonly stop: () => Promise<Tally>
}

/** Sends `perSecond` notices to random orders of the Heartland stores until stopped; tracking numbers `1Z{tag}…`. */
export const stream = async (set: ReplicaSet, options: { readonly perSecond: number; readonly tag: string }) => {
  const stores = set.stores.filter((s) => s.adapter === "heartland")
  const log = (await changes(set.heartland)).changes
  const orders = new Map(
    stores.map((s) => [
      s.id,
      [...new Set(log.filter((c) => c.account === s.account && c.kind === "orders").map((c) => c.ref))]
    ])
  )
  const sent: Array<Sent> = []
  const acknowledged: Array<Sent> = []
  const refused: Array<string> = []
  let cutOff = 0
  let next = 0
  let stopped = false
  const inFlight = new Set<Promise<void>>()
  const one = async () => {
    const live = set.live()
    const replica = live[next % Math.max(1, live.length)]
    const store = stores[Math.floor(Math.random() * stores.length)]!
    const refs = orders.get(store.id) ?? []
    const order = refs[Math.floor(Math.random() * refs.length)]
    if (replica === undefined || order === undefined) return
    const n = next++
    const notice = { store, order, tracking: `1Z${options.tag}${String(n).padStart(6, "0")}` }
    sent.push(notice)
    const answer = await Effect.runPromise(
      SS.shipNotify(replica.url, store.id, set.shipstation, {
        orderId: order,
        orderNumber: order,
        carrier: "UPS",
        trackingNumber: notice.tracking
      })
    ).catch(() => undefined)
    if (answer === undefined) cutOff++
    else if (answer.status === 200) acknowledged.push(notice)
    else
      refused.push(
        `${notice.tracking} to ${store.id} via replica ${replica.index}: ${answer.status} ${answer.body.trim()}`
      )
  }
  const loop = (async () => {
    while (!stopped) {
      const p = one().finally(() => inFlight.delete(p))
      inFlight.add(p)
      await new Promise((r) => setTimeout(r, 1000 / options.perSecond))
    }
  })()
  return {
    stop: async (): Promise<Tally> => {
      stopped = true
      await loop
      await Promise.all([...inFlight])
      return { sent, acknowledged, cutOff, refused }
    }
  }
}

/** How often each tracking number appears in its order's tracking field at the POS. */
const written = async (set: ReplicaSet, notices: ReadonlyArray<Sent>) => {
  const counts = new Map<string, number>()
  const orders = new Map<string, Sent>()
  for (const n of notices) orders.set(`${n.store.account}/${n.order}`, n)
  for (const n of orders.values()) {
    const r = await fetch(`${set.heartland.url}/${n.store.account}/api/sales/orders/${n.order}`, {
      headers: { authorization: `Bearer ${set.heartlandToken}` }
    })
    if (!r.ok)
      throw new Error(`the Heartland simulator did not serve order ${n.order} of ${n.store.account}: ${r.status}`)
    const doc = (await r.json()) as { custom?: Record<string, unknown> }
    const text = String(doc.custom?.shipstation_tracking ?? "")
    for (const t of text.match(/1Z[A-Z0-9]+/g) ?? []) counts.set(t, (counts.get(t) ?? 0) + 1)
  }
  return counts
}

/**
 * Waits (up to `timeoutMs`) until every acknowledged notice is at the POS, then checks: each acknowledged one
 * exactly once, no other sent one more than once, nothing refused.
 */
export const problems = async (set: ReplicaSet, tally: Tally, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  let counts = await written(set, tally.sent)
  while (tally.acknowledged.some((n) => !counts.has(n.tracking)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000))
    counts = await written(set, tally.sent)
  }
  const found: Array<string> = [...tally.refused.map((r) => `notice refused: ${r}`)]
  for (const n of tally.acknowledged) {
    const c = counts.get(n.tracking) ?? 0
    if (c !== 1)
      found.push(`notice ${n.tracking} (order ${n.order} of ${n.store.id}) answered 200, at the POS ${c} times`)
  }
  const acked = new Set(tally.acknowledged.map((n) => n.tracking))
  for (const n of tally.sent) {
    const c = counts.get(n.tracking) ?? 0
    if (!acked.has(n.tracking) && c > 1) found.push(`notice ${n.tracking} (cut off by a kill) at the POS ${c} times`)
  }
  return { problems: found, written: tally.acknowledged.filter((n) => counts.get(n.tracking) === 1).length }
}
