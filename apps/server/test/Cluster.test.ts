/**
 * The embedded default (SQLite) runs every store as a cluster entity on a single runner: the same code path as
 * N replicas on PostgreSQL (Cluster.pg.test.ts), here with shards in memory and no socket.
 */
import * as fs from "node:fs"
import { createServer } from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { HttpServer } from "@effect/platform"
import { NodeFileSystem, NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import { configFor, env, eventually, simulator, sleep, startRunner, storeEntry } from "./support/Runners.js"

const basic = `Basic ${btoa(`admin:${env.ADMIN_PASSWORD}`)}`

const call = (url: string, method: "GET" | "POST" = "GET") =>
  Effect.promise(async () => {
    const r = await fetch(url, { method, headers: { authorization: basic } })
    return { status: r.status, body: await r.text() }
  })

describe("one runner on SQLite (the embedded default)", () => {
  it.scopedLive(
    "syncs every store through its entity, answers sync now and owners, and follows configuration changes",
    () =>
      Effect.gen(function* () {
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-cluster-"))),
          (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
        )
        const sim = yield* simulator(["a", "b", "c"])
        const file = {
          dataDir: dir,
          admin: { username: "admin", password: { env: "ADMIN_PASSWORD" } },
          // "down" reaches no POS account: it fails every run, and holds back neither start-up nor /readyz.
          stores: [storeEntry("a"), storeEntry("b"), storeEntry("c"), storeEntry("down", "no-such-account")]
        }
        const config = yield* configFor(file)
        const runner = yield* startRunner("only", config, sim)
        yield* Effect.addFinalizer(() => Scope.close(runner.scope, Exit.void))
        const http = yield* Layer.buildWithScope(
          HttpServer.serve(runner.routes).pipe(
            Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
          ),
          runner.scope
        )
        const address = Context.get(http, HttpServer.HttpServer).address
        const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""

        const pulled = (store: string) => sim.requests.filter((r) => r.store === store).length
        // Every store starts on its own, with no outside traffic (the activator brings its entity up).
        expect(yield* eventually(() => ["a", "b", "c"].every((s) => pulled(s) > 0), 15_000)).toBe(true)

        expect((yield* call(`${base}/readyz`)).status).toBe(200)
        const status = JSON.parse((yield* call(`${base}/admin/status`)).body) as {
          stores: ReadonlyArray<{ id: string; owner: string | null }>
        }
        expect(status.stores.map((s) => [s.id, s.owner])).toEqual([
          ["a", "localhost:34431"],
          ["b", "localhost:34431"],
          ["c", "localhost:34431"],
          ["down", "localhost:34431"]
        ])

        const before = pulled("a")
        const synced = yield* call(`${base}/admin/stores/a/sync`, "POST")
        expect(synced.status).toBe(200)
        expect(JSON.parse(synced.body)).toMatchObject({ storeId: "a", outcome: "succeeded" })
        expect(pulled("a")).toBeGreaterThan(before)

        // Store c removed, store b now reads account c: c's loop stops, b's restarts with its new settings.
        yield* runner.applyConfig(
          yield* configFor({
            ...file,
            stores: [storeEntry("a"), storeEntry("b", "c"), storeEntry("down", "no-such-account")]
          })
        )
        expect((yield* call(`${base}/admin/stores/c/sync`, "POST")).status).toBe(404)
        const cBefore = pulled("c")
        const bOnC = () => sim.requests.filter((r) => r.store === "b").length
        const bBefore = bOnC()
        const accountC = () => sim.sim.pulls.stats(Date.now(), "c").feeds.reduce((n, f) => n + f.pulls, 0)
        const cAccountBefore = accountC()
        yield* sleep(7_000)
        expect(pulled("c")).toBe(cBefore)
        expect(bOnC()).toBeGreaterThan(bBefore)
        // Account c is now read by store b only.
        expect(accountC()).toBeGreaterThan(cAccountBefore)
        expect(sim.sim.pulls.stats(Date.now()).overlaps).toBe(0)
      }).pipe(Effect.provide(NodeFileSystem.layer), Logger.withMinimumLogLevel(LogLevel.None)),
    40_000
  )
})
