/**
 * The `posbridge` command line: serve, demo, touch, explain, stores list/add, sync, outbox list/retry/dismiss,
 * simulate.
 * Commands that act (sync, touch, outbox retry/dismiss) go through a running server's admin API; `explain` asks
 * the running server too and, when none answers, runs the same handler on the database; the other read-only ones
 * (stores list, outbox list) read the database directly.
 */
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Echo, OrderStore, OrderWindow, TokenVault } from "@posbridge/core"
import { ClockCheck } from "@posbridge/shipstation"
import { AdapterRegistry } from "@posbridge/sync"
import { Console, DateTime, Duration, Effect, Option } from "effect"
import * as AdminClient from "./AdminClient.js"
import * as AdminHandlers from "./AdminHandlers.js"
import * as CliFailure from "./CliFailure.js"
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
const serverOption = Options.text("server").pipe(
  Options.withDescription("the running server to act through (default: http://localhost:<the configuration's port>)"),
  Options.optional
)

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
  // One entry per line: a log entry is never more than one line (see Logging).
  for (const line of [
    "posbridge demo mode (no configuration file found)",
    `  database: SQLite at ${config.database.engine === "sqlite" ? config.database.file : ""} (recreated at every demo start)`,
    `  stores: ${Demo.lightspeedStore} (Lightspeed, invoices) and ${Demo.heartlandStore} (Heartland, orders), fed by simulators`,
    `  ShipStation username "${Demo.credentials.username}", password "${Demo.credentials.password}"; admin "admin" / "demo"`,
    `  listening on ${url}; try:`,
    `  curl -u demo:demo "${url}/shipstation/${Demo.lightspeedStore}?action=export&start_date=01/01/2020+00:00&end_date=12/31/2099+00:00"`
  ]) {
    yield* Effect.logInfo(line)
  }
  yield* Effect.forkScoped(demo.activity)
  yield* Server.serve({ config, builtIns: ConfigSource.builtIns, services: demo.services }).pipe(
    CliFailure.aboutDatabase(config.database)
  )
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
  }).pipe(Effect.scoped, CliFailure.aboutDatabase(config.database))

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
    return yield* f(m).pipe(
      Effect.provide(Server.orderStoreLayer(m.config)),
      CliFailure.aboutDatabase(m.config.database)
    )
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
    const vault = yield* Server.vaultFor(m.config).pipe(CliFailure.aboutDatabase(m.config.database))
    return { entry, vault }
  })

/** How long a quick action (touch, retry) waits for the server; a sync waits for its run however long. */
const quick = Duration.seconds(30)

/** The configuration (or the demo's) and the running server it names, for a command that acts through it. */
const remote = (config: Option.Option<string>, server: Option.Option<string>, storeId: string) =>
  Effect.gen(function* () {
    const m = yield* ConfigSource.mode(config)
    yield* knownStore(m, storeId)
    return AdminClient.target(m.config, server)
  })

const touch = Command.make(
  "touch",
  { config: configOption, server: serverOption, store: storeOption, order: orderOption },
  (a) =>
    Effect.gen(function* () {
      const target = yield* remote(a.config, a.server, a.store)
      const touched = yield* AdminClient.call(
        target,
        `refresh order ${Echo.quoted(a.order)} of ${a.store}`,
        (c) => c.stores.touch({ path: { storeId: a.store }, payload: { order: a.order } }),
        quick
      )
      yield* Console.log(
        touched.refresh?.outcome === "queued"
          ? `Order ${Echo.safe(touched.orderNumber)} of ${a.store} refreshed (stamp ${touched.stamp}); ShipStation is being asked to refresh the store now, and its poll will pick the order up.`
          : `Order ${Echo.safe(touched.orderNumber)} of ${a.store} refreshed: it will be in ShipStation's next poll (stamp ${touched.stamp}).`
      )
    })
).pipe(
  Command.withDescription(
    "refresh an order so ShipStation's next poll picks it up (bridge-side re-save), through the running server"
  )
)

const explain = Command.make(
  "explain",
  { config: configOption, server: serverOption, store: storeOption, order: orderOption },
  (a) =>
    Effect.gen(function* () {
      const target = yield* remote(a.config, a.server, a.store)
      const what = `explain order ${Echo.quoted(a.order)} of ${a.store}`
      // The running server's handler answers; with no server, the same handler reads the database here.
      const answered = yield* AdminClient.callIfRunning(target, what, (c) =>
        c.stores.explain({ path: { storeId: a.store }, urlParams: { order: a.order } })
      )
      const explanation = yield* Option.match(answered, {
        onSome: Effect.succeed,
        onNone: () =>
          withStore(a.config, () =>
            AdminHandlers.explainOrder(a.store, a.order).pipe(Effect.mapError((e) => e.message))
          )
      })
      yield* Console.log(Explain.render(explanation))
    })
).pipe(
  Command.withDescription(
    "show why an order is where it is: ingests, stamps, polls, ship notices (through the running server, else from the database)"
  )
)

const list = Command.make("list", { config: configOption, server: serverOption }, (a) =>
  withStore(a.config, (m) =>
    Effect.gen(function* () {
      const store = yield* OrderStore.OrderStore
      // The owner runner is known only to a running server: asked once, "—" when none answers.
      const running = yield* AdminClient.statuses(AdminClient.target(m.config, a.server))
      const noOwners = m.config.admin ? "— (no server answers)" : "— (no admin credentials to ask the server with)"
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
            `  owner: ${Option.match(running, { onNone: () => noOwners, onSome: (o) => o.get(s.id)?.owner ?? "—" })}`,
            `  last ShipStation poll: ${lastPoll}`,
            ...Option.match(
              Option.flatMap(running, (r) => Option.fromNullable(r.get(s.id)?.saveToPoll)),
              {
                onNone: () => [],
                onSome: (p) => [`  POS save to ShipStation poll: ${Math.round(p.seconds)} s (latest, ${p.at})`]
              }
            ),
            `  documents: ${stats.documents}, waiting for a poll: ${stats.waitingForPoll}, held back: ${stats.held}`,
            `  ship notices: ${stats.outbox.pending + stats.outbox["in-flight"]} to write back, ${stats.outbox.done} done, ${stats.outbox.dead} failed, ${stats.outbox.attention} need attention`,
            ...warnings.map((w) => `  WARNING: ${w}`)
          ].join("\n")
        )
      }
    })
  )
).pipe(
  Command.withDescription("each store with its POS, document kind, owner runner, last ShipStation poll and warnings")
)

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

const sync = Command.make("sync", { config: configOption, server: serverOption, store: storeOption }, (a) =>
  Effect.gen(function* () {
    const target = yield* remote(a.config, a.server, a.store)
    const result = yield* AdminClient.call(target, `sync store ${a.store}`, (c) =>
      c.stores.sync({ path: { storeId: a.store } })
    )
    const error = Option.match(result.error, { onNone: () => "", onSome: (e) => `: ${e.message}` })
    yield* Console.log(
      `${a.store}: ${result.outcome}, ${result.documents} documents in ${result.pages} pages (run ${result.run} on the server)`
    )
    if (result.outcome !== "succeeded") return yield* Effect.fail(`The sync of ${a.store} ${result.outcome}${error}.`)
  })
).pipe(Command.withDescription("pull one store from its POS now, on the running server that owns it"))

const itemLine = (w: OrderStore.OutboxItem) =>
  [
    `${w.id}  ${w.state === "pending" ? "retrying" : w.state}, ${w.attempts} attempt(s)`,
    Option.match(w.posRef, { onNone: () => "", onSome: (r) => `, order ${Echo.safe(r)}` }),
    Option.match(w.lastError, { onNone: () => "", onSome: (e) => `, last error: ${Echo.safe(e, 200)}` })
  ].join("")

const outboxList = Command.make("list", { config: configOption, store: storeOption }, (a) =>
  withStore(a.config, (m) =>
    Effect.gen(function* () {
      yield* knownStore(m, a.store)
      const store = yield* OrderStore.OrderStore
      const items = (yield* store.outbox(a.store, ["dead", "attention", "pending"])).filter(AdminHandlers.actionable)
      if (items.length === 0) return yield* Console.log(`${a.store}: no dead, retrying or doubtful write-backs.`)
      for (const w of items) yield* Console.log(itemLine(w))
    })
  )
).pipe(Command.withDescription("the write-backs an operator may act on: dead, retrying, needing attention"))

const outboxRetry = Command.make(
  "retry",
  {
    config: configOption,
    server: serverOption,
    store: storeOption,
    item: Options.text("item").pipe(Options.withDescription("the write-back's id (see `posbridge outbox list`)"))
  },
  (a) =>
    Effect.gen(function* () {
      const target = yield* remote(a.config, a.server, a.store)
      const item = yield* AdminClient.call(
        target,
        `retry write-back ${Echo.quoted(a.item)} of ${a.store}`,
        (c) => c.stores.retry({ path: { storeId: a.store, writeBackId: a.item } }),
        quick
      )
      yield* Console.log(
        `Write-back ${item.id} of ${a.store} is due again (${item.state}, fresh attempts from ${item.nextAttemptAt}).`
      )
    })
).pipe(Command.withDescription("deliver a dead, retrying or doubtful write-back now, through the running server"))

const outboxDismiss = Command.make(
  "dismiss",
  {
    config: configOption,
    server: serverOption,
    store: storeOption,
    item: Options.text("item").pipe(Options.withDescription("the write-back's id (see `posbridge outbox list`)"))
  },
  (a) =>
    Effect.gen(function* () {
      const target = yield* remote(a.config, a.server, a.store)
      const item = yield* AdminClient.call(
        target,
        `dismiss write-back ${Echo.quoted(a.item)} of ${a.store}`,
        (c) => c.stores.dismiss({ path: { storeId: a.store, writeBackId: a.item } }),
        quick
      )
      yield* Console.log(`Write-back ${item.id} of ${a.store} is dismissed: nothing was written to the POS.`)
    })
).pipe(Command.withDescription("close a dead or doubtful write-back without writing it, through the running server"))

const outbox = Command.make("outbox").pipe(
  Command.withSubcommands([outboxList, outboxRetry, outboxDismiss]),
  Command.withDescription("ship-notice write-backs to the POS")
)

export const command = Command.make("posbridge").pipe(
  Command.withSubcommands([serve, demo, touch, explain, stores, sync, outbox, Simulate.command]),
  Command.withDescription("posbridge: POS ↔ ShipStation Custom Store bridge")
)

export const run = Command.run(command, { name: "posbridge", version: "0.1.0" })
