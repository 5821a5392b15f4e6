// `pnpm start`: the server (demo mode when there is no configuration file).
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as Cli from "./Cli.js"

Cli.run([process.argv[0] ?? "node", process.argv[1] ?? "posbridge", "serve", ...process.argv.slice(2)]).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
