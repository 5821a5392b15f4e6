// The V8 flags `pnpm start` (and `pnpm posbridge`) run the server with, read from the root package.json's `start`
// script (`node FLAGS… tooling/run-built.mjs …`): the one place they are written. The benchmarks and tests that
// spawn the server take them from here, so what they measure is what users run.
//
// Why these flags: most of what the server allocates per page, per sync batch and per scrape is short-lived
// garbage (after a 50,000-document backfill the live heap is what it was at start, 12 MB), and V8's defaults
// (16 MB semi-spaces, the old generation allowed to grow well past what is live before a full collection) let RSS
// reach several times the live data. `--max-semi-space-size=2` keeps the young generation small;
// `--heap-growing-percent=30` collects the old generation before it grows far beyond what is live. The price is
// CPU spent collecting (README, "The V8 flags the server runs with"). V8 reads both at start-up
// (`v8.setFlagsFromString` later does not fully apply them, and NODE_OPTIONS refuses the second), so they go on
// node's command line.
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

// The repository's package.json, found upwards from this module: a benchmark's bundle (tooling/run-bench.mjs)
// holds this code under a package's node_modules/.cache, so the path is not fixed.
const repository = () => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json")
    const json = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined
    if (json?.name === "posbridge") return { dir, json }
    if (dirname(dir) === dir) throw new Error("the posbridge repository's package.json was not found")
  }
}

const flagsOf = (script) =>
  /^node((?: --[a-z-]+(?:=\S+)?)*) (?:\.\.\/\.\.\/)?tooling\/run-built\.mjs /.exec(script ?? "")?.[1]

/** @returns {string[]} */
const parse = () => {
  const { dir, json } = repository()
  const root = json.scripts ?? {}
  const flags = flagsOf(root.start)
  if (flags === undefined) {
    throw new Error(`package.json's start script is not \`node [flags…] tooling/run-built.mjs …\`: ${root.start}`)
  }
  // Every other script that runs the app the same way carries the same flags.
  const app = JSON.parse(readFileSync(join(dir, "apps/server/package.json"), "utf8")).scripts ?? {}
  for (const [where, script] of [
    ["package.json's posbridge", root.posbridge],
    ["apps/server/package.json's start", app.start],
    ["apps/server/package.json's cli", app.cli]
  ]) {
    if (flagsOf(script) !== flags) {
      throw new Error(`${where} script does not run node with the start script's flags (${flags.trim()}): ${script}`)
    }
  }
  return flags.split(" ").filter((f) => f !== "")
}

export const serverNodeFlags = parse()
