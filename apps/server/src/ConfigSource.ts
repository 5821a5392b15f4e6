/**
 * Where the server's configuration comes from: `--config`, else `POSBRIDGE_CONFIG`, else
 * `posbridge.config.json` in the directory the command was started from; with none of them, demo mode.
 */
import { FetchHttpClient, FileSystem, HttpClient } from "@effect/platform"
import { type AdapterDescriptor, TokenVault } from "@posbridge/core"
import { adapter as heartland } from "@posbridge/source-heartland"
import { adapter as lightspeed } from "@posbridge/source-lightspeed"
import { Context, Duration, Effect, Option } from "effect"
import * as Config from "./Config.js"
import * as Demo from "./Demo.js"
import type * as Stores from "./Stores.js"

/** The directory the user ran the command from (pnpm runs scripts inside the package). */
export const baseDir = process.env.INIT_CWD ?? process.cwd()
export const defaultDataDir = `${baseDir.replace(/\/$/, "")}/data`

export const builtIns: Readonly<Record<string, AdapterDescriptor.AdapterDescriptor>> = {
  lightspeed,
  heartland
}

const absolute = (p: string) => (p.startsWith("/") ? p : `${baseDir.replace(/\/$/, "")}/${p}`)

export const configPath = (flag: Option.Option<string>) =>
  Effect.gen(function* () {
    if (Option.isSome(flag)) return Option.some(absolute(flag.value))
    const env = process.env.POSBRIDGE_CONFIG
    if (env) return Option.some(absolute(env))
    const fs = yield* FileSystem.FileSystem
    const candidate = absolute("posbridge.config.json")
    return (yield* fs.exists(candidate).pipe(Effect.orElseSucceed(() => false)))
      ? Option.some(candidate)
      : Option.none()
  })

export type Mode =
  | { readonly _tag: "Configured"; readonly path: string; readonly config: Config.ServerConfig }
  | { readonly _tag: "Demo"; readonly config: Config.ServerConfig }

/** The demo's configuration: SQLite in the data directory, the two demo stores, admin `admin`/`demo`. */
export const demoConfig = (stores: ReadonlyArray<Config.ResolvedStore>): Config.ServerConfig => {
  const dataDir = process.env.POSBRIDGE_DATA_DIR || defaultDataDir
  const port = Number(process.env.PORT || 8080)
  return {
    source: "demo mode",
    port: Number.isInteger(port) ? port : 8080,
    dataDir,
    database: { engine: "sqlite", file: `${dataDir}/demo.sqlite` },
    admin: { username: "admin", password: Demo.adminPassword },
    encryptionKey: undefined,
    historyRetention: Duration.days(30),
    outbox: { maxAttempts: 10, initialBackoff: Duration.seconds(30), maxBackoff: Duration.hours(6) },
    cluster: Config.defaultCluster,
    metrics: Config.defaultMetrics(process.env),
    stores,
    storeProblems: []
  }
}

export const mode = (flag: Option.Option<string>) =>
  Effect.gen(function* () {
    const path = yield* configPath(flag)
    if (Option.isNone(path)) return { _tag: "Demo", config: demoConfig(Demo.storeEntries("")) } as Mode
    const config = yield* Config.load(path.value, process.env, defaultDataDir)
    // Every command may open the SQLite file (serve, sync, stores add…): its directory must exist first.
    if (config.database.engine === "sqlite") {
      const fs = yield* FileSystem.FileSystem
      yield* fs.makeDirectory(config.dataDir, { recursive: true })
    }
    return { _tag: "Configured", path: path.value, config } as Mode
  })

/** Real stores: HTTP over fetch, tokens in the order store's encrypted vault. */
export const liveServices = (vault: TokenVault.TokenVaultService) => {
  // One context for every store: the fetch client and the vault are shared, built once.
  const context: Context.Context<Stores.Services> = Context.make(TokenVault.TokenVault, vault).pipe(
    Context.add(HttpClient.HttpClient, Effect.runSync(Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer)))
  )
  return (_storeId: string): Context.Context<Stores.Services> => context
}
