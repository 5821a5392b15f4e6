/**
 * The server's one entry point: `pnpm posbridge …` runs it with the arguments given, `pnpm start` with `serve`.
 * An expected failure is printed as its one sentence (see `CliFailure`) with exit code 1; a wrong argument
 * has already been explained by @effect/cli (exit 1 too); anything else is a defect, printed with its trace.
 * Logs are one line per entry, in the format `LOG_FORMAT` names (see `Logging`).
 */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Effect, Either, Option } from "effect"
import * as Cli from "./Cli.js"
import * as CliFailure from "./CliFailure.js"
import * as Logging from "./Logging.js"

const exit1 = Effect.sync(() => {
  process.exitCode = 1
})
const fail = (text: string) =>
  Effect.zipRight(
    Effect.sync(() => process.stderr.write(`${text}\n`)),
    exit1
  )

const main = Effect.gen(function* () {
  const format = yield* Either.match(Logging.formatFromEnv(process.env), {
    onLeft: (sentence) => Effect.fail(sentence),
    onRight: Effect.succeed
  })
  return yield* Cli.run(process.argv).pipe(Effect.provide(Logging.layer(format)))
})

main.pipe(
  Effect.catchAllCause((cause) => {
    // @effect/cli has already printed what was wrong with the arguments and the usage.
    if (Option.exists(Cause.failureOption(cause), ValidationError.isValidationError)) return exit1
    if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
    return Option.match(CliFailure.sentence(cause), {
      onSome: fail,
      onNone: () => fail(`posbridge failed unexpectedly (a defect, please report it):\n${Cause.pretty(cause)}`)
    })
  }),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
