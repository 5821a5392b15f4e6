/**
 * The Heartland pull cursor, stored by posbridge as an opaque string: the latest `updated_at` emitted and the
 * ids emitted at exactly that instant. Everything updated before `at` has been emitted; a resumed pull re-reads
 * from `at` minus the overlap, so late writes stamped slightly in the past are still seen, and skips only the
 * listed (id, `at`) versions, so ties at the boundary are never lost.
 */
import { DateTime, Either, Option, Schema } from "effect"

export const Cursor = Schema.Struct({
  v: Schema.Literal(1),
  /** ISO instant, UTC. */
  at: Schema.String,
  ids: Schema.Array(Schema.String)
})
export type Cursor = typeof Cursor.Type

export interface Position {
  readonly at: DateTime.Utc
  readonly ids: ReadonlySet<string>
}

export const encode = (position: Position): string =>
  JSON.stringify({ v: 1, at: DateTime.formatIso(position.at), ids: [...position.ids].sort() } satisfies Cursor)

/** `None` for an unreadable cursor (the caller reports it as a config error rather than silently restarting). */
export const decode = (text: string): Option.Option<Position> =>
  Either.try(() => JSON.parse(text)).pipe(
    Either.flatMap((json) => Schema.decodeUnknownEither(Cursor)(json)),
    Either.getRight,
    Option.flatMap((c) => Option.map(DateTime.make(c.at), (at) => ({ at, ids: new Set(c.ids) })))
  )
