import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import * as Config from "../src/Config.js"

const store = (patch: Record<string, unknown> = {}) => ({
  id: "shop",
  adapter: "heartland",
  documentKind: "orders",
  shipstation: { username: "ss", password: { env: "SS_PASSWORD" } },
  settings: { subdomain: "acme", apiToken: { env: "HL_TOKEN" } },
  ...patch
})

const resolve = (file: unknown, env: Record<string, string>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const decoded = yield* Config.decodeFile(JSON.stringify(file), "test.json")
      return yield* Config.resolve(decoded, "test.json", env, "/data")
    }).pipe(Effect.either, Effect.provide(NodeFileSystem.layer))
  )

describe("configuration", () => {
  it("names every bad field with its path", () => {
    const result = Config.decodeFile(
      JSON.stringify({ port: "eighty", stores: [store({ documentKind: "sales", pageSize: 0 })] }),
      "test.json"
    )
    expect(Either.isLeft(result)).toBe(true)
    const message = Either.isLeft(result) ? result.left.message : ""
    expect(message).toContain("Configuration test.json is invalid")
    expect(message).toContain("port:")
    expect(message).toContain("stores[0].documentKind:")
    expect(message).toContain("stores[0].pageSize:")
  })

  it("refuses an inline secret and says how to give one", () => {
    const result = Config.decodeFile(
      JSON.stringify({ stores: [store({ shipstation: { username: "ss", password: "hunter2" } })] }),
      "test.json"
    )
    const message = Either.isLeft(result) ? result.left.message : ""
    expect(message).toContain("stores[0].shipstation.password")
    expect(message).toContain('{"env": "VARIABLE"} or {"file": "/path/to/secret"}')
    expect(message).not.toContain("hunter2")
  })

  it("reads secrets from the environment and from files, keeping them redacted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "posbridge-config-"))
    writeFileSync(join(dir, "token"), "file-token\n")
    const result = await resolve(
      { stores: [store({ settings: { subdomain: "acme", apiToken: { file: join(dir, "token") } } })] },
      {
        SS_PASSWORD: "pw"
      }
    )
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) {
      const [s] = result.right.stores
      expect(Redacted.value(s!.shipstation.password)).toBe("pw")
      expect(String(s!.shipstation.password)).not.toContain("pw")
      expect(s!.settings).toEqual({ subdomain: "acme", apiToken: "file-token" })
      expect(result.right.database).toEqual({ engine: "sqlite", file: "/data/posbridge.sqlite" })
    }
  })

  it("does not start a store whose secret is missing, and says which variable, while the others start", async () => {
    const result = await resolve(
      { stores: [store(), store({ id: "other", settings: { subdomain: "b", apiToken: { env: "OTHER" } } })] },
      {
        SS_PASSWORD: "pw",
        OTHER: "t"
      }
    )
    expect(Either.isRight(result)).toBe(true)
    if (Either.isRight(result)) {
      expect(result.right.stores.map((s) => s.id)).toEqual(["other"])
      expect(result.right.storeProblems).toEqual([
        "stores[0] (shop).settings.apiToken: the environment variable HL_TOKEN is not set"
      ])
    }
  })

  it("requires an encryption key for Lightspeed stores, whose refresh tokens rotate", async () => {
    const result = await resolve({ stores: [store({ adapter: "lightspeed" })] }, { SS_PASSWORD: "pw", HL_TOKEN: "t" })
    expect(Either.isRight(result) && result.right.storeProblems[0]).toContain("set encryptionKey")
  })

  it("refuses a store id used twice", async () => {
    const result = await resolve({ stores: [store(), store()] }, { SS_PASSWORD: "pw", HL_TOKEN: "t" })
    expect(Either.isRight(result) && result.right.storeProblems[0]).toContain('the store id "shop" is used twice')
  })

  it("stops on a missing server-wide secret", async () => {
    const result = await resolve({ admin: { username: "a", password: { env: "ADMIN_PW" } }, stores: [] }, {})
    expect(Either.isLeft(result) && result.left.message).toContain(
      "admin.password: the environment variable ADMIN_PW is not set"
    )
  })
})
