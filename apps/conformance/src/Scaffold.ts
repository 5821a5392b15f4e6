/**
 * `new-adapter NAME --dir DIR`: copies tooling/adapter-template into DIR/source-NAME with the placeholders
 * filled. Inside the monorepo (DIR under packages/) the dependencies are `workspace:*` and `pnpm install` links
 * them; anywhere else the generated package gets a node_modules with links to this checkout's copies, so it can
 * be checked at once with `pnpm conformance --adapter DIR/source-NAME`.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"
import * as Packages from "./internal/packages.js"

export class ScaffoldError extends Data.TaggedError("ScaffoldError")<{ readonly message: string }> {}

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = resolve(here, "..", "..", "..")
export const templateDir = join(repoRoot, "tooling", "adapter-template")

const pascal = (name: string) =>
  name
    .split(/[-_]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("")

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })

export const generate = (name: string, dir: string): Effect.Effect<string, ScaffoldError> =>
  Effect.try({
    try: () => {
      if (!/^[a-z][a-z0-9-]{1,40}$/.test(name)) {
        throw new Error(
          `"${name}" is not a usable adapter name: lower-case letters, digits and -, starting with a letter`
        )
      }
      const out = resolve(dir, `source-${name}`)
      if (existsSync(out)) throw new Error(`${out} already exists`)
      mkdirSync(dirname(out), { recursive: true })
      cpSync(templateDir, out, { recursive: true })
      // The template's manifest is not named package.json: tooling/* is a workspace glob, and its placeholders
      // are not valid dependency versions.
      renameSync(join(out, "package.json.template"), join(out, "package.json"))
      const inWorkspace = !relative(join(repoRoot, "packages"), out).startsWith("..")
      const deps = inWorkspace
        ? { __EFFECT__: "catalog:", __PLATFORM__: "catalog:", __CORE__: "workspace:*", __TESTKIT__: "workspace:*" }
        : { __EFFECT__: "*", __PLATFORM__: "*", __CORE__: "*", __TESTKIT__: "*" }
      for (const file of walk(out)) {
        let text = readFileSync(file, "utf8")
        text = text.replaceAll("__NAME_PASCAL__", pascal(name)).replaceAll("__NAME__", name)
        for (const [k, v] of Object.entries(deps)) text = text.replaceAll(k, v)
        // The template's tsconfig points into the repository (base options, the web globals packages may use).
        if (!inWorkspace && file.endsWith("tsconfig.json")) text = text.replaceAll('"../../', `"${repoRoot}/`)
        writeFileSync(file, text)
      }
      if (!inWorkspace) {
        for (const specifier of ["effect", "@effect/platform", "@posbridge/core", "@posbridge/pos-testkit"]) {
          const target = join(out, "node_modules", specifier)
          mkdirSync(dirname(target), { recursive: true })
          const source = Packages.packageDir(specifier)
          if (source === undefined) throw new Error(`${specifier} is not installed next to the conformance app`)
          symlinkSync(source, target, "dir")
        }
      }
      return out
    },
    catch: (e) => new ScaffoldError({ message: e instanceof Error ? e.message : String(e) })
  })
