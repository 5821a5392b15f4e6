/** A configured store: which POS, which documents, how ShipStation reaches it. */
import { DateTime, Either, Schema } from "effect"
import { DocumentKind } from "./DocumentKind.js"
import { StoreId } from "./StoreId.js"

/** How ShipStation's `start_date`/`end_date` are read: UTC (documented) or an IANA zone override. */
export const TimeInterpretation = Schema.String.pipe(
  Schema.filter((s) => s === "utc" || Either.isRight(Either.try(() => DateTime.zoneUnsafeMakeNamed(s))), {
    message: () => 'expected "utc" or an IANA time zone such as "America/Los_Angeles"'
  })
)

export const ShipStationCredentials = Schema.Struct({
  username: Schema.String.pipe(Schema.minLength(1)),
  password: Schema.Redacted(Schema.String.pipe(Schema.minLength(1)))
})
export type ShipStationCredentials = typeof ShipStationCredentials.Type

export const StoreSettings = Schema.Struct({
  id: StoreId,
  /** Adapter id (`lightspeed`, `heartland`) or the package name of an external adapter. */
  adapter: Schema.String.pipe(Schema.minLength(1)),
  documentKind: DocumentKind,
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 500)), { default: () => 100, exact: true }),
  timeZone: Schema.optionalWith(TimeInterpretation, { default: () => "utc", exact: true }),
  shipstation: ShipStationCredentials,
  /** The adapter's own settings, decoded with the adapter's Schema. */
  settings: Schema.optionalWith(Schema.Unknown, { default: () => ({}), exact: true })
})
export type StoreSettings = typeof StoreSettings.Type

export interface StoreWarning {
  readonly code: "heartland-invoices" | "shipstation-clock"
  readonly message: string
}
