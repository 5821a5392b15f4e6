/**
 * What every adapter's simulator provides, so every POS gets the same oracle: a simulated POS serving many
 * accounts (merchants) from one process, its change log (`ChangeLog`: every save with its time and version, the
 * POS side's own record), the pulls in flight per account (`Pulls`), and the few actions a test or an operator
 * takes from outside (add a document, re-save one, change a field). An adapter's `testing` entry exports a
 * `Descriptor` as `simulator`; `posbridge simulate ADAPTER` serves it on a port with `SimControl`'s control API,
 * and `pnpm conformance` checks that the log names documents the way the adapter reports them.
 *
 * @since 0.0.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type { DocumentKind } from "@posbridge/core"
import { type Clock, Clock as ClockModule, Effect, Schema } from "effect"
import type * as ChangeLog from "./ChangeLog.js"
import type * as Pulls from "./Pulls.js"

export class ControlError extends Schema.TaggedError<ControlError>()("ControlError", {
  reason: Schema.Literal("unknown-account", "unknown-document", "unsupported", "invalid", "unreachable"),
  message: Schema.String
}) {}

/** A field the control API can set on a document of one kind, with values that make sense for it. */
export const Field = Schema.Struct({
  name: Schema.String,
  description: Schema.String,
  examples: Schema.NonEmptyArray(Schema.Unknown)
})
export type Field = typeof Field.Type

/** What a test or an operator does to a simulated POS from outside (the control API's actions). */
export interface Actions {
  /** A new document of `kind`, rung up now as a merchant would; the changes it made. */
  readonly addDocument: (
    account: string,
    kind: DocumentKind.DocumentKind
  ) => Effect.Effect<ReadonlyArray<ChangeLog.Change>, ControlError>
  /** The merchant opens the document and saves it without changing anything. */
  readonly resave: (
    account: string,
    kind: DocumentKind.DocumentKind,
    ref: string
  ) => Effect.Effect<ReadonlyArray<ChangeLog.Change>, ControlError>
  /** The merchant changes one field (one of `fields[kind]`) and saves. */
  readonly setField: (
    account: string,
    kind: DocumentKind.DocumentKind,
    ref: string,
    field: string,
    value: unknown
  ) => Effect.Effect<ReadonlyArray<ChangeLog.Change>, ControlError>
  /**
   * The adapter settings of a posbridge store sending `kind` from `account` of this simulator (its base URL and
   * credentials; a Lightspeed simulator grants a fresh refresh token), as they go in a configuration file.
   */
  readonly storeSettings: (
    account: string,
    kind: DocumentKind.DocumentKind
  ) => Effect.Effect<Record<string, unknown>, ControlError>
}

export interface PosSimulator extends Actions {
  readonly adapterId: string
  readonly displayName: string
  /**
   * The POS's own API, every account behind it (the settings `storeSettings` hands out say where). Its errors
   * become answers as a server renders them (e.g. an unknown route: 404).
   */
  readonly app: HttpApp.Default<unknown>
  /** Account ids, in order. */
  readonly accounts: ReadonlyArray<string>
  /** The document kinds a store of this POS can send. */
  readonly kinds: ReadonlyArray<DocumentKind.DocumentKind>
  /** What `setField` accepts, per kind. */
  readonly fields: Readonly<Partial<Record<DocumentKind.DocumentKind, ReadonlyArray<Field>>>>
  readonly changes: ChangeLog.ChangeLog
  readonly pulls: Pulls.Monitor
  /** The simulator's time (epoch ms), the time of its changes and pulls. */
  readonly now: Effect.Effect<number>
  /** The merchants' activity of the server's demo, on every account, until interrupted: fork it, or not. */
  readonly activity: Effect.Effect<never>
  /** Expires the account's access tokens now, for a POS with expiring tokens (the client must refresh). */
  readonly expireAccessTokens?: ((account: string) => Effect.Effect<void, ControlError>) | undefined
}

export interface Options {
  /** The address clients reach the simulator at: the links it sends and the settings it hands out use it. */
  readonly baseUrl: string
  /** How many accounts (merchants, stores) it serves. Default 1. */
  readonly accounts?: number | undefined
  /** Seed of the demo data (each account gets its own, from this one). Default: the demo's. */
  readonly seed?: number | undefined
  /** Documents seeded per account (orders, sales). Default: the demo's. */
  readonly documents?: number | undefined
  /** Pulls idle this long count as abandoned (`Pulls`). Default `Pulls.defaultIdleMillis`. */
  readonly pullIdleMillis?: number | undefined
  /** Where its time comes from. Default: the ambient `Clock`. */
  readonly clock?: Clock.Clock | undefined
}

export interface Descriptor {
  readonly _tag: "PosbridgeSimulator"
  /** The adapter it simulates the POS of (`AdapterDescriptor.id`). */
  readonly adapterId: string
  readonly make: (options: Options) => Effect.Effect<PosSimulator>
}

export const isDescriptor = (u: unknown): u is Descriptor =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "PosbridgeSimulator"

/** The error for an account the simulator does not have. */
export const unknownAccount = (account: string, accounts: ReadonlyArray<string>) =>
  new ControlError({
    reason: "unknown-account",
    message: `This simulator has no account "${account}"; it has ${accounts.length <= 5 ? accounts.join(", ") : `${accounts[0]} … ${accounts.at(-1)} (${accounts.length})`}.`
  })

/** The error for a document the account does not have. */
export const unknownDocument = (account: string, kind: string, ref: string) =>
  new ControlError({ reason: "unknown-document", message: `Account ${account} has no ${kind} document "${ref}".` })

/** Account ids `first`, `first + 1`, … as strings (POS account ids are numbers in both built-in simulators). */
export const accountIds = (count: number, first = 1000): ReadonlyArray<string> =>
  Array.from({ length: Math.max(1, count) }, (_, i) => String(first + i))

/**
 * What every simulator shares as a `PosSimulator`, built from its in-process simulator: the members that are the
 * simulator's own (`shared`), running an effect on its clock (`onClock`), an account's control (or the
 * unknown-account error) and running a change on it, answering the changes it logged (`logged`).
 */
export const frameOf = <C>(
  sim: {
    readonly app: HttpApp.Default<unknown>
    readonly accounts: ReadonlyArray<string>
    readonly account: (id: string) => C | undefined
    readonly changes: ChangeLog.ChangeLog
    readonly pulls: Pulls.Monitor
  },
  clock: Clock.Clock | undefined
) => {
  const onClock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    clock === undefined ? effect : Effect.withClock(effect, clock)
  const accountOf = (account: string): Effect.Effect<C, ControlError> => {
    const control = sim.account(account)
    return control === undefined ? Effect.fail(unknownAccount(account, sim.accounts)) : Effect.succeed(control)
  }
  /** Runs `change` on the account and answers the changes it logged. */
  const logged = <A>(account: string, change: (control: C) => Effect.Effect<A, ControlError>) =>
    Effect.gen(function* () {
      const control = yield* accountOf(account)
      const before = sim.changes.last()
      yield* onClock(change(control))
      return sim.changes.entries({ since: before, account })
    })
  const shared = {
    app: sim.app,
    accounts: sim.accounts,
    changes: sim.changes,
    pulls: sim.pulls,
    now: onClock(ClockModule.currentTimeMillis)
  } satisfies Partial<PosSimulator>
  return { onClock, accountOf, logged, shared }
}
