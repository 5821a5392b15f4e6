/**
 * The in-memory `OrderStore`: every invariant of the port, no durability. It is the reference the SQL store
 * is tested against (the same contract suite runs on both) and the store of tests and the conformance
 * bridge.
 */
import { type Effect, Layer } from "effect"
import type { Options } from "./internal/memoryStore.js"
import * as internal from "./internal/memoryStore.js"
import { OrderStore, type OrderStoreService } from "./OrderStore.js"

export type { Options }

export const make: (options?: Options) => Effect.Effect<OrderStoreService> = internal.make

export const layer = (options: Options = {}): Layer.Layer<OrderStore> => Layer.effect(OrderStore, make(options))
