/**
 * A Lightspeed store's connection settings (the adapter's part of a store's configuration).
 * Secrets are `Redacted` so they never reach a log line.
 */
import { DocumentKind } from "@posbridge/core"
import { Schema } from "effect"
import { ChangeField } from "./ChangeDetection.js"

export const defaults = {
  apiBaseUrl: "https://api.lightspeedapp.com",
  authBaseUrl: "https://cloud.lightspeedapp.com",
  pageLimit: 100,
  overlapSeconds: 120
} as const

export const LightspeedSettings = Schema.Struct({
  /** Lightspeed account id (the number in `/API/V3/Account/{accountID}`). */
  accountId: Schema.String.pipe(Schema.pattern(/^\d+$/, { message: () => "a Lightspeed account id is a number" })),
  clientId: Schema.String.pipe(Schema.minLength(1)),
  clientSecret: Schema.Redacted(Schema.String),
  /**
   * The refresh token from the first authorization. Refresh tokens rotate: once the adapter has refreshed, the
   * current one lives in the TokenVault and this value is only the fallback for a store never refreshed.
   */
  refreshToken: Schema.optionalWith(Schema.Redacted(Schema.String), { exact: true }),
  /** Optional cross-check of the store's document kind (invoices = Sales, orders = Quotes). */
  documentKind: Schema.optionalWith(DocumentKind.DocumentKind, { exact: true }),
  /** The API's origin: Lightspeed's, or a proxy's, or a simulator's (`posbridge simulate lightspeed`). */
  apiBaseUrl: Schema.optionalWith(Schema.String, { default: () => defaults.apiBaseUrl, exact: true }),
  /**
   * The origin of the OAuth authorize and token endpoints. When absent it follows `apiBaseUrl`: Lightspeed's own
   * (`cloud.lightspeedapp.com`) for Lightspeed's API, else the same origin as the API (a simulator serves both).
   * Read it with `authBaseUrl(settings)`.
   */
  authBaseUrl: Schema.optionalWith(Schema.String, { exact: true }),
  /** The field changes are detected by; see ChangeDetection.ts and the README before changing it. */
  changeField: Schema.optionalWith(ChangeField, { default: () => "updatetime" as const, exact: true }),
  /** Unconfirmed write: also set the ShipTo `shipped` flag and `shipNote` on write-back. */
  markShipTo: Schema.optionalWith(Schema.Boolean, { default: () => false, exact: true }),
  /** ISO 4217 currency of the account (Lightspeed does not put it on a Sale). */
  currency: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^[A-Z]{3}$/)), { exact: true }),
  /** Only Sales of these shops; all shops when absent. */
  shopIds: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  pageLimit: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), {
    default: () => defaults.pageLimit,
    exact: true
  }),
  /** How far back a resumed pull re-reads (POS clock skew, eventual consistency, same-second ties). */
  overlapSeconds: Schema.optionalWith(Schema.NonNegativeInt, { default: () => defaults.overlapSeconds, exact: true })
})
export type LightspeedSettings = typeof LightspeedSettings.Type
export type LightspeedSettingsEncoded = typeof LightspeedSettings.Encoded

export const decode = Schema.decodeUnknown(LightspeedSettings)

const origin = (url: string) => url.replace(/\/+$/, "")

/** Where the OAuth endpoints are: `authBaseUrl`, else Lightspeed's for Lightspeed's API, else the API's origin. */
export const authBaseUrl = (settings: Pick<LightspeedSettings, "apiBaseUrl" | "authBaseUrl">): string =>
  settings.authBaseUrl ??
  (origin(settings.apiBaseUrl) === defaults.apiBaseUrl ? defaults.authBaseUrl : origin(settings.apiBaseUrl))

/** TokenVault entry holding the current (rotated) refresh token. */
export const refreshTokenVaultKey = "lightspeed.refreshToken"
