/**
 * The engine's service: the running set of stores (one supervised fiber each, in a FiberMap keyed by store
 * id), kept equal to the configuration by `setStores`, plus "sync now", statuses and progress streams.
 */
import { OrderStore, StoreDirectory } from "@posbridge/core"
import { Deferred, Effect, FiberMap, Option, Queue, Ref, Stream, SubscriptionRef } from "effect"
import type * as SyncStatus from "../SyncStatus.js"
import { fingerprint, type Options, type StoreSpec, tuning as withDefaults } from "./options.js"
import * as Runner from "./runner.js"

export const make = (options: Options) =>
  Effect.gen(function* () {
    const store = yield* OrderStore.OrderStore
    const tuning = withDefaults(options)
    const permits = yield* Effect.makeSemaphore(tuning.maxConcurrentPulls)
    const shared: Runner.Shared = { store, permits, tuning }
    const fibers = yield* FiberMap.make<string>()
    const runners = yield* Ref.make(new Map<string, Runner.Runner>())
    // setStores calls are serialized so two diffs never interleave.
    const setLock = yield* Effect.makeSemaphore(1)

    const startRunner = (spec: StoreSpec, interval: number, lookback: number, previous: Option.Option<Runner.Runner>) =>
      Effect.gen(function* () {
        const runner = yield* Runner.make(spec, interval, lookback, previous)
        yield* Ref.update(runners, (map) => new Map(map).set(spec.settings.id, runner))
        yield* FiberMap.run(fibers, spec.settings.id, Runner.loop(shared, runner, interval, lookback))
      })

    const getRunner = (storeId: string) =>
      Effect.flatMap(Ref.get(runners), (map) => {
        const runner = map.get(storeId)
        return runner === undefined ? Effect.fail(new StoreDirectory.UnknownStore({ storeId })) : Effect.succeed(runner)
      })

    const setStores = Effect.fn("SyncEngine.setStores")(function* (specs: ReadonlyArray<StoreSpec>) {
      const current = yield* Ref.get(runners)
      const wanted = new Map(specs.map((spec) => [spec.settings.id as string, spec]))
      for (const [storeId, runner] of current) {
        if (!wanted.has(storeId)) {
          yield* FiberMap.remove(fibers, storeId)
          yield* Ref.update(runners, (map) => {
            const next = new Map(map)
            next.delete(storeId)
            return next
          })
          yield* Deferred.await(runner.stopped)
          yield* Effect.logInfo(`store ${storeId} removed: sync stopped`)
        }
      }
      for (const [storeId, spec] of wanted) {
        const interval = spec.intervalMillis ?? tuning.defaultInterval
        const lookback = spec.lookbackDays ?? tuning.defaultLookback
        const existing = Option.fromNullable(current.get(storeId))
        if (Option.isSome(existing) && existing.value.fingerprint === fingerprint(spec, interval, lookback)) continue
        if (Option.isSome(existing)) {
          yield* FiberMap.remove(fibers, storeId)
          yield* Deferred.await(existing.value.stopped)
        }
        yield* startRunner(spec, interval, lookback, existing)
        yield* Effect.logInfo(
          `store ${storeId} ${Option.isSome(existing) ? "changed: sync restarted" : "added: sync started"}`
        )
      }
    }, setLock.withPermits(1))

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

    return { setStores, syncNow, status, statuses, progress }
  })
