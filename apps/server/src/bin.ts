/**
 * The server's one entry point: `pnpm posbridge …` runs it with the arguments given, `pnpm start` with `serve`.
 * An expected failure (a sentence for the operator, failed as a string) is printed alone with exit code 1;
 * anything else is reported by `runMain`.
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as Cli from "./Cli.js"

Cli.run(process.argv).pipe(
  Effect.catchIf(
    (e): e is string => typeof e === "string",
    (message) =>
      Effect.sync(() => {
        process.stderr.write(`${message}\n`)
        process.exitCode = 1
      })
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
