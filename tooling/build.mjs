#!/usr/bin/env node
// Builds the package in the current directory: every `src/**/*.ts` becomes `dist/**/*.js` (ES modules, one file per
// module, with source maps). It only transpiles: `tsc` (the `check` task) is what type-checks, and since the code is
// written with `isolatedModules` and `verbatimModuleSyntax`, per-file transpiling gives the same JavaScript.
//
// Packages export `dist/` by default and `src/` under the `source` condition, which vitest, tsx and tsc use in
// development; production (`pnpm start`, `pnpm posbridge`) runs the built JavaScript under plain `node`.
import { readdirSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { build } from "esbuild"

const cwd = process.cwd()
const src = join(cwd, "src")
const out = join(cwd, "dist")

const sources = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : []
  })

// A module deleted from src must not live on in dist.
rmSync(out, { recursive: true, force: true })
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
