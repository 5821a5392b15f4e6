/**
 * The descriptor the server loads: id `heartland`, the settings Schema, the PosSource layer and the settings
 * warnings (Heartland invoices cannot be re-saved).
 */
import type { HttpClient } from "@effect/platform"
import type { AdapterDescriptor } from "@posbridge/core"
import * as HeartlandSource from "./HeartlandSource.js"
import * as Settings from "./Settings.js"

export const adapter: AdapterDescriptor.AdapterDescriptor<Settings.HeartlandSettings, HttpClient.HttpClient> = {
  _tag: "PosbridgeAdapter",
  id: "heartland",
  displayName: "Heartland Retail",
  settingsSchema: Settings.HeartlandSettings,
  overlapMillis: HeartlandSource.defaultOverlapMillis,
  layer: (store, settings) => HeartlandSource.layer(store, settings),
  warnings: (store) => Settings.warnings(store)
}
