/** The `posbridge` command line: serve, demo, touch, explain, stores list, sync, simulate. */
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { OrderStore, OrderWindow, TokenVault } from "@posbridge/core"
import { ClockCheck } from "@posbridge/shipstation"
import { AdapterRegistry, SyncEngine } from "@posbridge/sync"
import { Console, DateTime, Duration, Effect, Fiber, Layer, Option, Stream } from "effect"
import * as ConfigSource from "./ConfigSource.js"
import * as Demo from "./Demo.js"
import * as Explain from "./Explain.js"
import * as LightspeedConnect from "./LightspeedConnect.js"
import * as Server from "./Server.js"
import * as Simulate from "./Simulate.js"
import * as Stores from "./Stores.js"

const configOption = Options.file("config").pipe(
  Options.withDescription(
    "configuration file (default: $POSBRIDGE_CONFIG, else ./posbridge.config.json, else demo mode)"
  ),
  Options.optional
)
const storeOption = Options.text("store").pipe(Options.withDescription("store id"))
const orderOption = Options.text("order").pipe(Options.withDescription("POS id or order number"))

/** Removes the demo database so the demo's data matches its freshly seeded simulators. */
const resetDemoDatabase = (file: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    yield* fs.makeDirectory(file.replace(/\/[^/]*$/, ""), { recursive: true })
    for (const f of [file, `${file}-wal`, `${file}-shm`]) yield* fs.remove(f).pipe(Effect.ignore)
  })

const runDemo = Effect.gen(function* () {
  const demo = yield* Demo.make
  const config = ConfigSource.demoConfig(demo.stores)
  if (config.database.engine === "sqlite") yield* resetDemoDatabase(config.database.file)
  const url = `http://localhost:${config.port}`
  yield* Effect.logInfo(
    [
      "posbridge demo mode (no configuration file found)",
      `  database: SQLite at ${config.database.engine === "sqlite" ? config.database.file : ""} (recreated at every demo start)`,
      `  stores: ${Demo.lightspeedStore} (Lightspeed, invoices) and ${Demo.heartlandStore} (Heartland, orders), fed by simulators`,
      `  ShipStation username "${Demo.credentials.username}", password "${Demo.credentials.password}"; admin "admin" / "demo"`,
      `  listening on ${url}; try:`,
      `  curl -u demo:demo "${url}/shipstation/${Demo.lightspeedStore}?action=export&start_date=01/01/2020+00:00&end_date=12/31/2099+00:00"`
    ].join("\n")
  )
  yield* Effect.forkScoped(demo.activity)
  yield* Server.serve({ config, builtIns: ConfigSource.builtIns, services: demo.services })
}).pipe(Effect.scoped)

const serveConfigured = (path: string, config: import("./Config.js").ServerConfig) =>
  Effect.gen(function* () {
    yield* Effect.logInfo(
      `posbridge serving ${config.stores.length} store(s) from ${path}; database ${config.database.engine}; port ${config.port}`
    )
    const vault = yield* Server.vaultFor(config)
    yield* Server.serve({
      config,
      builtIns: ConfigSource.builtIns,
      services: ConfigSource.liveServices(vault),
      reload: { path, interval: Duration.seconds(5), env: process.env }
    })
  }).pipe(Effect.scoped)

const serve = Command.make("serve", { config: configOption }, ({ config }) =>
  Effect.gen(function* () {
    const m = yield* ConfigSource.mode(config)
    if (m._tag === "Demo") return yield* runDemo
    return yield* serveConfigured(m.path, m.config)
  })
).pipe(Command.withDescription("run the server (demo mode when there is no configuration)"))

const demo = Command.make("demo", {}, () => runDemo).pipe(
  Command.withDescription("run the server with two demo stores fed by POS simulators")
)

/** Opens the order store of the configuration (or of the demo) for a one-off command. */
const withStore = <A, E, R>(config: Option.Option<string>, f: (m: ConfigSource.Mode) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const m = yield* ConfigSource.mode(config)
    if (m._tag === "Demo" && m.config.database.engine === "sqlite") {
      const fs = yield* FileSystem.FileSystem
      const file = m.config.database.file
      if (!(yield* fs.exists(file))) {
        return yield* Effect.fail(`The demo has not run yet (no ${file}): start it with \`pnpm start\` first.`)
      }
    }
    return yield* f(m).pipe(Effect.provide(Server.orderStoreLayer(m.config)))
  })

/** The configured store `storeId`, or the sentence saying which stores there are. */
const findStore = (m: ConfigSource.Mode, storeId: string) => {
  const entry = m.config.stores.find((s) => s.id === storeId)
  return entry
    ? Effect.succeed(entry)
    : Effect.fail(
        `There is no store "${storeId}" in ${m.config.source}. Known stores: ${m.config.stores.map((s) => s.id).join(", ") || "none"}.`
      )
}

const knownStore = (m: ConfigSource.Mode, storeId: string) => Effect.asVoid(findStore(m, storeId))

/** A store of the configuration file (demo stores cannot be, `inDemo` says why) with the vault of its tokens. */
const configuredStore = (config: Option.Option<string>, storeId: string, inDemo: string) =>
  Effect.gen(function* () {
    const m = yield* ConfigSource.mode(config)
    if (m._tag === "Demo") return yield* Effect.fail(inDemo)
    const entry = yield* findStore(m, storeId)
    const vault = yield* Server.vaultFor(m.config)
    return { entry, vault }
  })

const touch = Command.make("touch", { config: configOption, store: storeOption, order: orderOption }, (a) =>
  withStore(a.config, (m) =>
    Effect.gen(function* () {
      yield* knownStore(m, a.store)
      const store = yield* OrderStore.OrderStore
      const touched = yield* store.touch(a.store, a.order)
      yield* Console.log(
        `Order ${touched.order.orderNumber} of ${a.store} refreshed: it will be in ShipStation's next poll (stamp ${DateTime.formatIso(touched.stamp)}).`
      )
    })
  )
).pipe(Command.withDescription("refresh an order so ShipStation's next poll picks it up (bridge-side re-save)"))

const explain = Command.make("explain", { config: configOption, store: storeOption, order: orderOption }, (a) =>
  withStore(a.config, (m) =>
    Effect.gen(function* () {
      yield* knownStore(m, a.store)
      const store = yield* OrderStore.OrderStore
      yield* Console.log(Explain.render(yield* store.explain(a.store, a.order)))
    })
  )
).pipe(Command.withDescription("show why an order is where it is: ingests, stamps, polls, ship notices"))

const list = Command.make("list", { config: configOption }, (a) =>
  withStore(a.config, (m) =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      if (m._tag === "Demo") yield* Console.log("(demo mode: the demo stores, as the last demo run left them)\n")
      for (const problem of m.config.storeProblems) yield* Console.log(`! not started: ${problem}`)
      for (const s of m.config.stores) {
        const settings = Stores.toSettings(s)
        const stats = yield* store.stats(s.id)
        const polls = yield* store.polls(s.id, 20)
        // The adapter's own settings check makes its warnings (e.g. Heartland invoices); one place, as at start-up.
        const loaded = yield* AdapterRegistry.load(settings, ConfigSource.builtIns).pipe(Effect.option)
        const warnings = [
          ...Option.match(loaded, { onNone: () => [], onSome: (l) => l.warnings.map((w) => w.message) }),
          ...[ClockCheck.warning(polls, s.timeZone)].flatMap((w) => (w ? [w.message] : []))
        ]
        const lastPoll = Option.match(stats.lastPoll, {
          onNone: () => "never",
          onSome: (p) =>
            `${DateTime.formatIso(p.at)} window ${OrderWindow.toString(p.window)} (page ${p.page}/${p.pages})`
        })
        yield* Console.log(
          [
            `${s.id}`,
            `  POS: ${s.adapter}, sends ${s.documentKind}, ShipStation URL /shipstation/${s.id}`,
            `  last ShipStation poll: ${lastPoll}`,
            `  documents: ${stats.documents}, waiting for a poll: ${stats.waitingForPoll}, held back: ${stats.held}`,
            `  ship notices: ${stats.outbox.pending + stats.outbox["in-flight"]} to write back, ${stats.outbox.done} done, ${stats.outbox.dead} failed, ${stats.outbox.attention} need attention`,
            ...warnings.map((w) => `  WARNING: ${w}`)
          ].join("\n")
        )
      }
    })
  )
).pipe(Command.withDescription("each store with its POS, document kind, last ShipStation poll and warnings"))

const add = Command.make(
  "add",
  {
    config: configOption,
    adapter: Options.choice("adapter", ["lightspeed"]).pipe(Options.withDescription("the POS that needs authorizing")),
    store: storeOption,
    publicUrl: Options.text("public-url").pipe(
      Options.withDescription("the address merchants' browsers reach this server at (for the OAuth callback)"),
      Options.withDefault(`http://localhost:${process.env.PORT || 8080}`)
    )
  },
  (a) =>
    Effect.gen(function* () {
      const { entry, vault } = yield* configuredStore(
        a.config,
        a.store,
        "The demo's Lightspeed store is already connected to its simulator; add stores to a configuration file."
      )
      const url = yield* LightspeedConnect.begin(entry, a.publicUrl).pipe(
        Effect.provideService(TokenVault.TokenVault, vault)
      )
      yield* Console.log(
        [
          `To connect Lightspeed to store "${a.store}", open this address and approve posbridge:`,
          "",
          `  ${url}`,
          "",
          `Lightspeed then returns to ${LightspeedConnect.callbackUrl(a.publicUrl, a.store)}, where the running server`,
          "stores the tokens (encrypted) and starts syncing the store."
        ].join("\n")
      )
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("connect a configured store to its POS (Lightspeed: prints the authorization URL)"))

const stores = Command.make("stores").pipe(
  Command.withSubcommands([list, add]),
  Command.withDescription("configured stores")
)

const bar = (fraction: number, width = 24) => {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width)
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`
}

const sync = Command.make("sync", { config: configOption, store: storeOption }, (a) =>
  Effect.gen(function* () {
    const { entry, vault } = yield* configuredStore(
      a.config,
      a.store,
      "Demo stores sync inside the running demo server every 10 seconds (or: curl -u admin:demo -X POST http://localhost:8080/admin/stores/STORE/sync)."
    )
    const registry = yield* Stores.make
    const applied = yield* Stores.apply(registry, [entry], {
      builtIns: ConfigSource.builtIns,
      services: ConfigSource.liveServices(vault)
    })
    const runtime = applied.started[0]
    if (!runtime) return yield* Effect.fail(`Store "${a.store}" could not start; see the errors above.`)
    const engine = yield* SyncEngine.SyncEngine
    yield* engine.setStores([
      {
        settings: runtime.settings,
        source: runtime.source,
        lookbackDays: entry.lookbackDays,
        intervalMillis: 86_400_000
      }
    ])
    const progress = yield* engine.progress(a.store).pipe(
      Stream.runForEach((p) =>
        Effect.sync(() => {
          const total = Option.getOrUndefined(p.total) ?? p.seen + (Option.getOrUndefined(p.backlog) ?? 0)
          const eta = Option.match(p.etaMillis, { onNone: () => "?", onSome: (ms) => `${Math.ceil(ms / 1000)}s` })
          process.stderr.write(
            `\r${bar(total > 0 ? p.seen / total : p.done ? 1 : 0)} ${p.seen} docs, ${p.pages} pages, ${p.docsPerSecond.toFixed(0)} docs/s, ETA ${eta}   `
          )
        })
      ),
      Effect.fork
    )
    const result = yield* engine.syncNow(a.store)
    yield* Effect.sleep(Duration.millis(50))
    yield* Fiber.interrupt(progress)
    process.stderr.write("\n")
    yield* Console.log(
      `${a.store}: ${result.outcome}, ${result.documents} documents in ${result.pages} pages${Option.match(result.error, { onNone: () => "", onSome: (e) => ` — ${e.message}` })}`
    )
    if (result.outcome !== "succeeded") return yield* Effect.fail(`sync of ${a.store} did not succeed`)
  }).pipe(
    Effect.scoped,
    Effect.provide(
      Layer.unwrapEffect(
        Effect.map(ConfigSource.mode(a.config), (m) =>
          SyncEngine.layer({}).pipe(Layer.provideMerge(Server.orderStoreLayer(m.config)))
        )
      )
    )
  )
).pipe(Command.withDescription("pull one store from its POS now, with a progress bar"))

export const command = Command.make("posbridge").pipe(
  Command.withSubcommands([serve, demo, touch, explain, stores, sync, Simulate.command]),
  Command.withDescription("posbridge: POS ↔ ShipStation Custom Store bridge")
)

export const run = Command.run(command, { name: "posbridge", version: "0.1.0" })
