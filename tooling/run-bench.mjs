#!/usr/bin/env node
// Runs a benchmark the way `pnpm start` runs the server: `node ../../tooling/run-bench.mjs bench/index.ts [args…]`
// from a package directory. The bench is bundled like the server (tooling/build.mjs --bundle): the packages' built
// `dist/` (turbo's `bench` task builds first) and the libraries, tree-shaken, in one module under plain node.
// Under tsx every source module and its transform would stay in memory and hide the program's own footprint.
// Node runs it with the V8 flags `pnpm start` gives the server (tooling/node-flags.mjs).
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync } from "node:fs"
import { basename, dirname, join, resolve } from "node:path"
import { build } from "esbuild"
import { nodeBundle } from "./node-bundle.mjs"
import { serverNodeFlags } from "./node-flags.mjs"

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
// are taken from the built `dist/X.js`, so the bench measures the compiled package, never its sources. An app is
// built as one bundle (`build.mjs --bundle`), with no `dist/X.js` per module: its own modules are bundled here from
// source instead, with the same esbuild options as its bundle.
const toDist = {
  name: "src-to-dist",
  setup(b) {
    // Whether a package directory's build is one bundle, read once per directory.
    const bundled = new Map()
    const bundledApp = (dir) => {
      if (!bundled.has(dir)) {
        const pkg = join(dir, "package.json")
        const build = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, "utf8")).scripts?.build ?? "") : ""
        bundled.set(dir, /--bundle\b/.test(build))
      }
      return bundled.get(dir)
    }
    b.onResolve({ filter: /(^|\/)src\// }, (a) => {
      if (a.importer.includes("/node_modules/") || !a.path.startsWith(".")) return undefined
      const m = /^(.*)\/src\/(.*)\.(?:js|ts)$/.exec(resolve(dirname(a.importer), a.path))
      if (!m) return undefined
      const built = `${m[1]}/dist/${m[2]}.js`
      if (existsSync(built)) return { path: built }
      const source = `${m[1]}/src/${m[2]}.ts`
      if (bundledApp(m[1]) && existsSync(source)) return { path: source }
      return { errors: [{ text: `${built} is missing: build the package first (turbo's bench task does)` }] }
    })
  }
}
// The load generator is a tool, not what is measured: it stays a real module (it finds its worker files
// through __dirname, which a bundle does not have).
const external = [...nodeBundle.external, "autocannon"]
await build({
  ...nodeBundle,
  external,
  entryPoints: [resolve(cwd, entry)],
  outfile,
  plugins: [toDist],
  logLevel: "error"
})
const run = spawnSync(process.execPath, [...serverNodeFlags, outfile, ...args], { stdio: "inherit", cwd })
process.exit(run.status ?? 1)
