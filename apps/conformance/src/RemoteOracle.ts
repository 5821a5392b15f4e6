/**
 * `--url … --simulator SIM --account A [--kind K]`: the no-missed-version check against a server run as users run
 * it, whose store is fed by a simulated POS (`posbridge simulate`, account A), judged like the in-process
 * scenarios by the POS side's record (PosOracle): the simulator's change log, read over its control API, against
 * every order version the ShipStation client received.
 *
 * ShipStation's part, in real time: a first poll of the last hour, then `rounds` rounds of changes made through
 * the control API (a document added, a served one re-saved, a served one edited) each followed by a contiguous
 * poll `roundSeconds` later; then, once the server has had `syncSeconds` to pull the last change and the minute
 * has turned past the last window, a catch-up poll. Every change the POS made to the store's documents from the
 * start of the run until the catch-up began (the background activity's too) must then have been served. Positions are wall-clock times: the
 * simulator and this client must share a clock (one host, or NTP).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { DocumentKind } from "@posbridge/core"
import {
  type ChangeLog,
  PosOracle,
  type PosSimulator,
  SimControl,
  ShipStationClient as SS
} from "@posbridge/pos-testkit"
import { Clock, Duration, Effect } from "effect"
import type * as ProtocolChecks from "./ProtocolChecks.js"

export interface Options {
  readonly url: string
  readonly store: ProtocolChecks.StoreLogin
  /** The simulator's address (its control API is under `/control`). */
  readonly simulator: string
  readonly account: string
  readonly kind: DocumentKind.DocumentKind
  /** Rounds of changes. Default 3. */
  readonly rounds?: number | undefined
  /** Between a round's changes and its poll. Default 5 s. */
  readonly roundSeconds?: number | undefined
  /** How long the server may take to pull a change: its sync interval and some margin. Default 15 s. */
  readonly syncSeconds?: number | undefined
}

export const caseName = "scenario pos-change-log"

const minute = PosOracle.minute

export const run = (
  options: Options
): Effect.Effect<ReadonlyArray<string>, PosSimulator.ControlError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const control = yield* SimControl.makeClient(options.simulator)
    const { account, kind, store } = options
    const problems: Array<string> = []
    const served: Array<PosOracle.Served> = []
    const described = yield* control.describe
    if (!described.accounts.includes(account)) {
      return [
        `the simulator at ${options.simulator} has no account ${account} (it has ${described.accounts.join(", ")})`
      ]
    }
    const start = described.lastChange
    let lastEnd: number | undefined

    const poll = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const end = PosOracle.floorMinute(now)
      const window = { start: lastEnd ?? end - 60 * minute, end }
      const pageTimes = new Map<number, number>([[1, now]])
      const result = yield* SS.poll(
        options.url,
        store.id,
        { username: store.username, password: store.password },
        window,
        { betweenPages: (page) => Effect.map(Clock.currentTimeMillis, (t) => void pageTimes.set(page + 1, t)) }
      )
      const label = `poll ${SS.formatDate(window.start)} – ${SS.formatDate(window.end)}`
      if (result.status !== 200) return problems.push(`${label} answered ${result.status}: ${result.body.trim()}`)
      problems.push(...SS.pagingProblems(label, result))
      for (const o of result.orders) {
        const at = pageTimes.get(o.page) ?? now
        served.push({ storeId: store.id, posRef: o.posRef, lastModified: o.lastModified, at, position: at })
      }
      lastEnd = end
    })

    const shippable = (c: ChangeLog.Change) => c.unshippable === undefined
    yield* poll
    // Re-saves and edits go to orders ShipStation already has, so a stale answer cannot pass for the new version.
    const known = (yield* control.changes({ account, kind })).changes.filter(shippable).map((c) => c.ref)
    const targets = [...new Set(served.map((s) => s.posRef).filter((ref) => known.includes(ref)))]
    const field = described.fields[kind]?.[0]
    const unsupported = (e: PosSimulator.ControlError) =>
      e.reason === "unsupported" ? Effect.succeed([]) : Effect.fail(e)
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      yield* control.addDocument(account, kind)
      const ref = targets[round % Math.max(1, targets.length)]
      if (ref !== undefined) {
        yield* Effect.catchAll(control.resave(account, kind, ref), unsupported)
        const other = targets[(round + 1) % targets.length]!
        if (field !== undefined) {
          const value = field.examples[round % field.examples.length]
          yield* Effect.catchAll(control.setField(account, kind, other, field.name, value), unsupported)
        }
      }
      yield* Effect.sleep(Duration.seconds(options.roundSeconds ?? 5))
      yield* poll
    }

    // The catch-up poll: after the server could pull every change made until now, and once the window can end past
    // the last one. Changes after `cutoff` (the background activity goes on) are not judged.
    const cutoff = yield* Clock.currentTimeMillis
    yield* Effect.sleep(Duration.seconds(options.syncSeconds ?? 15))
    while (PosOracle.floorMinute(yield* Clock.currentTimeMillis) <= (lastEnd ?? 0)) {
      yield* Effect.sleep(Duration.seconds(1))
    }
    yield* poll

    const isNew = PosOracle.newVersions()
    const all = (yield* control.changes({ account, kind })).changes
    const versions = all
      .filter((c) => isNew(c) && c.seq > start && c.at <= cutoff)
      .map((c) => PosOracle.remoteVersion(store.id, c))
    if (versions.length === 0) problems.push("the POS changed nothing during the run: nothing was checked")
    problems.push(...PosOracle.missedVersions(versions, served, { held: new Set(), polled: new Set([store.id]) }))
    return problems
  })
