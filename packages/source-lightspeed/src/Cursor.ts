/**
 * The pull cursor posbridge stores for a Lightspeed store: the query field and the greatest value of it among
 * committed documents. A resumed pull re-reads from `at - overlap` with `>=`, so Sales sharing that second, late
 * writes and small POS clock skew are read again (RefreshRule turns the re-reads into "unchanged"), never skipped.
 */
import { type DateTime, Either, Schema } from "effect"
import { ChangeField } from "./ChangeDetection.js"

export const Cursor = Schema.Struct({
  v: Schema.Literal(1),
  field: ChangeField,
  at: Schema.DateTimeUtc
})
export type Cursor = typeof Cursor.Type

const json = Schema.parseJson(Cursor)

export const encode = (cursor: Cursor): string => Schema.encodeSync(json)(cursor)

export const decode = (text: string): Either.Either<Cursor, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(json)(text), () => `unreadable Lightspeed cursor: ${text.slice(0, 80)}`)

export const make = (field: ChangeField, at: DateTime.Utc): Cursor => ({ v: 1, field, at })
