/**
 * The POS side's own record of what it changed and when: every save of a document a simulator makes (a merchant's
 * action, an API write), with the simulator's time, the document's version and the modified time the POS reports
 * for it. It is the oracle of posbridge's "no missed version" checks, because it comes from the simulated POS and
 * never from the code under test: each change must reach ShipStation (apps/conformance/README.md says how that is
 * judged).
 *
 * A change names the document the way posbridge exports it: its document kind and its `posRef` (what the adapter
 * reports as `Order.posRef`). One POS save can change documents of both kinds (a Lightspeed quote's Sale, once
 * completed, is an invoice too): it is then one entry per document.
 *
 * @since 0.0.0
 */
import { DocumentKind } from "@posbridge/core"
import { Schema } from "effect"

export const Change = Schema.Struct({
  /** Position in the simulator's log, from 1, across all its accounts: read "changes after seq". */
  seq: Schema.Int,
  /** The simulator account (merchant) the document belongs to. */
  account: Schema.String,
  kind: DocumentKind.DocumentKind,
  /** The document as the adapter names it (`Order.posRef`). */
  ref: Schema.String,
  /** 1 when the document was created, one more at every later save of it. */
  version: Schema.Int,
  /** When the save happened, i.e. became visible through the API: the simulator's epoch milliseconds. */
  at: Schema.Number,
  /** The modified time the POS reports for this version (epoch ms); earlier than `at` for a late save. */
  posModifiedAt: Schema.Number,
  /** What happened, in the POS's words: `created`, `re-saved`, `edited shippingCharge`, `api write`… */
  what: Schema.String,
  /**
   * Why the document cannot be shipped as the POS holds it (no address at all, nothing to ship), when it cannot:
   * posbridge then holds it back instead of serving it, and the oracle expects that.
   */
  unshippable: Schema.optionalWith(Schema.String, { exact: true })
})
export type Change = typeof Change.Type

/** What a simulator records; the log numbers it and counts the document's versions. */
export type Entry = Omit<Change, "seq" | "version">

export interface Filter {
  /** Only changes after this `seq`. */
  readonly since?: number | undefined
  readonly account?: string | undefined
  readonly kind?: DocumentKind.DocumentKind | undefined
}

export interface ChangeLog {
  /** Appends one change, now. */
  readonly record: (entry: Entry) => Change
  readonly entries: (filter?: Filter) => ReadonlyArray<Change>
  /** The `seq` of the latest change (0 before the first). */
  readonly last: () => number
}

export const make = (): ChangeLog => {
  const log: Array<Change> = []
  const versions = new Map<string, number>()
  return {
    record: (entry) => {
      const key = `${entry.account}\u0000${entry.kind}\u0000${entry.ref}`
      const version = (versions.get(key) ?? 0) + 1
      versions.set(key, version)
      const change: Change = { ...entry, seq: log.length + 1, version }
      log.push(change)
      return change
    },
    // `seq` is the index + 1, so "after seq" is a slice.
    entries: (filter = {}) =>
      log
        .slice(Math.max(0, filter.since ?? 0))
        .filter(
          (c) =>
            (filter.account === undefined || c.account === filter.account) &&
            (filter.kind === undefined || c.kind === filter.kind)
        ),
    last: () => log.length
  }
}
