import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Option, Redacted } from "effect"
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

describe("configuration: history retention", () => {
  const env = { SS_PASSWORD: "pw", HL_TOKEN: "t" }

  it("keeps export history and the poll log 30 days unless historyRetentionDays says otherwise", async () => {
    const byDefault = Either.getOrThrow(await resolve({ stores: [store()] }, env))
    expect(Duration.toHours(byDefault.historyRetention)).toBe(30 * 24)
    const set = Either.getOrThrow(await resolve({ historyRetentionDays: 90, stores: [store()] }, env))
    expect(Duration.toHours(set.historyRetention)).toBe(90 * 24)
    const refused = Config.decodeFile(JSON.stringify({ historyRetentionDays: 0, stores: [] }), "test.json")
    expect(Either.isLeft(refused) && refused.left.message).toContain("historyRetentionDays:")
  })
})

describe("configuration: the cluster section", () => {
  const env = { SS_PASSWORD: "pw", HL_TOKEN: "t" }

  it("defaults to a runner at localhost:34431 with 100 shards and failover timings of seconds", async () => {
    const result = await resolve({ stores: [store()] }, env)
    const cluster = Either.getOrThrow(result).cluster
    expect(cluster.runnerHost).toBe("localhost")
    expect(cluster.runnerPort).toBe(34431)
    expect(cluster.shards).toBe(100)
    expect(Duration.toSeconds(cluster.healthCheck)).toBe(5)
    expect(Duration.toSeconds(cluster.lockRefresh)).toBe(5)
    expect(Duration.toSeconds(cluster.lockExpiration)).toBe(20)
  })

  it("takes the file's values, and the runner's address from POSBRIDGE_RUNNER_HOST / POSBRIDGE_RUNNER_PORT", async () => {
    const file = {
      cluster: {
        runnerHost: "10.0.0.5",
        runnerPort: 4000,
        shards: 30,
        healthCheckSeconds: 2,
        lockExpirationSeconds: 30
      },
      stores: [store()]
    }
    const fromFile = Either.getOrThrow(await resolve(file, env)).cluster
    expect([fromFile.runnerHost, fromFile.runnerPort, fromFile.shards]).toEqual(["10.0.0.5", 4000, 30])
    expect(Duration.toSeconds(fromFile.healthCheck)).toBe(2)
    expect(Duration.toSeconds(fromFile.lockExpiration)).toBe(30)
    const overridden = Either.getOrThrow(
      await resolve(file, { ...env, POSBRIDGE_RUNNER_HOST: "runner-2.internal", POSBRIDGE_RUNNER_PORT: "4002" })
    ).cluster
    expect([overridden.runnerHost, overridden.runnerPort, overridden.shards]).toEqual(["runner-2.internal", 4002, 30])
  })

  it("names a bad cluster value, an unknown cluster key and a bad POSBRIDGE_RUNNER_PORT", async () => {
    const decoded = Config.decodeFile(
      JSON.stringify({ cluster: { runnerPort: 0, shards: "many", replicas: 3 }, stores: [store()] }),
      "test.json"
    )
    const message = Either.isLeft(decoded) ? decoded.left.message : ""
    expect(message).toContain("cluster.runnerPort:")
    expect(message).toContain("cluster.shards:")
    expect(message).toContain("cluster.replicas:")
    const badEnv = await resolve({ stores: [store()] }, { ...env, POSBRIDGE_RUNNER_PORT: "thirty" })
    expect(Either.isLeft(badEnv) ? badEnv.left.message : "").toContain(
      'POSBRIDGE_RUNNER_PORT: "thirty" is not a port number'
    )
  })

  it("refuses a lock expiration a live runner could miss (under twice the refresh interval)", async () => {
    const result = await resolve(
      { cluster: { lockRefreshSeconds: 10, lockExpirationSeconds: 15 }, stores: [store()] },
      env
    )
    expect(Either.isLeft(result) ? result.left.message : "").toContain(
      "cluster.lockExpirationSeconds: 15 must be at least twice cluster.lockRefreshSeconds (10)"
    )
  })

  it("serves metrics on 127.0.0.1:9464 unless metrics.address or POSBRIDGE_METRICS_ADDRESS says otherwise, or off", async () => {
    const listen = async (file: Record<string, unknown>, extra: Record<string, string> = {}) => {
      const r = await resolve({ ...file, stores: [store()] }, { ...env, ...extra })
      if (Either.isLeft(r)) throw new Error(r.left.message)
      return r.right.metrics
    }
    expect((await listen({})).listen).toEqual(Option.some({ host: "127.0.0.1", port: 9464 }))
    expect((await listen({})).token).toBeUndefined()
    expect((await listen({ metrics: { address: ":9100" } })).listen).toEqual(
      Option.some({ host: "0.0.0.0", port: 9100 })
    )
    expect((await listen({ metrics: { address: "off" } })).listen).toEqual(Option.none())
    expect(
      (await listen({ metrics: { address: "10.0.0.5:9100" } }, { POSBRIDGE_METRICS_ADDRESS: "127.0.0.1:9999" })).listen
    ).toEqual(Option.some({ host: "127.0.0.1", port: 9999 }))
    const withToken = await listen({ metrics: { token: { env: "METRICS_TOKEN" } } }, { METRICS_TOKEN: "tok-123" })
    expect(withToken.token && Redacted.value(withToken.token)).toBe("tok-123")
    expect(Duration.toSeconds((await listen({ metrics: { refreshSeconds: 5 } })).refresh)).toBe(5)
    const bad = await resolve({ metrics: { address: "localhost" }, stores: [store()] }, env)
    expect(Either.isLeft(bad) ? bad.left.message : "").toContain(
      'metrics.address: "localhost" is not host:port (like 127.0.0.1:9464) or "off"'
    )
    const badEnv = await resolve({ stores: [store()] }, { ...env, POSBRIDGE_METRICS_ADDRESS: "9464" })
    expect(Either.isLeft(badEnv) ? badEnv.left.message : "").toContain("POSBRIDGE_METRICS_ADDRESS:")
    const missingToken = await resolve({ metrics: { token: { env: "NOPE" } }, stores: [store()] }, env)
    expect(Either.isLeft(missingToken) ? missingToken.left.message : "").toContain(
      "metrics.token: the environment variable NOPE is not set"
    )
  })
})
