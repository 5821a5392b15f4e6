/**
 * How ShipStation speaks: credentials in the query string, Pacific time instead of UTC, and the protocol checks
 * of src/ProtocolChecks.ts, which need no control and so also run against a running server with `--url`.
 */

import { ShipStationClient as SS } from "@posbridge/pos-testkit"
import { ClockCheck } from "@posbridge/shipstation"
import { Effect } from "effect"
import * as Bridge from "../Bridge.js"
import * as ProtocolChecks from "../ProtocolChecks.js"
import { advance, creds, expect, floorMinute, minute, ssNow, sync, syncThenPoll } from "./Driver.js"
import { addOrder, addOrders, setup } from "./PosFixtures.js"
import { controlled, overHttp, type Scenario } from "./Scenario.js"

const orders = Bridge.stores.orders

const withControl = controlled({
  "query-credentials": {
    description: "SS-UserName / SS-Password in the query string are accepted like Basic auth.",
    *steps(d) {
      const p = yield* setup(d)
      yield* addOrders(d, p, 3)
      const r = yield* syncThenPoll(d, orders, 1, { auth: "query" })
      yield* expect(d, r.orders.length === 3, `expected 3 orders, got ${r.orders.length}`)
    }
  },
  "shipstation-sends-pacific-time": {
    description: "ShipStation sends Pacific wall-clock time instead of UTC; the server must warn.",
    *steps(d) {
      // These polls bypass the driver's record of what was served, so the closing no-miss check is off.
      d.skipFinal = true
      const p = yield* setup(d)
      for (let i = 0; i < 4; i++) {
        yield* addOrder(d, p)
        yield* sync(d)
        yield* advance(d, 5)
        const end = floorMinute(ssNow(d))
        yield* SS.poll(
          d.bridge.url,
          orders.id,
          creds(orders),
          { start: end - 10 * minute, end },
          { timeZone: "America/Los_Angeles" }
        )
      }
      const polls = yield* d.bridge.store.polls(orders.id, 20).pipe(Effect.orDie)
      const warning = ClockCheck.warning(polls, "utc")
      yield* expect(
        d,
        warning?.code === "shipstation-clock",
        "no ShipStation clock warning after four Pacific-time polls"
      )
    }
  }
})

const overHttpOnly = overHttp({
  "bad-credentials": {
    description: "A wrong password, by Basic auth and by query: 401 with a sentence, no orders.",
    check: ProtocolChecks.badCredentials
  },
  "both-credential-forms": {
    description:
      "The store's credentials are accepted as HTTP Basic and as SS-UserName / SS-Password query parameters.",
    check: ProtocolChecks.bothCredentialForms
  },
  "credentials-of-another-store": {
    description: "Store B's valid credentials on store A's URL (and A's on B's) are refused, for exports and notices.",
    check: ProtocolChecks.credentialsOfAnotherStore
  },
  "malformed-dates": {
    description:
      "Dates in other forms and impossible dates: 400 naming the parameter; seconds and AM/PM are tolerated.",
    check: ProtocolChecks.malformedDates
  },
  "start-after-end": {
    description: "A window whose start is after its end: 400 naming start_date.",
    check: ProtocolChecks.startAfterEnd
  },
  "empty-window": {
    description: "A window with no orders is still a valid Orders document, not an empty body.",
    check: ProtocolChecks.emptyWindow
  },
  "page-beyond-last": {
    description: "The page after the last is answered 200 with a well-formed Orders document without orders.",
    check: ProtocolChecks.pageBeyondLast
  },
  "paging-stability": {
    description: "One poll over the last week, pages 1..N: pages never changes and every OrderID appears once.",
    check: ProtocolChecks.pagingStability
  },
  "duplicate-ship-notice-over-http": {
    description: 'The same notice twice (a made-up order): 200 both times, "already received" the second time.',
    check: ProtocolChecks.duplicateShipNotice
  },
  "unknown-store": {
    description:
      "A URL for a store that does not exist answers the same 401 as wrong credentials (store ids cannot be listed).",
    check: ProtocolChecks.unknownStore
  }
})

export const scenarios: ReadonlyArray<Scenario> = [...withControl, ...overHttpOnly]
