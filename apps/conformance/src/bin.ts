/**
 * `pnpm conformance [--adapter NAME_OR_PATH ...] [--fixtures DIR] [--scenario NAME ...] [--soak --polls N --seed S]
 *                   [--mutation stamp|offset|resave] [--report FILE]`
 * `pnpm conformance --url URL --store S --user U --password P [--store2 S2 --user2 U2 --password2 P2] [--days N]
 *                   [--simulator SIM --account A [--kind orders|invoices] [--rounds N] [--sync-seconds N]]`
 * `pnpm conformance record --adapter NAME_OR_PATH --settings FILE.json --out FIXTURE.json [--since ISO] [--pages N]`
 * `pnpm conformance new-adapter NAME --dir DIR`
 */
import { writeFileSync } from "node:fs"
import { Args, Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import * as Conformance from "./Conformance.js"
import type * as ProtocolChecks from "./ProtocolChecks.js"
import * as Recorder from "./Recorder.js"
import * as Remote from "./Remote.js"
import * as Report from "./Report.js"
import * as Scaffold from "./Scaffold.js"

const adapter = Options.text("adapter").pipe(
  Options.repeated,
  Options.withDescription("adapter id, package name or directory")
)
const fixtures = Options.directory("fixtures").pipe(
  Options.optional,
  Options.withDescription("fixtures directory (default: the package's fixtures/)")
)
const scenario = Options.text("scenario").pipe(Options.repeated, Options.withDescription("run only these scenarios"))
const soak = Options.boolean("soak").pipe(Options.withDescription("randomized soak instead of fixtures and scenarios"))
const polls = Options.integer("polls").pipe(Options.withDefault(1000))
const seed = Options.integer("seed").pipe(Options.optional)
const mutation = Options.choice("mutation", ["stamp", "offset", "resave"]).pipe(Options.optional)
const report = Options.file("report").pipe(Options.optional, Options.withDescription("write a JSON report here"))

const url = Options.text("url").pipe(
  Options.optional,
  Options.withDescription("drive this running posbridge server instead of the in-process bridge")
)
const login = (suffix: string) => ({
  store: Options.text(`store${suffix}`).pipe(Options.optional, Options.withDescription("store id (--url mode)")),
  user: Options.text(`user${suffix}`).pipe(Options.optional, Options.withDescription("ShipStation username")),
  password: Options.text(`password${suffix}`).pipe(Options.optional, Options.withDescription("ShipStation password"))
})
const first = login("")
const second = login("2")
const simulator = Options.text("simulator").pipe(
  Options.optional,
  Options.withDescription(
    "--url: the simulated POS behind the store (posbridge simulate); its change log is the oracle"
  )
)
const account = Options.text("account").pipe(
  Options.optional,
  Options.withDescription("--simulator: the store's account")
)
const kind = Options.choice("kind", ["orders", "invoices"]).pipe(
  Options.withDefault("orders" as const),
  Options.withDescription("--simulator: the documents the store sends")
)
const rounds = Options.integer("rounds").pipe(
  Options.optional,
  Options.withDescription("--simulator: rounds of changes")
)
const syncSeconds = Options.integer("sync-seconds").pipe(
  Options.optional,
  Options.withDescription("--simulator: how long the server may take to pull a change (its sync interval + margin)")
)
const days = Options.integer("days").pipe(
  Options.withDefault(7),
  Options.withDescription("--url: how many days back the paging check reads")
)

type Login = { store: Option.Option<string>; user: Option.Option<string>; password: Option.Option<string> }
const loginOf = (l: Login, suffix: string): Effect.Effect<ProtocolChecks.StoreLogin | undefined, string> => {
  const given = [l.store, l.user, l.password].filter(Option.isSome).length
  if (given === 0) return Effect.succeed(undefined)
  if (given < 3) return Effect.fail(`--store${suffix}, --user${suffix} and --password${suffix} go together`)
  return Effect.succeed({
    id: Option.getOrThrow(l.store),
    username: Option.getOrThrow(l.user),
    password: Option.getOrThrow(l.password)
  })
}

const remote = (o: {
  url: string
  first: Login
  second: Login
  days: number
  scenario: ReadonlyArray<string>
  report: Option.Option<string>
  simulator: Option.Option<string>
  account: Option.Option<string>
  kind: "orders" | "invoices"
  rounds: Option.Option<number>
  syncSeconds: Option.Option<number>
}) =>
  Effect.gen(function* () {
    const store = yield* loginOf(o.first, "")
    if (store === undefined) return yield* Effect.fail("--url needs --store, --user and --password")
    const other = yield* loginOf(o.second, "2")
    if (Option.isSome(o.simulator) !== Option.isSome(o.account)) {
      return yield* Effect.fail("--simulator and --account go together")
    }
    yield* Console.log(`driving ${o.url} (store ${store.id}${other ? ` and ${other.id}` : ""})`)
    const result = yield* Remote.run({
      url: o.url,
      store,
      other,
      lookbackMinutes: o.days * 24 * 60,
      scenarios: o.scenario,
      print: true,
      oracle: Option.match(o.simulator, {
        onNone: () => undefined,
        onSome: (sim) => ({
          simulator: sim,
          account: Option.getOrThrow(o.account),
          kind: o.kind,
          rounds: Option.getOrUndefined(o.rounds),
          syncSeconds: Option.getOrUndefined(o.syncSeconds)
        })
      })
    })
    if (Option.isSome(o.report)) writeFileSync(o.report.value, Report.encodeJson(result))
    yield* Console.log(Report.closing(result))
    if (result.failed > 0) process.exitCode = 1
  }).pipe(
    Effect.catchAll((message) =>
      Effect.sync(() => {
        console.error(message)
        process.exitCode = 2
      })
    )
  )

const rootOptions = {
  adapter,
  fixtures,
  scenario,
  soak,
  polls,
  seed,
  mutation,
  report,
  url,
  first,
  second,
  days,
  simulator,
  account,
  kind,
  rounds,
  syncSeconds
}
const root = Command.make("conformance", rootOptions, (o) =>
  Effect.gen(function* () {
    if (Option.isSome(o.url)) return yield* remote({ ...o, url: o.url.value })
    const chosenSeed = Option.getOrElse(o.seed, () => Math.floor(Math.random() * 2 ** 31))
    if (o.soak) yield* Console.log(`soak: ${o.polls} polls, seed ${chosenSeed}`)
    const onlyScenarios = o.scenario.length > 0 && o.adapter.length === 0
    const onlyAdapters = o.adapter.length > 0 && o.scenario.length === 0
    const result = yield* Conformance.run({
      adapters: o.adapter,
      fixturesDir: Option.getOrUndefined(o.fixtures),
      scenarios: o.scenario,
      skipAdapters: onlyScenarios,
      skipScenarios: onlyAdapters,
      mutation: Option.getOrUndefined(o.mutation),
      soak: o.soak ? { polls: o.polls, seed: chosenSeed } : undefined,
      print: true
    })
    if (Option.isSome(o.report)) writeFileSync(o.report.value, Report.encodeJson(result))
    yield* Console.log(Report.closing(result))
    if (result.failed > 0) process.exitCode = 1
  })
)

const newAdapter = Command.make(
  "new-adapter",
  { name: Args.text({ name: "NAME" }), dir: Options.directory("dir") },
  ({ name, dir }) =>
    Effect.gen(function* () {
      const out = yield* Scaffold.generate(name, dir)
      yield* Console.log(`created ${out}; check it with: pnpm conformance --adapter ${out}`)
    })
)

const recordCommand = Command.make(
  "record",
  {
    adapter: Options.text("adapter").pipe(Options.withDescription("adapter id, package name or directory")),
    settings: Options.file("settings").pipe(
      Options.withDescription(
        'JSON: {"store": {"id", "documentKind"}, "<adapter id>": {...}}; secrets as {"env": "NAME"}'
      )
    ),
    out: Options.file("out").pipe(Options.withDescription("the fixture file to write")),
    since: Options.text("since").pipe(Options.optional, Options.withDescription("ISO instant; default 7 days ago")),
    pages: Options.integer("pages").pipe(Options.optional, Options.withDescription("stop after N pages"))
  },
  (o) =>
    Recorder.record({
      adapter: o.adapter,
      settingsFile: o.settings,
      out: o.out,
      since: Option.getOrUndefined(o.since),
      pages: Option.getOrUndefined(o.pages)
    }).pipe(
      Effect.flatMap((r) =>
        Console.log(
          `wrote ${r.file}: ${r.exchanges} exchange(s), ${r.documents} document(s)${r.truncated ? " (stopped at --pages)" : ""}; check it with: pnpm conformance --adapter ${o.adapter} --fixtures <its directory>`
        )
      ),
      Effect.catchAll((e) =>
        Effect.sync(() => {
          console.error(e.message)
          process.exitCode = 1
        })
      )
    )
)

const cli = Command.run(root.pipe(Command.withSubcommands([newAdapter, recordCommand])), {
  name: "posbridge conformance",
  version: "0.0.0"
})

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: false }))
