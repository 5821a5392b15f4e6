/**
 * Server runners in the test process: the real composition (`Server.start` on `Server.runtimeLayer`, so the
 * real order store and the real cluster layers) fed by one Heartland simulator serving one account per store.
 * Every request a runner sends is recorded with the runner's name, so a test sees which runner pulls which store.
 */
import * as net from "node:net"
import { HttpClient } from "@effect/platform"
import { TokenVault } from "@posbridge/core"
import { SimServer } from "@posbridge/pos-testkit"
import { Simulator as Heartland } from "@posbridge/source-heartland/testing"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import * as Config from "../../src/Config.js"
import * as ConfigSource from "../../src/ConfigSource.js"
import * as Server from "../../src/Server.js"

export const token = "hl-token-secret"
export const env = { SS_PASSWORD: "ss-secret-pw", HL_TOKEN: token, ADMIN_PASSWORD: "admin-secret-pw" }

export const storeEntry = (id: string, account: string = id) => ({
  id,
  adapter: "heartland",
  documentKind: "orders",
  syncIntervalSeconds: 5,
  shipstation: { username: `ss-${id}`, password: { env: "SS_PASSWORD" } },
  settings: { baseUrl: `http://heartland.sim/${account}`, apiToken: { env: "HL_TOKEN" } }
})

export const configFor = (file: Record<string, unknown>, extraEnv: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const decoded = yield* Config.decodeFile(JSON.stringify(file), "runners-test.json")
    return yield* Config.resolve(decoded, "runners-test.json", { ...env, ...extraEnv }, "/nonexistent")
  }).pipe(Effect.orDie)

/** A port nobody listens on right now (the OS picks it). */
export const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

export interface Request {
  readonly runner: string
  readonly store: string
  readonly at: number
}

/** One simulator with an account per store, seeded with a few orders each. */
export const simulator = (accounts: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sim = yield* Heartland.make({ token, accounts })
    for (const [i, id] of accounts.entries()) {
      const account = sim.account(id)
      if (account) yield* Heartland.seedDemo(account, { seed: i + 1, orders: 3, items: 3 })
    }
    const client = yield* SimServer.makeClient(sim.app)
    const requests: Array<Request> = []
    return { sim, client, requests }
  })

export type Simulator = Effect.Effect.Success<ReturnType<typeof simulator>>

/** Starts a runner named `name` in its own scope; closing the scope stops it (gracefully). */
export const startRunner = (name: string, config: Config.ServerConfig, sim: Simulator) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const vault = yield* TokenVault.makeMemory
    const services = (storeId: string) =>
      Context.make(TokenVault.TokenVault, vault).pipe(
        Context.add(
          HttpClient.HttpClient,
          sim.client.pipe(
            HttpClient.tapRequest(() =>
              Effect.sync(() => sim.requests.push({ runner: name, store: storeId, at: Date.now() }))
            )
          )
        )
      )
    const started = yield* Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(Server.runtimeLayer(config, { jitter: 0.1 }), scope)
      const server = yield* Server.start({ config, builtIns: ConfigSource.builtIns, services }).pipe(
        Effect.provide(context),
        Scope.extend(scope)
      )
      return { context, ...server }
    }).pipe(Effect.onError(() => Scope.close(scope, Exit.void)))
    return { name, scope, ...started }
  })

export const sleep = (millis: number) => Effect.promise(() => new Promise((r) => setTimeout(r, millis)))

/** Polls `check` every 200 ms until it holds or `millis` pass; answers whether it held. */
export const eventually = (check: () => boolean, millis: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while (Date.now() < deadline) {
      if (check()) return true
      yield* sleep(200)
    }
    return check()
  })
