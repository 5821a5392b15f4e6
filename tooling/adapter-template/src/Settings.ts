/** The store's connection settings for __NAME__. Secrets are Redacted so they never reach a log line. */
import { Schema } from "effect"

export const __NAME_PASCAL__Settings = Schema.Struct({
  /** The POS API root, e.g. https://api.example-pos.com */
  baseUrl: Schema.String.pipe(Schema.pattern(/^https?:\/\//, { message: () => "expected an http(s) address" })),
  apiToken: Schema.Redacted(Schema.String.pipe(Schema.minLength(1)))
})
export type __NAME_PASCAL__Settings = typeof __NAME_PASCAL__Settings.Type
