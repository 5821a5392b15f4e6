#!/usr/bin/env node
// Runs a benchmark on what `pnpm start` runs: `node ../../tooling/run-bench.mjs bench/index.ts [args…]` from a
// package directory. The bench's own files (and the test helpers it shares) are bundled into one ES module, but
// every package stays external, so `@posbridge/*` imports load the packages' built `dist/` JavaScript under plain
// node, exactly as the server does. (turbo's `bench` task depends on `build`.) Under tsx every source module and
// its transform would stay in memory (~175 MB before any work) and hide the program's own footprint.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
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
// The bench and the test helpers it shares may import a package's modules by relative path (`../src/X.js`): those
// are redirected to the built `dist/X.js`, so the bench measures the compiled package, never a bundle of sources.
const toDist = {
  name: "src-to-dist",
  setup(b) {
    b.onResolve({ filter: /(^|\/)src\// }, (a) => {
      if (a.importer.includes("/node_modules/") || !a.path.startsWith(".")) return undefined
      const path = resolve(dirname(a.importer), a.path)
      const m = /^(.*)\/src\/(.*)\.(?:js|ts)$/.exec(path)
      if (!m) return undefined
      const built = `${m[1]}/dist/${m[2]}.js`
      if (!existsSync(built))
        return { errors: [{ text: `${built} is missing: build the package first (turbo's bench task does)` }] }
      return { path: built, external: true }
    })
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
  plugins: [toDist],
  logLevel: "error"
})
const run = spawnSync(process.execPath, ["--enable-source-maps", outfile, ...args], { stdio: "inherit", cwd })
process.exit(run.status ?? 1)
