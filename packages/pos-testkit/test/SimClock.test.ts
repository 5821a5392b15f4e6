import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Fiber, Option, TestClock } from "effect"
import { SimClock } from "../src/index.js"

const start = Date.parse("2024-03-01T10:00:00Z")
const iso = (clock: SimClock.SimClock) => DateTime.formatIso(DateTime.unsafeMake(clock.now))

/** A clock at `scale` over the test's TestClock, so `TestClock.adjust` is the passing of base time. */
const overTestClock = (options: SimClock.Options) =>
  Effect.map(Effect.clock, (base) => SimClock.make({ start, base, ...options }))

describe("SimClock", () => {
  it.effect("at scale 60 one base second is one simulated minute, from the given start", () =>
    Effect.gen(function* () {
      const clock = yield* overTestClock({ scale: 60 })
      expect(iso(clock)).toBe("2024-03-01T10:00:00.000Z")
      yield* TestClock.adjust("1 second")
      expect(iso(clock)).toBe("2024-03-01T10:01:00.000Z")
      yield* TestClock.adjust("29 seconds")
      expect(iso(clock)).toBe("2024-03-01T10:30:00.000Z")
      expect(yield* Effect.withClock(Effect.map(DateTime.now, DateTime.formatIso), clock)).toBe(
        "2024-03-01T10:30:00.000Z"
      )
    })
  )

  it.effect("sleeping 10 simulated minutes takes 10 base seconds at scale 60", () =>
    Effect.gen(function* () {
      const clock = yield* overTestClock({ scale: 60 })
      const sleeper = yield* Effect.fork(Effect.withClock(Effect.sleep("10 minutes"), clock))
      yield* TestClock.adjust("9 seconds")
      expect(Option.isNone(yield* Fiber.poll(sleeper))).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(sleeper)
      expect(iso(clock)).toBe("2024-03-01T10:10:00.000Z")
    })
  )

  it.effect("a clock that stands still moves only when set or jumped, and its base sleeps still take base time", () =>
    Effect.gen(function* () {
      const clock = yield* overTestClock({ scale: 0, sleeps: "base" })
      const timeout = yield* Effect.fork(Effect.withClock(Effect.sleep("5 seconds"), clock))
      yield* TestClock.adjust("1 hour")
      expect(iso(clock)).toBe("2024-03-01T10:00:00.000Z")
      yield* Fiber.join(timeout)
      clock.jump(90_000)
      expect(iso(clock)).toBe("2024-03-01T10:01:30.000Z")
      clock.set(Date.parse("2024-06-03T09:00:00Z"))
      expect(iso(clock)).toBe("2024-06-03T09:00:00.000Z")
    })
  )

  it.effect("advance wakes virtual sleepers at their own instants, in order, and lets each run before the next", () =>
    Effect.gen(function* () {
      const clock = SimClock.make({ start, scale: 0 })
      const woke: Array<string> = []
      const sleeper = (name: string, millis: number) =>
        Effect.fork(
          Effect.withClock(
            Effect.flatMap(Effect.sleep(millis), () => Effect.sync(() => woke.push(`${name}@${clock.now - start}`))),
            clock
          )
        )
      yield* sleeper("late", 30_000)
      yield* sleeper("early", 10_000)
      yield* sleeper("never", 120_000)
      yield* clock.settle
      yield* clock.advance(60_000)
      expect(woke).toEqual(["early@10000", "late@30000"])
      expect(clock.now - start).toBe(60_000)
    })
  )

  it.effect("a fiber that sleeps in a loop is woken once per interval, each interval measured exactly", () =>
    Effect.gen(function* () {
      const clock = SimClock.make({ start, scale: 0 })
      const ticks: Array<number> = []
      yield* Effect.fork(
        Effect.withClock(
          Effect.forever(
            Effect.zipRight(
              Effect.sleep("1 minute"),
              Effect.flatMap(
                Effect.clockWith((c) => c.currentTimeMillis),
                (at) => Effect.sync(() => ticks.push(at))
              )
            )
          ),
          clock
        )
      )
      yield* clock.advance(5 * 60_000)
      expect(ticks.map((t) => t - start)).toEqual([60_000, 120_000, 180_000, 240_000, 300_000])
    })
  )

  it.live("an event-loop settle lets a woken fiber finish work that awaits real promises", () =>
    Effect.gen(function* () {
      const clock = SimClock.make({ start, scale: 0, settle: "event-loop" })
      let done = 0
      // A long promise chain, as reading a web Response body is: it resolves outside Effect's scheduler.
      const promised = Effect.promise(async () => {
        for (let i = 0; i < 1_000; i++) await null
      })
      yield* Effect.fork(
        Effect.withClock(
          Effect.all([Effect.sleep("1 second"), promised, Effect.clockWith((c) => c.currentTimeMillis)]).pipe(
            Effect.zipRight(Effect.sync(() => done++))
          ),
          clock
        )
      )
      yield* clock.advance(1_000)
      expect(done).toBe(1)
    })
  )

  it.effect("as a layer it is the Clock of everything built on it", () =>
    Effect.gen(function* () {
      const now = yield* Effect.map(DateTime.now, DateTime.formatIso).pipe(
        Effect.provide(SimClock.layer({ start, scale: 0 }))
      )
      expect(now).toBe("2024-03-01T10:00:00.000Z")
    })
  )

  it("refuses a negative or infinite scale", () => {
    expect(() => SimClock.make({ scale: -1 })).toThrow("scale must be a number ≥ 0")
    expect(() => SimClock.make({ scale: Number.POSITIVE_INFINITY })).toThrow("scale must be a number ≥ 0")
  })
})
