#!/usr/bin/env node
// Runs a benchmark on what `pnpm start` runs: `node ../../tooling/run-bench.mjs bench/index.ts [args…]` from a
// package directory. The bench's own files (and the test helpers it shares) are bundled into one ES module, but
// every package stays external, so `@posbridge/*` imports load the packages' built `dist/` JavaScript under plain
// node, exactly as the server does. (turbo's `bench` task depends on `build`.) Under tsx every source module and
// its transform would stay in memory (~175 MB before any work) and hide the program's own footprint.
import { spawnSync } from "node:child_process"
import { mkdirSync } from "node:fs"
import { basename, join, resolve } from "node:path"
import { build } from "esbuild"

const [entry, ...args] = process.argv.slice(2)
if (!entry) {
  console.error("usage: node tooling/run-bench.mjs ENTRY.ts [args…]")
  process.exit(2)
}
const cwd = process.cwd()
const outDir = join(cwd, "node_modules/.cache/run-bench")
mkdirSync(outDir, { recursive: true })
const outfile = join(outDir, `${basename(entry).replace(/\.ts$/, "")}.mjs`)
const srcImports = {
  name: "no-src-imports",
  setup(b) {
    // A bench that reached into ../src would measure a bundle of the sources, not the built package.
    b.onResolve({ filter: /(^|\/)src\// }, (a) =>
      a.importer.includes("/node_modules/")
        ? undefined
        : { errors: [{ text: `${a.path}: import the package by name (its built dist), not its src` }] }
    )
  }
}
await build({
  entryPoints: [resolve(cwd, entry)],
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  plugins: [srcImports],
  logLevel: "error"
})
const run = spawnSync(process.execPath, ["--enable-source-maps", outfile, ...args], { stdio: "inherit", cwd })
process.exit(run.status ?? 1)
