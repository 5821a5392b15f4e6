/**
 * `pnpm conformance [--adapter NAME_OR_PATH ...] [--fixtures DIR] [--scenario NAME ...] [--soak --polls N --seed S]
 *                   [--mutation stamp|offset] [--report FILE]`
 * `pnpm conformance new-adapter NAME --dir DIR`
 */
import { writeFileSync } from "node:fs"
import { Args, Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Option } from "effect"
import * as Conformance from "./Conformance.js"
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
const mutation = Options.choice("mutation", ["stamp", "offset"]).pipe(Options.optional)
const report = Options.file("report").pipe(Options.optional, Options.withDescription("write a JSON report here"))

const root = Command.make("conformance", { adapter, fixtures, scenario, soak, polls, seed, mutation, report }, (o) =>
  Effect.gen(function* () {
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

const cli = Command.run(root.pipe(Command.withSubcommands([newAdapter])), {
  name: "posbridge conformance",
  version: "0.0.0"
})

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: false }))
