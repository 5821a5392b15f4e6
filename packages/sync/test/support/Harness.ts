import { MemoryOrderStore } from "@posbridge/core"
import { Clock, DateTime, Effect, Layer } from "effect"
import * as SyncEngine from "../../src/SyncEngine.js"

export const engineWithMemory = (options: SyncEngine.Options = {}) =>
  Layer.provideMerge(SyncEngine.layer(options), MemoryOrderStore.layer())

export const nowUtc = Effect.map(Clock.currentTimeMillis, (m) => DateTime.unsafeMake(m))
