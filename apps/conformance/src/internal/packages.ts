/**
 * Finds an installed package's directory by walking up node_modules from this app (what Node's resolver does),
 * because `import.meta.resolve` is missing under vitest and `require.resolve` refuses ESM-only packages.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))

export const packageDir = (name: string, from = here): string | undefined => {
  let dir = from
  for (;;) {
    const candidate = join(dir, "node_modules", name, "package.json")
    if (existsSync(candidate)) return realpathSync(dirname(candidate))
    if (dirname(dir) === dir) return undefined
    dir = dirname(dir)
  }
}

/** The file a package's `"."` export (or `main`) points at. */
export const entryOf = (dir: string): string => {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: unknown; main?: string }
  const exp = pkg.exports as string | Record<string, unknown> | undefined
  return join(dir, target(typeof exp === "string" ? exp : exp?.["."]) ?? pkg.main ?? "./src/index.ts")
}

/** The file a package's `subpath` export (e.g. `./testing`) points at, if it has one. */
export const subpathEntryOf = (dir: string, subpath: string): string | undefined => {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: unknown }
  const exp = pkg.exports
  const rel = typeof exp === "object" && exp !== null ? target((exp as Record<string, unknown>)[subpath]) : undefined
  return rel === undefined ? undefined : join(dir, rel)
}

/**
 * The file an export entry points at. The harness runs from sources (tsx or vitest with the `source` condition),
 * so a workspace package's `source` entry wins: its built `dist/` may be stale or missing.
 */
const target = (entry: unknown): string | undefined => {
  if (typeof entry === "string") return entry
  if (typeof entry !== "object" || entry === null) return undefined
  const conditions = entry as Record<string, unknown>
  return String(conditions.source ?? conditions.import ?? conditions.default)
}
