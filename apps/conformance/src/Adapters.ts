/** Finding adapter packages (built-in id, package name or directory) and their recorded fixtures. */
import { existsSync, readdirSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { AdapterDescriptor } from "@posbridge/core"
import { Data, Effect } from "effect"
import * as Packages from "./internal/packages.js"

export class AdapterNotFound extends Data.TaggedError("AdapterNotFound")<{
  readonly spec: string
  readonly reason: string
}> {
  override get message() {
    return `adapter "${this.spec}" could not be loaded: ${this.reason}`
  }
}

export const builtIn: Readonly<Record<string, string>> = {
  lightspeed: "@posbridge/source-lightspeed",
  heartland: "@posbridge/source-heartland"
}

export interface Target {
  readonly spec: string
  readonly descriptor: AdapterDescriptor.AdapterDescriptor
  readonly packageDir: string
  readonly fixtures: ReadonlyArray<{ readonly file: string; readonly path: string }>
}

export const listFixtures = (dir: string) =>
  existsSync(dir) && statSync(dir).isDirectory()
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((file) => ({ file, path: join(dir, file) }))
    : []

/** Loads `spec` (built-in id, package name, or a package directory) and lists `fixturesDir` or its `fixtures/`. */
export const load = (spec: string, fixturesDir?: string): Effect.Effect<Target, AdapterNotFound> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new AdapterNotFound({ spec, reason })
    const asPath = resolve(spec)
    const dir =
      existsSync(asPath) && statSync(asPath).isDirectory()
        ? existsSync(join(asPath, "package.json"))
          ? asPath
          : yield* fail(`no package.json in ${asPath}`)
        : Packages.packageDir(builtIn[spec] ?? spec)
    if (dir === undefined) return yield* fail("no such package is installed and no such directory exists")
    const entry = Packages.entryOf(dir)
    const module = yield* Effect.tryPromise({
      try: () => import(pathToFileURL(entry).href) as Promise<{ adapter?: unknown }>,
      catch: (e) => fail(e instanceof Error ? e.message.split("\n")[0]! : String(e))
    })
    if (!AdapterDescriptor.isAdapterDescriptor(module.adapter)) {
      return yield* fail("the package does not export an adapter descriptor as `adapter`")
    }
    const packageDir = dir
    return {
      spec,
      descriptor: module.adapter,
      packageDir,
      fixtures: listFixtures(fixturesDir ?? join(packageDir, "fixtures"))
    }
  })
