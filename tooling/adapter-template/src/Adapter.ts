/** The descriptor the server and `pnpm conformance` load: id, settings Schema and the PosSource layer. */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { AdapterDescriptor } from "@posbridge/core"
import { __NAME_PASCAL__Settings } from "./Settings.js"
import * as Source from "./Source.js"

export const adapter: AdapterDescriptor.AdapterDescriptor<__NAME_PASCAL__Settings, HttpClient.HttpClient> = {
  _tag: "PosbridgeAdapter",
  id: Source.adapterId,
  displayName: "__NAME__",
  settingsSchema: __NAME_PASCAL__Settings,
  overlapMillis: Source.overlapMillis,
  layer: (store, settings) => Source.layer(store, settings)
}
