/**
 * Paging over a frozen snapshot. Page 1 of a poll freezes the ordered member list of the window; later
 * pages of the same (store, start, end) read that list, so every member appears exactly once across pages
 * 1..pages even while documents change between page requests.
 */
import { DateTime, Duration, Order as Ord } from "effect"
import type { OrderWindow } from "./OrderWindow.js"

export interface Member {
  readonly posRef: string
  readonly stamp: DateTime.Utc
}

/** How long a snapshot serves later pages. ShipStation reads all pages of a poll within seconds. */
export const defaultTtl = Duration.hours(1)

export const memberOrder: Ord.Order<Member> = Ord.combine(
  Ord.mapInput(DateTime.Order, (m: Member) => m.stamp),
  Ord.mapInput(Ord.string, (m: Member) => m.posRef)
)

/** Number of pages for `total` members; 0 when the window is empty. */
export const pageCount = (total: number, pageSize: number): number => (total === 0 ? 0 : Math.ceil(total / pageSize))

/** The members on `page` (1-based); a page past the last is empty. */
export const pageSlice = <A>(members: ReadonlyArray<A>, page: number, pageSize: number): ReadonlyArray<A> =>
  page < 1 ? [] : members.slice((page - 1) * pageSize, page * pageSize)

export const key = (storeId: string, window: OrderWindow): string =>
  `${storeId}|${DateTime.toEpochMillis(window.start)}|${DateTime.toEpochMillis(window.end)}`

/** How later pages are served. `offset` re-queries every page (the failure mode of other bridges); tests only. */
export type PagingMode = "snapshot" | "offset"
