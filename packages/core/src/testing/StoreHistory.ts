/**
 * Model-based histories for the OrderStore: orders created and re-saved in the POS, POS delays before the
 * bridge ingests, bridge↔ShipStation clock skew, ShipStation polls with contiguous, overlapping, retried or
 * one-off windows (some ending far past the bridge clock), touches, unchanged re-polls, and re-saves, touches
 * and late deliveries between two page requests of one poll.
 *
 * `run` replays a history against whatever `OrderStore` is provided and checks DESIGN.md invariants 1–3, and
 * the watermark clamp, against a model of its own (it never asks the store what the answer should be):
 *   1. missed — every stored version (and every touch) appears in a page of a *regular* poll served after it;
 *   2. paging — every snapshot's members appear exactly once across pages 1..pages, with a constant `pages`,
 *      each rendered with the content the model says the store holds at that moment;
 *   3. refresh — ingest decisions are exactly: insert new, restamp on re-save / content change / touch,
 *      unchanged otherwise;
 *   window — page 1 freezes exactly the orders whose model stamp is inside the window, by (stamp, id);
 *   stamp — every stamp is max(ingestedAt, watermark) with the model's own watermark (one minute past the
 *      latest window end served that was not more than `tolerance` past the bridge clock), a page's
 *      `watermarkClamped` says whether its end was past that tolerance, and no stamp is ever later than
 *      bridge-now + tolerance + 1 minute: a window ending in the future never pushes stamps forward.
 *
 * The no-miss obligation around one-off windows. A regular poll is what ShipStation does on its own
 * schedule: its window starts from its last regular window (contiguous, same minute, overlapping, a manual
 * refresh reaching back, or a retry of the same window) and ends at its clock's minute, within ±10 minutes of
 * the bridge's. A one-off window ends `minutes` past the bridge clock: a hostile request or a clock mis-set
 * once (14 or 15 minutes: within the 15-minute tolerance, so the watermark moves; 16 or more, up to a year:
 * clamped). ShipStation does not continue from a one-off window, so an order that window happened to contain
 * does not count as delivered: an obligation is discharged only by a page of a regular poll served after the
 * version was ingested. That is what the clamp is for: versions ingested after a clamped window are stamped
 * where the next regular window looks. After the last delivery ShipStation polls regularly twice more, 16
 * minutes apart; those 32 minutes exceed tolerance + 1 minute + the skew, the furthest ahead of the bridge
 * clock a correct store ever stamps, so every version is reached. A store that lets a window past the
 * tolerance move its watermark stamps versions beyond any regular window of the history: they are reported
 * missed, besides breaking the stamp check.
 */
import type { Effect } from "effect"
import { FastCheck as fc } from "effect"
import type * as OrderStore from "../OrderStore.js"
import * as internal from "./internal/historyReplay.js"
import type { Between, History, Options, Step, Target, Verdict, Window } from "./internal/historyTypes.js"

export type {
  Between,
  History,
  Invariant,
  Options,
  Stats,
  Step,
  Target,
  Verdict,
  Violation,
  Window
} from "./internal/historyTypes.js"

/** Every violation, one per line, tagged with its invariant. */
export const format = (verdict: Verdict): string =>
  verdict.violations.map((v) => `[${v.invariant}] ${v.message}`).join("\n")

/**
 * Replays `history` against the provided OrderStore on a clock of its own (the store reads the history's
 * time). The naive stamp rule, offset paging, later pages dropping members re-saved during the poll, and a
 * watermark without the clamp each make this return violations.
 */
export const run: (history: History, options: Options) => Effect.Effect<Verdict, never, OrderStore.OrderStore> =
  internal.run

const order = fc.integer({ min: 0, max: 11 })

const target: fc.Arbitrary<Target> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("Unread" as const), pick: fc.nat({ max: 11 }) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Order" as const), order }) }
)

const between: fc.Arbitrary<Between> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ _tag: fc.constant("Resave" as const), target, change: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("ContentOnly" as const), target }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("Touch" as const), target }) }
)

const window: fc.Arbitrary<Window> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ _tag: "Contiguous" as const }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "SameMinute" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ _tag: fc.constant("Overlap" as const), minutes: fc.integer({ min: 1, max: 30 }) })
  },
  {
    weight: 1,
    arbitrary: fc.record({ _tag: fc.constant("ManualRefresh" as const), minutes: fc.integer({ min: 1, max: 120 }) })
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "Retry" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("Ahead" as const),
      // The boundary (15 trusted, 16 clamped), a little past it, and a clock days or a year off.
      minutes: fc.oneof(
        fc.constantFrom(14, 15, 16, 17),
        fc.integer({ min: 16, max: 90 }),
        fc.integer({ min: 90, max: 525_600 })
      ),
      span: fc.oneof(fc.constant("LastSync" as const), fc.integer({ min: 0, max: 120 }))
    })
  }
)

const poll = fc.record({
  _tag: fc.constant("Poll" as const),
  window,
  pageSize: fc.oneof(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 5 })),
  pageGapSeconds: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 45 })),
  between: fc.array(fc.record({ afterPage: fc.integer({ min: 1, max: 4 }), event: between }), {
    minLength: 0,
    maxLength: 4,
    size: "max"
  })
})

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      _tag: fc.constant("Advance" as const),
      seconds: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 600 }))
    })
  },
  {
    weight: 6,
    arbitrary: fc.record({
      _tag: fc.constant("Save" as const),
      order,
      delaySeconds: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 900 })),
      change: fc.boolean()
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      _tag: fc.constant("ContentOnly" as const),
      order,
      delaySeconds: fc.integer({ min: 0, max: 900 })
    })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Repoll" as const), order }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("WrongKind" as const), order }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Touch" as const), order }) },
  { weight: 4, arbitrary: poll }
)

/**
 * Long histories (fast-check's default size would cap them at 12 steps): over 20,000 samples, 73 steps and
 * 16 polls on average, 5.4 of them paged; 90% of histories re-save or touch an unread member between two
 * pages of a poll (4.1 such polls on average), 89% have one-off windows and 84% a clamped page
 * (`history-runs.ts measure`).
 */
export const arbitrary: fc.Arbitrary<History> = fc.record({
  orders: fc.integer({ min: 2, max: 12 }),
  skewSeconds: fc.oneof(fc.constantFrom(-600, 0, 600), fc.integer({ min: -600, max: 600 })),
  posOffsetSeconds: fc.integer({ min: -300, max: 300 }),
  steps: fc.array(step, { minLength: 30, maxLength: 120, size: "max" })
})
