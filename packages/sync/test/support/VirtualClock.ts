/**
 * The engine tests' time: pos-testkit's `SimClock` standing still at 2025-03-01T12:00Z with virtual sleeps, so
 * time moves only through `clock.advance` and cadence measurements are exact, and a seeded `Random`. Tests whose
 * fibers also await real promises (an adapter talking to a simulator in-process) settle on the event loop.
 */
import { SimClock } from "@posbridge/pos-testkit"
import { Effect, Random } from "effect"
import * as SyncEngine from "../../src/SyncEngine.js"
import { engineWithMemory } from "./Harness.js"

export interface Options {
  readonly seed?: number
  readonly settle?: SimClock.Settle
}

export const withVirtualClock = <A, E, R>(
  body: (clock: SimClock.SimClock) => Effect.Effect<A, E, R>,
  options: Options = {}
): Effect.Effect<A, E, R> => {
  const clock = SimClock.make({ start: Date.UTC(2025, 2, 1, 12, 0, 0), scale: 0, settle: options.settle })
  return body(clock).pipe(Effect.withClock(clock), Effect.withRandom(Random.make(options.seed ?? 42)))
}

/** `body` with a SyncEngine over the memory store (both provided), on the virtual clock. */
export const withEngine = <A, E, R>(
  body: (engine: SyncEngine.SyncEngineService, clock: SimClock.SimClock) => Effect.Effect<A, E, R>,
  options: Options = {}
) =>
  withVirtualClock(
    (clock) =>
      Effect.flatMap(SyncEngine.SyncEngine, (engine) => body(engine, clock)).pipe(Effect.provide(engineWithMemory())),
    options
  )
