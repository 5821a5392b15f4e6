/**
 * The server's one entry point: `pnpm posbridge …` runs it with the arguments given, `pnpm start` with `serve`.
 * An expected failure (a sentence for the operator, or an error this module knows the sentence of) is printed
 * alone with exit code 1; anything else is a defect, reported by `runMain` with its trace.
 */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as Cli from "./Cli.js"

/** The one sentence of an expected failure, or undefined for a defect. */
const sentence = (e: unknown): string | undefined => {
  if (typeof e === "string") return e
  if (typeof e !== "object" || e === null || !("_tag" in e)) return undefined
  const error = e as {
    readonly _tag: string
    readonly message?: string
    readonly source?: string
    readonly problems?: ReadonlyArray<string>
  }
  switch (error._tag) {
    case "ConfigError":
      return `The configuration ${error.source} is invalid: ${(error.problems ?? []).join("; ")}.`
    case "OrderNotFound":
    case "UnknownStore":
      return error.message
    case "OrderStoreError":
    case "SqlError":
      return `The database did not answer: ${error.message}`
    default:
      return undefined
  }
}

Cli.run(process.argv).pipe(
  Effect.catchIf(ValidationError.isValidationError, () =>
    // @effect/cli has already printed what was wrong with the arguments and the usage.
    Effect.sync(() => {
      process.exitCode = 1
    })
  ),
  Effect.catchIf(
    (e) => sentence(e) !== undefined,
    (e) =>
      Effect.sync(() => {
        process.stderr.write(`${sentence(e)}\n`)
        process.exitCode = 1
      })
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
