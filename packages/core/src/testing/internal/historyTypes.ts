/**
 * The vocabulary of `StoreHistory` (re-exported there): the steps of a history, and what a replay reports.
 * Its own module so that the replay and the model can name these types without importing the public module
 * that imports them.
 */
import type { Duration } from "effect"

/** Which order an event between two pages acts on. */
export type Target =
  | { readonly _tag: "Order"; readonly order: number }
  /** The `pick`-th (modulo their number) member of the poll's snapshot on a page not read yet, if any. */
  | { readonly _tag: "Unread"; readonly pick: number }

export type Between =
  | { readonly _tag: "Resave"; readonly target: Target; readonly change: boolean }
  | { readonly _tag: "ContentOnly"; readonly target: Target }
  | { readonly _tag: "Touch"; readonly target: Target }

export type Window =
  | { readonly _tag: "Contiguous" }
  | { readonly _tag: "SameMinute" }
  | { readonly _tag: "Overlap"; readonly minutes: number }
  | { readonly _tag: "ManualRefresh"; readonly minutes: number }
  /** The previous regular window again (ShipStation retrying a poll). */
  | { readonly _tag: "Retry" }
  /** One-off: ends `minutes` past the bridge clock; starts at the last regular end or `span` minutes back. */
  | { readonly _tag: "Ahead"; readonly minutes: number; readonly span: number | "LastSync" }

export type Step =
  | { readonly _tag: "Advance"; readonly seconds: number }
  | { readonly _tag: "Save"; readonly order: number; readonly delaySeconds: number; readonly change: boolean }
  | { readonly _tag: "ContentOnly"; readonly order: number; readonly delaySeconds: number }
  | { readonly _tag: "Repoll"; readonly order: number }
  | { readonly _tag: "WrongKind"; readonly order: number }
  | { readonly _tag: "Touch"; readonly order: number }
  | {
      readonly _tag: "Poll"
      readonly window: Window
      readonly pageSize: number
      /** Bridge seconds between two page requests (deliveries that fall due in between arrive then). */
      readonly pageGapSeconds: number
      /** Events right after the given page of this poll, before the next page is requested. */
      readonly between: ReadonlyArray<{ readonly afterPage: number; readonly event: Between }>
    }

export interface History {
  /** Order indexes in steps are taken modulo this. */
  readonly orders: number
  /** ShipStation clock minus bridge clock, seconds. */
  readonly skewSeconds: number
  /** POS clock minus bridge clock, seconds. */
  readonly posOffsetSeconds: number
  readonly steps: ReadonlyArray<Step>
}

export type Invariant = "missed" | "paging" | "refresh" | "window" | "stamp"

export interface Violation {
  readonly invariant: Invariant
  readonly message: string
}

/** What a history exercised; `measure` in the tests' support aggregates it over many histories. */
export interface Stats {
  readonly steps: number
  /** Generated polls (regular and one-off), not counting the two final ones. */
  readonly polls: number
  /** Polls of two pages or more. */
  readonly pagedPolls: number
  /** Polls with an accepted ingest or a touch between two of their pages. */
  readonly changedBetweenPages: number
  /** Polls where a member on a page not read yet was re-saved or touched between two pages. */
  readonly unreadChanged: number
  /** One-off windows ending past the bridge clock, and pages whose end was past the tolerance. */
  readonly aheadPolls: number
  readonly clampedPages: number
  readonly obligations: number
}

export interface Verdict {
  readonly ok: boolean
  readonly violations: ReadonlyArray<Violation>
  readonly stats: Stats
}

export interface Options {
  /** Must be unused in the store (SQL runs share one database across histories). */
  readonly storeId: string
  /** The watermark tolerance the store was built with; the model's default is DESIGN.md's 15 minutes. */
  readonly tolerance?: Duration.DurationInput | undefined
}
