import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { OrderStore, type StoreSettings } from "@posbridge/core"
import { adapter as heartland } from "@posbridge/source-heartland"
import { Effect, Either, Layer, Option } from "effect"
import * as AdapterRegistry from "../src/AdapterRegistry.js"
import * as SyncEngine from "../src/SyncEngine.js"
import { settings } from "./support/FakePos.js"
import { engineWithMemory } from "./support/Harness.js"
import { withVirtualClock } from "./support/VirtualClock.js"

const storeWith = (id: string, adapter: string, adapterSettings: unknown): StoreSettings.StoreSettings => ({
  ...settings(id),
  adapter,
  settings: adapterSettings
})

const builtIns = { heartland }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "posbridge-adapter-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** The workspace's copy of a package, as the plugin's own node_modules would hold it after an install. */
const workspacePackage = (name: string) => fs.realpathSync(path.join(import.meta.dirname, "..", "node_modules", name))

/** A POS adapter package outside the repository: it depends on @posbridge/core only (effect is its peer). */
const writeExternalAdapter = (dir: string) => {
  fs.mkdirSync(path.join(dir, "node_modules", "@posbridge"), { recursive: true })
  fs.symlinkSync(workspacePackage("@posbridge/core"), path.join(dir, "node_modules", "@posbridge", "core"))
  fs.symlinkSync(workspacePackage("effect"), path.join(dir, "node_modules", "effect"))
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({
      name: "posbridge-adapter-tiny",
      type: "module",
      exports: { ".": "./index.js" },
      dependencies: { "@posbridge/core": "*" },
      peerDependencies: { effect: "^3.22.0" }
    })
  )
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `
import { PosSource } from "@posbridge/core"
import { DateTime, Effect, Layer, Schema, Stream } from "effect"

export const adapter = {
  _tag: "PosbridgeAdapter",
  id: "tiny",
  displayName: "Tiny POS",
  settingsSchema: Schema.Struct({ orders: Schema.Int }),
  overlapMillis: 0,
  layer: (store, settings) =>
    Layer.succeed(PosSource.PosSource, {
      adapterId: "tiny",
      pull: (cursor, { since }) =>
        cursor._tag === "Some"
          ? Stream.empty
          : Stream.make({
              cursor: "done",
              documents: Array.from({ length: settings.orders }, (_, i) => ({
                order: {
                  storeId: store.id, kind: store.documentKind, posRef: "t" + i, orderNumber: "T-" + i,
                  orderDate: DateTime.add(since, { hours: i + 1 }), posModifiedAt: DateTime.add(since, { hours: i + 1 }),
                  status: "paid", customerCode: "c", billTo: { name: "Tiny customer" }, lines: [], orderTotal: "9.99"
                }
              }))
            }),
      recordShipment: () => Effect.succeed({ summary: "noted" })
    })
}
`
  )
  return path.join(dir, "index.js")
}

describe("AdapterRegistry", () => {
  it.effect("a built-in adapter is found by id and its settings decoded, secrets kept aside", () =>
    Effect.gen(function* () {
      const loaded = yield* AdapterRegistry.load(
        storeWith("shop", "heartland", { subdomain: "acme", apiToken: "tok-123456" }),
        builtIns
      )
      expect(loaded.descriptor.id).toBe("heartland")
      expect(loaded.secrets).toContain("tok-123456")
    })
  )

  it.effect("settings that do not decode name the store, the adapter and the field", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(
        AdapterRegistry.load(storeWith("shop", "heartland", { subdomain: "acme", apiToken: "" }), builtIns)
      )
      const error = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : undefined))
      expect(error?.reason).toBe("invalid-settings")
      expect(error?.message).toContain('Store "shop"')
      expect(error?.message).toContain('adapter "heartland"')
      expect(error?.message).toContain("settings.apiToken: the API token is empty")
    })
  )

  it.effect("an unknown package is a configuration error naming the store and the package", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        AdapterRegistry.load(storeWith("north", "posbridge-adapter-does-not-exist", {}), builtIns)
      )
      expect(error.reason).toBe("not-found")
      expect(error.message).toContain('Store "north", adapter "posbridge-adapter-does-not-exist"')
    })
  )

  it.scoped("a package without an adapter descriptor is refused, and the other stores still load", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = path.join(dir, "not-an-adapter.mjs")
      fs.writeFileSync(file, "export const something = 1\n")
      const { loaded, errors } = yield* AdapterRegistry.loadAll(
        [storeWith("bad", file, {}), storeWith("good", "heartland", { subdomain: "acme", apiToken: "tok-123456" })],
        builtIns
      )
      expect(loaded.map((l) => l.store.id)).toEqual(["good"])
      expect(errors.map((e) => [e.storeId, e.reason])).toEqual([["bad", "no-descriptor"]])
      expect(errors[0]!.message).toContain("does not export an adapter descriptor")
    })
  )

  it.scoped("an adapter package outside the repository is loaded from configuration and synced", () =>
    withVirtualClock((clock) =>
      Effect.gen(function* () {
        const entry = writeExternalAdapter(yield* tempDir)
        const loaded = yield* AdapterRegistry.load(storeWith("tiny-shop", entry, { orders: 3 }), builtIns)
        expect(loaded.descriptor.displayName).toBe("Tiny POS")
        const wrong = yield* Effect.flip(AdapterRegistry.load(storeWith("tiny-shop", entry, { orders: "3" }), builtIns))
        expect(wrong.message).toContain("settings.orders")

        const engine = yield* SyncEngine.SyncEngine
        const store = yield* OrderStore.OrderStore
        yield* engine.setStores([
          {
            settings: loaded.store,
            source: Layer.provide(loaded.layer, FetchHttpClient.layer),
            secrets: loaded.secrets
          }
        ])
        yield* clock.advance(10_000)
        expect((yield* store.stats("tiny-shop")).documents).toBe(3)
        expect(yield* store.cursor("tiny-shop")).toEqual(Option.some("done"))
        expect((yield* engine.status("tiny-shop")).adapter).toBe(entry)
      }).pipe(Effect.provide(engineWithMemory()))
    )
  )
})
