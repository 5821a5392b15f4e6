#!/usr/bin/env node
// `pnpm start` and `pnpm posbridge`: build what the app needs (turbo-cached, so an unchanged tree costs about a
// second), then run the app's compiled JavaScript in this same process under plain node.
//
//   node tooling/run-built.mjs @posbridge/server apps/server/dist/bin.js [args…]
//
// The build's output is shown only when it fails, so a command's own output (e.g. `posbridge explain`) stays clean.
import { spawnSync } from "node:child_process"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const [pkg, entry, ...args] = process.argv.slice(2)
if (!pkg || !entry) {
  console.error("usage: node tooling/run-built.mjs PACKAGE ENTRY.js [args…]")
  process.exit(2)
}
const turbo = join(root, "node_modules/.bin/turbo")
const built = spawnSync(turbo, ["run", "build", `--filter=${pkg}...`, "--output-logs=errors-only", "--ui=stream"], {
  cwd: root,
  encoding: "utf8",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" }
})
if (built.status !== 0) {
  process.stderr.write(built.stdout ?? "")
  process.stderr.write(built.stderr ?? "")
  console.error(`posbridge: building ${pkg} failed (exit ${built.status ?? built.signal}); nothing was started.`)
  process.exit(1)
}
const file = resolve(process.cwd(), entry)
// Source maps are built but not loaded: parsing the bundle's map costs tens of MB of memory in every process.
// For stack traces in source terms: NODE_OPTIONS=--enable-source-maps pnpm start.
// The app reads its arguments the usual way, as if it had been started as `node ENTRY args…`.
process.argv = [process.argv[0], file, ...args]
await import(pathToFileURL(file).href)
