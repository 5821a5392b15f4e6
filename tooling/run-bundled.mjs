#!/usr/bin/env node
// Runs a TypeScript entry point as one esbuild bundle under plain node: `node tooling/run-bundled.mjs bench/index.ts`
// from a package directory. Benchmarks that measure memory use it, because tsx keeps every source module and
// its transform in memory (~175 MB before any work), which would hide the program's own footprint.
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { build } from "esbuild"

const [entry, ...args] = process.argv.slice(2)
if (!entry) {
  console.error("usage: node tooling/run-bundled.mjs ENTRY.ts [args…]")
  process.exit(2)
}
const cwd = process.cwd()
const outDir = join(cwd, "node_modules/.cache/run-bundled")
mkdirSync(outDir, { recursive: true })
const outfile = join(outDir, `${basename(entry).replace(/\.ts$/, "")}.mjs`)
await build({
  entryPoints: [resolve(cwd, entry)],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile,
  // Native drivers stay real modules, resolved from the package's node_modules.
  external: ["better-sqlite3", "pg-native"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "error"
})
const run = spawnSync(process.execPath, [outfile, ...args], { stdio: "inherit", cwd })
process.exit(run.status ?? 1)
