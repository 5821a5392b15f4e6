/**
 * The engine's service: the configured stores (`setStores`) and the running set (a Runner each: plain state, an
 * alarm in the engine's one timer, and a fiber in a FiberMap keyed by store id only while a run is in progress),
 * plus "sync now", statuses and progress streams. A store runs when it is
 * configured and — with `onlyHeld` — held by its owner (`hold`, called from the store's cluster entity for as
 * long as this process owns the store's shard).
 */
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { Deferred, Effect, FiberMap, Option, Ref, Stream, SubscriptionRef } from "effect"
import * as Alarms from "./alarms.js"
import { fingerprint, type Options, type StoreSpec, tuning as withDefaults } from "./options.js"
import * as Permits from "./permits.js"
import * as Runner from "./runner.js"

const always = Effect.succeed(true)

export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const tuning = withDefaults(options)
    const permits = yield* Permits.make(tuning.maxConcurrentPulls)
    const listeners = yield* Ref.make<ReadonlyArray<Runner.AfterRun>>([])
    const alarms = yield* Alarms.make
    const fibers = yield* FiberMap.make<string>()
    const shared: Runner.Shared = { store, permits, tuning, listeners, alarms, fibers }
    const runners = yield* Ref.make(new Map<string, Runner.Runner>())
    // The configured stores, and the stores held here with their "do I still own it" check.
    const specs = yield* Ref.make(new Map<string, StoreSpec>())
    const held = yield* Ref.make(new Map<string, Effect.Effect<boolean>>())
    // When the engine closes every store stops as if removed: callers waiting on a requested run are released.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Ref.get(runners), (map) => Effect.forEach(map.values(), (r) => Runner.stop(shared, r)))
    )
    // Changes to the running set are serialized so two diffs never interleave.
    const lock = yield* Effect.makeSemaphore(1)

    const forget = (storeId: string) =>
      Ref.update(runners, (map) => {
        const next = new Map(map)
        next.delete(storeId)
        return next
      })

    /** Makes the store's loop match what is wanted: running with its current spec, or stopped. */
    const reconcile = (storeId: string) =>
      Effect.gen(function* () {
        const spec = (yield* Ref.get(specs)).get(storeId)
        const owns = options.onlyHeld ? (yield* Ref.get(held)).get(storeId) : always
        const existing = Option.fromNullable((yield* Ref.get(runners)).get(storeId))
        if (spec === undefined || owns === undefined) {
          if (Option.isNone(existing)) return
          yield* forget(storeId)
          yield* Runner.stop(shared, existing.value)
          yield* Effect.logInfo(`store ${storeId} ${spec === undefined ? "removed" : "released"}: sync stopped`)
          return
        }
        const interval = spec.intervalMillis ?? tuning.defaultInterval
        const lookback = spec.lookbackDays ?? tuning.defaultLookback
        if (Option.isSome(existing) && existing.value.fingerprint === fingerprint(spec, interval, lookback)) return
        if (Option.isSome(existing)) yield* Runner.stop(shared, existing.value)
        const runner = yield* Runner.make(spec, interval, lookback, existing, owns)
        yield* Ref.update(runners, (map) => new Map(map).set(storeId, runner))
        yield* Runner.begin(shared, runner)
        yield* Effect.logInfo(
          `store ${storeId} ${Option.isSome(existing) ? "changed: sync restarted" : "added: sync started"}`
        )
      })

    const getRunner = (storeId: string) =>
      Effect.flatMap(Ref.get(runners), (map) => {
        const runner = map.get(storeId)
        return runner === undefined ? Effect.fail(new StoreDirectory.UnknownStore({ storeId })) : Effect.succeed(runner)
      })

    const setStores = Effect.fn("SyncEngine.setStores")(function* (wanted: ReadonlyArray<StoreSpec>) {
      const before = yield* Ref.get(specs)
      const next = new Map(wanted.map((spec) => [spec.settings.id as string, spec]))
      yield* Ref.set(specs, next)
      // Removed stores first, then the wanted ones in configuration order.
      for (const storeId of before.keys()) if (!next.has(storeId)) yield* reconcile(storeId)
      for (const storeId of next.keys()) yield* reconcile(storeId)
    }, lock.withPermits(1))

    const hold = (storeId: string, owns: Effect.Effect<boolean>) =>
      Effect.acquireRelease(
        lock.withPermits(1)(
          Effect.zipRight(
            Ref.update(held, (map) => new Map(map).set(storeId, owns)),
            reconcile(storeId)
          )
        ),
        () =>
          lock.withPermits(1)(
            Effect.zipRight(
              Ref.update(held, (map) => {
                const next = new Map(map)
                next.delete(storeId)
                return next
              }),
              reconcile(storeId)
            )
          )
      ).pipe(Effect.asVoid)

    const isHeld = (storeId: string) => Effect.map(Ref.get(held), (map) => map.has(storeId))

    const syncNow = Effect.fn("SyncEngine.syncNow")(function* (storeId: string) {
      return yield* Runner.request(shared, yield* getRunner(storeId))
    })

    const status = (storeId: string) =>
      Effect.flatMap(getRunner(storeId), (runner) => SubscriptionRef.get(runner.status))

    const statuses = Effect.flatMap(Ref.get(runners), (map) =>
      Effect.forEach([...map.values()], (runner) => SubscriptionRef.get(runner.status))
    )

    const progress = (storeId: string) =>
      Stream.unwrap(
        Effect.gen(function* () {
          const runner = yield* getRunner(storeId)
          const s = yield* SubscriptionRef.get(runner.status)
          const firstRun = s.state === "running" ? s.runs : s.runs + 1
          return runner.status.changes.pipe(
            Stream.filterMap((status) => Option.filter(status.progress, (p) => p.run >= firstRun)),
            Stream.changes,
            Stream.takeUntil((p) => p.done),
            Stream.interruptWhen(Deferred.await(runner.stopped))
          )
        })
      )

    const afterEachRun = (listener: Runner.AfterRun) =>
      Effect.acquireRelease(
        Ref.update(listeners, (all) => [...all, listener]),
        () => Ref.update(listeners, (all) => all.filter((l) => l !== listener))
      )

    return { setStores, hold, isHeld, syncNow, status, statuses, progress, afterEachRun }
  })
