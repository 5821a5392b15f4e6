/**
 * A Heartland store's connection settings (the `settings` object of a store whose adapter is `heartland`),
 * and the settings check `posbridge stores check` runs: pure validation plus the warnings a merchant must see.
 */

import type { StoreSettings } from "@posbridge/core"
import { Either, ParseResult, Redacted, Schema } from "effect"

const Subdomain = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/i, {
    message: () =>
      "a Heartland subdomain is the first part of your Heartland address, e.g. acme for acme.retail.heartland.us"
  })
)

const BaseUrl = Schema.String.pipe(
  Schema.filter((s) => /^https?:\/\/[^/\s]+/.test(s), {
    message: () => "expected the Heartland address such as https://acme.retail.heartland.us"
  })
)

export const WriteBack = Schema.Literal("custom-field", "none")
export type WriteBack = typeof WriteBack.Type

export const HeartlandSettings = Schema.Struct({
  /** `acme` for `https://acme.retail.heartland.us`. One of `subdomain` / `baseUrl` is required. */
  subdomain: Schema.optionalWith(Subdomain, { exact: true }),
  /** Full address, e.g. `https://acme.myspringboard.us` (legacy) or a simulator. Wins over `subdomain`. */
  baseUrl: Schema.optionalWith(BaseUrl, { exact: true }),
  /** A Heartland API token (Settings → API tokens), sent as `Authorization: Bearer …`. */
  apiToken: Schema.Redacted(Schema.String.pipe(Schema.minLength(1, { message: () => "the API token is empty" }))),
  /** What a pending/open Sales Order is in ShipStation: paid (ready to ship, the default) or unpaid. */
  openOrderStatus: Schema.optionalWith(Schema.Literal("paid", "unpaid"), { default: () => "paid", exact: true }),
  /** `custom-field` writes carrier/tracking into `trackingField` of the Sales Order; `none` only stores notices. */
  writeBack: Schema.optionalWith(WriteBack, { default: () => "custom-field", exact: true }),
  /** The order custom field (merchant-defined in Heartland) that receives tracking. */
  trackingField: Schema.optionalWith(
    Schema.String.pipe(
      Schema.pattern(/^[A-Za-z0-9_]{1,64}$/, { message: () => "a custom field key: letters, digits, _" })
    ),
    { default: () => "shipstation_tracking", exact: true }
  ),
  /** Results per list page (Heartland's `per_page`). */
  perPage: Schema.optionalWith(Schema.Int.pipe(Schema.between(2, 200)), { default: () => 100, exact: true })
}).pipe(
  Schema.filter((s) => s.subdomain !== undefined || s.baseUrl !== undefined, {
    message: () => "set either subdomain (e.g. acme) or baseUrl (e.g. https://acme.retail.heartland.us)"
  })
)
export type HeartlandSettings = typeof HeartlandSettings.Type
export type HeartlandSettingsEncoded = typeof HeartlandSettings.Encoded

/** The API root, without a trailing slash: requests go to `${baseUrl(settings)}/api/...`. */
export const baseUrl = (settings: HeartlandSettings): string =>
  (settings.baseUrl ?? `https://${settings.subdomain}.retail.heartland.us`).replace(/\/+$/, "")

/** Heartland invoices cannot be re-saved (POS-APIS.md), so a changed invoice never reaches ShipStation by itself. */
export const heartlandInvoicesWarning: StoreSettings.StoreWarning = {
  code: "heartland-invoices",
  message:
    "Heartland invoices cannot be re-saved, so a changed invoice is not sent to ShipStation again by itself: " +
    "refresh it from posbridge (touch), or send Sales Orders instead."
}

/**
 * Warnings that follow from the settings alone: the invoices warning for a Heartland store sending invoices.
 * This is the one place the warning is made; the server and the CLI show what the adapter descriptor returns.
 */
export const warnings = (
  store: Pick<StoreSettings.StoreSettings, "documentKind">
): ReadonlyArray<StoreSettings.StoreWarning> => (store.documentKind === "invoices" ? [heartlandInvoicesWarning] : [])

export interface CheckReport {
  readonly ok: boolean
  /** Present when the settings decode. */
  readonly settings?: HeartlandSettings | undefined
  /** Blocking problems, one sentence each. */
  readonly problems: ReadonlyArray<string>
  /** Non-blocking: the store syncs, but the merchant should know. */
  readonly warnings: ReadonlyArray<StoreSettings.StoreWarning>
}

/**
 * The settings check: decodes the adapter settings and lists problems and warnings. A store sending invoices is
 * valid (ok), with the invoices warning.
 */
export const check = (store: Pick<StoreSettings.StoreSettings, "documentKind" | "settings">): CheckReport => {
  const decoded = Schema.decodeUnknownEither(HeartlandSettings, { errors: "all" })(store.settings)
  const warned = warnings(store)
  return Either.match(decoded, {
    onLeft: (error) => ({
      ok: false,
      problems: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
        issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`
      ),
      warnings: warned
    }),
    onRight: (settings) => ({ ok: true, settings, problems: [], warnings: warned })
  })
}

/** Settings for tests and the demo. */
export const make = (input: {
  readonly baseUrl?: string
  readonly subdomain?: string
  readonly apiToken: string
  readonly openOrderStatus?: "paid" | "unpaid"
  readonly writeBack?: WriteBack
  readonly trackingField?: string
  readonly perPage?: number
}): HeartlandSettings =>
  Schema.decodeUnknownSync(HeartlandSettings)({ ...input, apiToken: input.apiToken }) as HeartlandSettings

/** The token, for the Authorization header only. */
export const token = (settings: HeartlandSettings): string => Redacted.value(settings.apiToken)
