/** The descriptor the server loads: id `lightspeed`, its settings Schema and the PosSource layer. */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { AdapterDescriptor, TokenVault } from "@posbridge/core"
import * as LightspeedSource from "./LightspeedSource.js"
import { defaults, LightspeedSettings } from "./Settings.js"

export const adapter: AdapterDescriptor.AdapterDescriptor<
  LightspeedSettings,
  HttpClient.HttpClient | TokenVault.TokenVault
> = {
  _tag: "PosbridgeAdapter",
  id: LightspeedSource.adapterId,
  displayName: "Lightspeed Retail (R-Series)",
  settingsSchema: LightspeedSettings,
  // Informational: the adapter applies its own `overlapSeconds` when it resumes from a cursor.
  overlapMillis: defaults.overlapSeconds * 1000,
  layer: (store, settings) => LightspeedSource.layer(store, settings),
  warnings: () => []
}
