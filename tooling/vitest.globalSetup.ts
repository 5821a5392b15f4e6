/**
 * Before any test runs: build what the end-to-end tests start as processes (the server's compiled JavaScript,
 * what `pnpm start` runs). turbo caches it, so an unchanged tree costs about a second. Everything else in the
 * tests runs from TypeScript sources through the `source` export condition.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export default function setup() {
  const root = fileURLToPath(new URL("..", import.meta.url))
  const built = spawnSync(
    `${root}node_modules/.bin/turbo`,
    ["run", "build", "--filter=@posbridge/server...", "--output-logs=errors-only", "--ui=stream"],
    { cwd: root, encoding: "utf8", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } }
  )
  if (built.status !== 0)
    throw new Error(`building the server for the end-to-end tests failed:\n${built.stdout}${built.stderr}`)
}
