/**
 * `posbridge simulate lightspeed|heartland --port N [--accounts K]`: a simulated POS on its own port, for a server
 * run as users run it (its stores' `apiBaseUrl` / `baseUrl` point here) and for tests from outside the server:
 * the demo's seeding and merchant activity on every account, the POS's API, and pos-testkit's control API under
 * `/control` (the change log, pulls in flight, add / re-save / change a field, a store's settings). An external
 * adapter package is simulated too when its `testing` entry exports `simulator` (docs/adding-a-pos.md).
 *
 * With the demo, this is the production code that imports the adapters' `testing` entries (.dependency-cruiser.cjs).
 */
import { createServer } from "node:http"
import { Args, Command, Options } from "@effect/cli"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { PosSimulator, SimControl } from "@posbridge/pos-testkit"
import { simulator as heartland } from "@posbridge/source-heartland/testing"
import { simulator as lightspeed } from "@posbridge/source-lightspeed/testing"
import { Effect, Layer, Option } from "effect"

export const builtIns: Readonly<Record<string, PosSimulator.Descriptor>> = { lightspeed, heartland }

/** A built-in simulator, or the `simulator` of an adapter package's `testing` entry. */
const load = (adapter: string): Effect.Effect<PosSimulator.Descriptor, string> =>
  Object.hasOwn(builtIns, adapter)
    ? Effect.succeed(builtIns[adapter]!)
    : Effect.tryPromise({
        try: () => import(`${adapter}/testing`) as Promise<{ simulator?: unknown }>,
        catch: () =>
          `There is no simulator "${adapter}": use lightspeed, heartland, or an adapter package whose testing entry exports simulator.`
      }).pipe(
        Effect.flatMap((module) =>
          PosSimulator.isDescriptor(module.simulator)
            ? Effect.succeed(module.simulator)
            : Effect.fail(`${adapter}/testing does not export a simulator (pos-testkit PosSimulator.Descriptor).`)
        )
      )

const range = (accounts: ReadonlyArray<string>) =>
  accounts.length === 1 ? accounts[0] : `${accounts[0]}–${accounts.at(-1)}`

export const command = Command.make(
  "simulate",
  {
    adapter: Args.text({ name: "ADAPTER" }).pipe(Args.withDescription("lightspeed, heartland or an adapter package")),
    port: Options.integer("port").pipe(Options.withDescription("the port to listen on")),
    host: Options.text("host").pipe(Options.withDefault("127.0.0.1")),
    accounts: Options.integer("accounts").pipe(
      Options.withDefault(1),
      Options.withDescription("how many POS accounts (merchants, stores) to serve: ids 1000, 1001, …")
    ),
    seed: Options.integer("seed").pipe(Options.optional, Options.withDescription("seed of the demo data")),
    documents: Options.integer("documents").pipe(
      Options.optional,
      Options.withDescription("documents (orders, sales) seeded per account (default: the demo's)")
    ),
    noActivity: Options.boolean("no-activity").pipe(
      Options.withDescription("no background merchant activity: only what the control API asks changes anything")
    ),
    pullIdleSeconds: Options.integer("pull-idle-seconds").pipe(
      Options.withDefault(30),
      Options.withDescription("a pull with no request for this long counts as abandoned")
    ),
    baseUrl: Options.text("base-url").pipe(
      Options.optional,
      Options.withDescription("the address clients reach it at (default http://HOST:PORT)")
    )
  },
  (o) =>
    Effect.gen(function* () {
      if (o.accounts < 1 || o.accounts > 10_000) return yield* Effect.fail("--accounts is between 1 and 10000.")
      const descriptor = yield* load(o.adapter)
      const host = o.host === "0.0.0.0" || o.host === "::" ? "127.0.0.1" : o.host
      const baseUrl = Option.getOrElse(o.baseUrl, () => `http://${host}:${o.port}`).replace(/\/+$/, "")
      const sim = yield* descriptor.make({
        baseUrl,
        accounts: o.accounts,
        seed: Option.getOrUndefined(o.seed),
        documents: Option.getOrUndefined(o.documents),
        pullIdleMillis: o.pullIdleSeconds * 1000
      })
      const serving = HttpServer.serve(SimControl.app(sim)).pipe(
        Layer.provide(NodeHttpServer.layer(createServer, { port: o.port, host: o.host }))
      )
      yield* Layer.build(serving).pipe(
        Effect.mapError((e) => `The ${sim.displayName} simulator cannot listen on ${o.host}:${o.port}: ${e.message}`)
      )
      const [kind = "orders"] = sim.kinds
      // One entry per line: a log entry is never more than one line (see Logging).
      for (const line of [
        `posbridge ${sim.adapterId} simulator: ${sim.accounts.length} account(s) ${range(sim.accounts)} on ${baseUrl}`,
        `  ${o.noActivity ? "no background activity" : "the demo's merchant activity runs on every account"}`,
        `  control API: ${baseUrl}/control (change log ${baseUrl}/control/changes, pulls ${baseUrl}/control/pulls)`,
        `  a store's settings: curl "${baseUrl}/control/accounts/${sim.accounts[0]}/settings?kind=${kind}"`
      ]) {
        yield* Effect.logInfo(line)
      }
      if (!o.noActivity) yield* Effect.forkScoped(sim.activity)
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(
  Command.withDescription(
    "run a simulated POS (many accounts) with its control API, for a server configured against it"
  )
)
