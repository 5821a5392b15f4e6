/**
 * Two runners in one process on one PostgreSQL database, each the real server composition with its own runner
 * port: every store is pulled by exactly one of them, "sync now" sent to either reaches the owner, and when one
 * runner stops the other takes its stores. (Three server processes and SIGKILL: tooling/e2e.)
 */
import { NodeFileSystem } from "@effect/platform-node"
import { expect, it } from "@effect/vitest"
import { StoreEntity } from "@posbridge/sync"
import { DateTime, Effect, Exit, Logger, LogLevel, Option, Scope } from "effect"
import { pgDatabase, withPostgres } from "../../../packages/store-sql/test/support/Databases.js"
import { configFor, eventually, freePort, simulator, sleep, startRunner, storeEntry } from "./support/Runners.js"

const storeIds = Array.from({ length: 16 }, (_, i) => `s${i + 1}`)

/** Store → the runners that sent it a request at or after `from` (and before `to`). */
const pullersOf = (
  requests: ReadonlyArray<{ runner: string; store: string; at: number }>,
  from: number,
  to = Infinity
) => {
  const by = new Map<string, Set<string>>(storeIds.map((s) => [s, new Set()]))
  for (const r of requests) if (r.at >= from && r.at < to) by.get(r.store)?.add(r.runner)
  return by
}

await withPostgres(() => {
  it.scopedLive(
    "each store is synced by exactly one runner, sync now reaches its owner, and a stopped runner's stores move",
    () =>
      Effect.gen(function* () {
        const { url } = yield* pgDatabase
        const sim = yield* simulator(storeIds)
        const [portA, portB] = [yield* freePort, yield* freePort]
        const file = (runnerPort: number) => ({
          database: { engine: "postgres", url: { env: "DB_URL" } },
          cluster: { runnerHost: "127.0.0.1", runnerPort },
          stores: storeIds.map((id) => storeEntry(id))
        })
        // Both start together on a new database (the cluster's tables are created under a lock).
        const [a, b] = yield* Effect.all(
          [
            Effect.flatMap(configFor(file(portA), { DB_URL: url }), (c) => startRunner("A", c, sim)),
            Effect.flatMap(configFor(file(portB), { DB_URL: url }), (c) => startRunner("B", c, sim))
          ],
          { concurrency: 2 }
        )
        yield* Effect.addFinalizer(() => Effect.all([Scope.close(b.scope, Exit.void), Scope.close(a.scope, Exit.void)]))

        // Settle (shards spread over both runners), then watch a few sync intervals.
        expect(yield* eventually(() => storeIds.every((s) => sim.requests.some((r) => r.store === s)), 30_000)).toBe(
          true
        )
        yield* sleep(4_000)
        const t0 = Date.now()
        yield* sleep(11_000)
        const owners = pullersOf(sim.requests, t0)
        for (const [store, runners] of owners) expect([store, runners.size]).toEqual([store, 1])
        const ofA = storeIds.filter((s) => owners.get(s)?.has("A"))
        const ofB = storeIds.filter((s) => owners.get(s)?.has("B"))
        expect(ofA.length).toBeGreaterThan(0)
        expect(ofB.length).toBeGreaterThan(0)

        // "Sync now" and "who owns it" asked on B for a store of A are answered by A.
        const clientOnB = yield* StoreEntity.client.pipe(Effect.provide(b.context))
        const target = ofA[0]!
        const result = yield* clientOnB.syncNow(target)
        expect(result.outcome).toBe("succeeded")
        // The run answered (which may be one already in progress: sync now joins it) pulled from A.
        const [from, to] = [DateTime.toEpochMillis(result.startedAt), DateTime.toEpochMillis(result.finishedAt)]
        const during = sim.requests.filter((r) => r.store === target && r.at >= from && r.at <= to)
        expect(during.length).toBeGreaterThan(0)
        expect(new Set(during.map((r) => r.runner))).toEqual(new Set(["A"]))
        expect(yield* clientOnB.ownerOf(target)).toEqual(Option.some(`127.0.0.1:${portA}`))

        // A stops: its stores resume on B from their committed cursors.
        const stoppedAt = Date.now()
        yield* Scope.close(a.scope, Exit.void)
        const takenOver = () =>
          ofA.every((s) => sim.requests.some((r) => r.store === s && r.runner === "B" && r.at >= stoppedAt))
        expect(yield* eventually(takenOver, 30_000)).toBe(true)
        const handover = Math.max(
          ...ofA.map(
            (s) => sim.requests.find((r) => r.store === s && r.runner === "B" && r.at >= stoppedAt)!.at - stoppedAt
          )
        )
        console.info(`runner A stopped: its ${ofA.length} stores resumed on B after at most ${handover} ms`)
        expect(handover).toBeLessThan(15_000)
        expect(yield* clientOnB.ownerOf(target)).toEqual(Option.some(`127.0.0.1:${portB}`))
        // Never two pulls of one store at once, over the whole test (the simulator's own count).
        expect(sim.sim.pulls.stats(Date.now()).overlaps).toBe(0)
      }).pipe(Effect.provide(NodeFileSystem.layer), Logger.withMinimumLogLevel(LogLevel.None)),
    120_000
  )
})
