#!/usr/bin/env node
// Builds the package in the current directory (turbo's `build` task, cached):
//
//   node ../../tooling/build.mjs                   a package: every src/**/*.ts → dist/**/*.js, one file per module
//   node ../../tooling/build.mjs --bundle src/x.ts  an app: one tree-shaken ES module, dist/x.js, for `node`
//
// It only transpiles: `tsc` (the `check` task) is what type-checks, and since the code is written with
// `isolatedModules` and `verbatimModuleSyntax`, per-file transpiling gives the same JavaScript.
//
// Packages export `dist/` by default and `src/` under the `source` condition, which vitest, tsx and tsc use in
// development. An app's bundle takes the packages' built `dist/` (turbo builds them first) and the libraries
// it uses, minus what it never calls: `import { Effect } from "effect"` loads all of Effect's modules when
// unbundled, about 45 MB of the process before any work.
import { readdirSync, rmSync, statSync } from "node:fs"
import { basename, join } from "node:path"
import { build } from "esbuild"
import { nodeBundle } from "./node-bundle.mjs"

const cwd = process.cwd()
const src = join(cwd, "src")
const out = join(cwd, "dist")
const args = process.argv.slice(2)

const sources = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : []
  })

// A module deleted from src must not live on in dist.
rmSync(out, { recursive: true, force: true })
if (args[0] === "--bundle") {
  const entry = join(cwd, args[1])
  await build({
    ...nodeBundle,
    entryPoints: [entry],
    outfile: join(out, basename(entry).replace(/\.ts$/, ".js")),
    sourcemap: true,
    logLevel: "warning"
  })
} else {
  await build({
    entryPoints: sources(src),
    outdir: out,
    outbase: src,
    format: "esm",
    platform: "neutral",
    target: "node20",
    sourcemap: true,
    bundle: false,
    logLevel: "warning"
  })
}
