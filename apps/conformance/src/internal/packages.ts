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
  const dot = typeof exp === "string" ? exp : exp?.["."]
  const rel =
    typeof dot === "string"
      ? dot
      : typeof dot === "object" && dot !== null
        ? String((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default)
        : (pkg.main ?? "./src/index.ts")
  return join(dir, rel)
}
