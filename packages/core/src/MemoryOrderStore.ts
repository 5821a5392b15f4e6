/**
 * The in-memory `OrderStore`: every invariant of the port, no durability. It is the reference the SQL store
 * is tested against (the same contract suite runs on both) and the store of tests and the conformance
 * bridge.
 */
import { type Duration, type Effect, Layer } from "effect"
import * as internal from "./internal/memoryStore.js"
import { OrderStore, type OrderStoreService, type Options as StoreOptions } from "./OrderStore.js"

export interface Options extends StoreOptions {
  /**
   * Refresh calls older than this are dropped by `pruneSnapshots`, as store-sql drops them with its history.
   * Unset (the default): they are kept. The memory store's other history lives as long as the process.
   */
  readonly historyRetention?: Duration.DurationInput | undefined
}

export const make: (options?: Options) => Effect.Effect<OrderStoreService> = internal.make

export const layer = (options: Options = {}): Layer.Layer<OrderStore> => Layer.effect(OrderStore, make(options))
