/**
 * Which stored order a ship notice is about. ShipStation echoes the OrderID posbridge exported (the POS id),
 * but may have split the order and changed its OrderNumber (`1234-1`, `1234-2`), and a body-less notice
 * carries only `order_number`. So: OrderID first, then OrderNumber exactly, then OrderNumber without a
 * split suffix. A notice that matches nothing is still stored (never lose one) with no POS id, for the
 * operator to see.
 */

import { Echo, OrderStore, ShipNotice } from "@posbridge/core"
import { Effect, Option } from "effect"

export type MatchedBy = "order-id" | "order-number" | "split-order-number" | "unmatched"

export interface Match {
  readonly posRef: Option.Option<string>
  readonly matchedBy: MatchedBy
  /** The idempotency key that recognizes ShipStation's re-sends of this notice. */
  readonly key: string
  /** What matching found doubtful (an OrderID and an OrderNumber naming two different orders). */
  readonly problems: ReadonlyArray<ShipNotice.Problem>
}

const splitSuffix = /^(.+?)-\d{1,3}$/

export const match = Effect.fn("ShipNoticeMatch.match")(function* (notice: ShipNotice.ShipNotice) {
  const store = yield* OrderStore.OrderStore
  const storeId = notice.storeId
  const byRef = (ref: string) => store.find(storeId, ref).pipe(Effect.map(Option.filter((s) => s.order.posRef === ref)))
  const byNumber = (number: string) =>
    store.find(storeId, number).pipe(Effect.map(Option.filter((s) => s.order.orderNumber === number)))
  type Found = Option.Option<readonly [MatchedBy, OrderStore.StoredOrder]>
  const byOrderNumber: Effect.Effect<Found, OrderStore.OrderStoreError> = Effect.gen(function* () {
    const exact = yield* byNumber(notice.orderNumber)
    if (Option.isSome(exact))
      return Option.some<readonly [MatchedBy, OrderStore.StoredOrder]>(["order-number", exact.value])
    const base = splitSuffix.exec(notice.orderNumber)?.[1]
    if (base === undefined) return Option.none()
    return Option.map(yield* byNumber(base), (found): readonly [MatchedBy, OrderStore.StoredOrder] => [
      "split-order-number",
      found
    ])
  })

  const byId = notice.orderId === undefined ? Option.none() : yield* byRef(notice.orderId)
  const numbered =
    notice.orderNumber === "" || notice.orderNumber === notice.orderId ? Option.none() : yield* byOrderNumber
  const problems: Array<ShipNotice.Problem> = []
  if (Option.isSome(byId) && Option.isSome(numbered) && numbered.value[1].order.posRef !== byId.value.order.posRef) {
    problems.push({
      severity: "attention",
      message:
        `The notice's OrderID ${Echo.quoted(notice.orderId ?? "")} and OrderNumber ${Echo.quoted(notice.orderNumber)} ` +
        "name two different orders; it is kept with the OrderID's order, and nothing is written back until an " +
        "operator decides."
    })
  }
  const found: Found = Option.isSome(byId) ? Option.some(["order-id", byId.value] as const) : numbered
  if (Option.isSome(found)) {
    const [matchedBy, stored] = found.value
    const posRef = stored.order.posRef
    return {
      posRef: Option.some(posRef),
      matchedBy,
      key: ShipNotice.idempotencyKey(notice, posRef),
      problems
    } satisfies Match
  }
  return {
    posRef: Option.none(),
    matchedBy: "unmatched",
    // The order number is in every shipnotify URL, with or without a body: a body-less retry is the same notice.
    key: ShipNotice.idempotencyKey(notice, notice.orderNumber),
    problems
  } satisfies Match
})

/** The notice as it is stored: with what decoding and matching found doubtful. */
export const withProblems = (notice: ShipNotice.ShipNotice, match: Match): ShipNotice.ShipNotice =>
  match.problems.length === 0 ? notice : { ...notice, problems: [...(notice.problems ?? []), ...match.problems] }
