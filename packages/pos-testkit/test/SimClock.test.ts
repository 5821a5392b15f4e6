import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Fiber, Option, TestClock } from "effect"
import { SimClock } from "../src/index.js"

describe("SimClock", () => {
  it.effect("at scale 60 one real second is one simulated minute, from the given start", () =>
    Effect.gen(function* () {
      expect(DateTime.formatIso(yield* SimClock.now)).toBe("2024-03-01T10:00:00.000Z")
      yield* TestClock.adjust("1 second")
      expect(DateTime.formatIso(yield* SimClock.now)).toBe("2024-03-01T10:01:00.000Z")
      yield* TestClock.adjust("29 seconds")
      expect(DateTime.formatIso(yield* SimClock.now)).toBe("2024-03-01T10:30:00.000Z")
    }).pipe(Effect.provide(SimClock.SimClock.layer({ scale: 60, start: "2024-03-01T10:00:00Z" })))
  )

  it.effect("sleeping 10 simulated minutes takes 10 real seconds at scale 60", () =>
    Effect.gen(function* () {
      const sleeper = yield* Effect.fork(SimClock.sleep("10 minutes"))
      yield* TestClock.adjust("9 seconds")
      expect(Option.isNone(yield* Fiber.poll(sleeper))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(sleeper)
      expect(DateTime.formatIso(yield* SimClock.now)).toBe("2024-03-01T10:10:00.000Z")
    }).pipe(Effect.provide(SimClock.SimClock.layer({ scale: 60, start: "2024-03-01T10:00:00Z" })))
  )
})
