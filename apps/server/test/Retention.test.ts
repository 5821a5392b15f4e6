/**
 * The server's order store prunes history on the configured `historyRetentionDays` (Server.start runs the prune
 * every 10 minutes): the poll log of a poll older than that is gone, a recent one stays.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, OrderWindow } from "@posbridge/core"
import { Context, DateTime, Effect, Layer, TestClock } from "effect"
import * as Config from "../src/Config.js"
import * as Server from "../src/Server.js"

const day = 86_400_000
const t0 = Date.UTC(2026, 0, 5, 12, 0, 0)

const configured = (historyRetentionDays: number) =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-retention-"))),
      (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
    )
    const file = yield* Config.decodeFile(JSON.stringify({ historyRetentionDays, stores: [] }), "test.json")
    return yield* Config.resolve(file, "test.json", {}, dir).pipe(Effect.provide(NodeFileSystem.layer))
  })

describe("the server's history retention", () => {
  it.scoped("drops the poll log older than historyRetentionDays and keeps the rest", () =>
    Effect.gen(function* () {
      const config = yield* configured(7)
      const store = Context.get(yield* Layer.build(Server.orderStoreLayer(config)), OrderStore.OrderStore)
      const poll = (at: number) =>
        Effect.zipRight(
          TestClock.setTime(at),
          store.exportPage({
            storeId: "shop",
            window: OrderWindow.make(DateTime.unsafeMake(at - 60_000), DateTime.unsafeMake(at - 1)),
            page: 1,
            pageSize: 100
          })
        )
      yield* poll(t0)
      yield* poll(t0 + 5 * day)
      yield* TestClock.setTime(t0 + 10 * day)
      yield* store.pruneSnapshots
      const left = yield* store.polls("shop", 0)
      expect(left.map((p) => DateTime.toEpochMillis(p.at))).toEqual([t0 + 5 * day])
    })
  )
})
