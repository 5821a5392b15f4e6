/**
 * Which stored order a ship notice is about. ShipStation echoes the OrderID posbridge exported (the POS id),
 * but may have split the order and changed its OrderNumber (`1234-1`, `1234-2`), and a body-less notice
 * carries only `order_number`. So: OrderID first, then OrderNumber exactly, then OrderNumber without a
 * split suffix. A notice that matches nothing is still stored (never lose one) with no POS id, for the
 * operator to see.
 */

import { OrderStore, ShipNotice } from "@posbridge/core"
import { Effect, Option } from "effect"

export type MatchedBy = "order-id" | "order-number" | "split-order-number" | "unmatched"

export interface Match {
  readonly posRef: Option.Option<string>
  readonly matchedBy: MatchedBy
  /** The idempotency key that recognizes ShipStation's re-sends of this notice. */
  readonly key: string
}

const splitSuffix = /^(.+?)-\d{1,3}$/

export const match = Effect.fn("ShipNoticeMatch.match")(function* (notice: ShipNotice.ShipNotice) {
  const store = yield* OrderStore.OrderStore
  const storeId = notice.storeId
  const byRef = (ref: string) => store.find(storeId, ref).pipe(Effect.map(Option.filter((s) => s.order.posRef === ref)))
  const byNumber = (number: string) =>
    store.find(storeId, number).pipe(Effect.map(Option.filter((s) => s.order.orderNumber === number)))

  const attempts: Array<[MatchedBy, Effect.Effect<Option.Option<OrderStore.StoredOrder>, OrderStore.OrderStoreError>]> =
    []
  if (notice.orderId !== undefined) attempts.push(["order-id", byRef(notice.orderId)])
  attempts.push(["order-number", byNumber(notice.orderNumber)])
  const base = splitSuffix.exec(notice.orderNumber)?.[1]
  if (base !== undefined) attempts.push(["split-order-number", byNumber(base)])

  for (const [matchedBy, attempt] of attempts) {
    const found = yield* attempt
    if (Option.isSome(found)) {
      const posRef = found.value.order.posRef
      return { posRef: Option.some(posRef), matchedBy, key: ShipNotice.idempotencyKey(notice, posRef) } satisfies Match
    }
  }
  return {
    posRef: Option.none(),
    matchedBy: "unmatched",
    // The order number is in every shipnotify URL, with or without a body: a body-less retry is the same notice.
    key: ShipNotice.idempotencyKey(notice, notice.orderNumber)
  } satisfies Match
})
