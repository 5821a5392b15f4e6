/**
 * What a POS adapter package exports (as `adapter`): its id, the Schema of its settings and a Layer that
 * provides the store's PosSource. `R` is what the layer needs from the server (an HttpClient, the TokenVault).
 */
import type { Layer, Schema } from "effect"
import type { PosSource, PosSourceError } from "./PosSource.js"
import type { StoreSettings, StoreWarning } from "./StoreSettings.js"

// biome-ignore lint/suspicious/noExplicitAny: adapters are loaded at run time; the server narrows R to what it provides
export interface AdapterDescriptor<Settings = any, R = any> {
  readonly _tag: "PosbridgeAdapter"
  readonly id: string
  readonly displayName: string
  // biome-ignore lint/suspicious/noExplicitAny: the encoded form of settings is the adapter's business
  readonly settingsSchema: Schema.Schema<Settings, any>
  /** How far back a resumed pull re-reads, to absorb POS clock skew and eventual consistency. */
  readonly overlapMillis: number
  readonly layer: (store: StoreSettings, settings: Settings) => Layer.Layer<PosSource, PosSourceError, R>
  readonly warnings?: (store: StoreSettings, settings: Settings) => ReadonlyArray<StoreWarning>
}

export const isAdapterDescriptor = (u: unknown): u is AdapterDescriptor =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "PosbridgeAdapter"
