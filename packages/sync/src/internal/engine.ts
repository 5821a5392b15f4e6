/**
 * The engine's service: the configured stores (`setStores`) and the running set (one supervised fiber each, in
 * a FiberMap keyed by store id), plus "sync now", statuses and progress streams. A store runs when it is
 * configured and — with `onlyHeld` — held by its owner (`hold`, called from the store's cluster entity for as
 * long as this process owns the store's shard).
 */
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { Deferred, Effect, FiberMap, Option, Queue, Ref, Stream, SubscriptionRef } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
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
    const shared: Runner.Shared = { store, permits, tuning, listeners }
    const fibers = yield* FiberMap.make<string>()
    const runners = yield* Ref.make(new Map<string, Runner.Runner>())
    // The configured stores, and the stores held here with their "do I still own it" check.
    const specs = yield* Ref.make(new Map<string, StoreSpec>())
    const held = yield* Ref.make(new Map<string, Effect.Effect<boolean>>())
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
          yield* FiberMap.remove(fibers, storeId)
          yield* forget(storeId)
          yield* Deferred.await(existing.value.stopped)
          yield* Effect.logInfo(`store ${storeId} ${spec === undefined ? "removed" : "released"}: sync stopped`)
          return
        }
        const interval = spec.intervalMillis ?? tuning.defaultInterval
        const lookback = spec.lookbackDays ?? tuning.defaultLookback
        if (Option.isSome(existing) && existing.value.fingerprint === fingerprint(spec, interval, lookback)) return
        if (Option.isSome(existing)) {
          yield* FiberMap.remove(fibers, storeId)
          yield* Deferred.await(existing.value.stopped)
        }
        const runner = yield* Runner.make(spec, interval, lookback, existing, owns)
        yield* Ref.update(runners, (map) => new Map(map).set(storeId, runner))
        yield* FiberMap.run(fibers, storeId, Runner.loop(shared, runner, interval, lookback))
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
      const runner = yield* getRunner(storeId)
      const fresh = yield* Deferred.make<SyncStatus.RunResult>()
      const target = yield* Ref.modify(
        runner.coalesce,
        (c): [Deferred.Deferred<SyncStatus.RunResult>, Runner.Coalesce] =>
          Option.isSome(c.current)
            ? [c.current.value, c]
            : Option.isSome(c.pending)
              ? [c.pending.value, c]
              : [fresh, { ...c, pending: Option.some(fresh) }]
      )
      if (target === fresh) yield* Queue.offer(runner.wake, undefined)
      return yield* Deferred.await(target)
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
