/**
 * Server configuration: a JSON file plus environment variables, decoded with Schema. Secrets never sit in
 * the file: every secret field is a reference, `{ "env": "NAME" }` or `{ "file": "/run/secrets/name" }`,
 * resolved at start-up into a `Redacted` value. A mistake is reported with the path of the bad field.
 */
import { FileSystem } from "@effect/platform"
import { StoreId } from "@posbridge/core"
import { Data, Duration, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"

export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly source: string
  readonly problems: ReadonlyArray<string>
}> {
  override get message() {
    return `Configuration ${this.source} is invalid:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`
  }
}

export type SecretRef = { readonly env: string } | { readonly file: string }

const isSecretRef = (u: unknown): u is SecretRef =>
  typeof u === "object" &&
  u !== null &&
  !Array.isArray(u) &&
  Object.keys(u).length === 1 &&
  ((typeof (u as { env?: unknown }).env === "string" && (u as { env: string }).env !== "") ||
    (typeof (u as { file?: unknown }).file === "string" && (u as { file: string }).file !== ""))

/**
 * A secret in the configuration file: where to read it from, never the value itself. A declared schema, so a
 * mistake is reported with this sentence and never echoes the value (which may be a pasted secret).
 */
export const SecretRef = Schema.declare(isSecretRef, {
  message: () => 'a secret is given as {"env": "VARIABLE"} or {"file": "/path/to/secret"}, never inline'
})

const StoreEntry = Schema.Struct({
  id: StoreId.StoreId,
  adapter: Schema.String.pipe(Schema.minLength(1)),
  documentKind: Schema.Literal("invoices", "orders"),
  pageSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 500)), { exact: true }),
  timeZone: Schema.optionalWith(Schema.String, { exact: true }),
  shipstation: Schema.Struct({ username: Schema.String.pipe(Schema.minLength(1)), password: SecretRef }),
  /** Adapter settings; any value of the form {"env": …} / {"file": …} inside is resolved as a secret. */
  settings: Schema.optionalWith(Schema.Unknown, { exact: true }),
  syncIntervalSeconds: Schema.optionalWith(Schema.Int.pipe(Schema.between(5, 86_400)), { exact: true }),
  lookbackDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 3650)), { exact: true }),
  /**
   * ShipStation's REST API, so posbridge can ask ShipStation to refresh this store (issue 18): the key pair as
   * secret references, the ShipStation store id (else discovered by the store's integration URL), refresh on
   * arrival (default on) no more often than every `minIntervalSeconds` (default 300).
   */
  shipstationApi: Schema.optionalWith(
    Schema.Struct({
      apiKey: SecretRef,
      apiSecret: SecretRef,
      storeId: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true }),
      integrationUrl: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true }),
      autoRefresh: Schema.optionalWith(Schema.Boolean, { exact: true }),
      minIntervalSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 86_400)), { exact: true }),
      /** ShipStation's API address (default https://ssapi.shipstation.com); a simulator's in tests. */
      baseUrl: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true })
    }),
    { exact: true }
  )
})
export type StoreEntry = typeof StoreEntry.Type

export const ConfigFile = Schema.Struct({
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 65_535)), { exact: true }),
  /**
   * The address ShipStation (and merchants' browsers) reach this server at, e.g. https://bridge.example.com: a
   * store's integration URL is `<publicUrl>/shipstation/<store id>`, what ShipStation's API shows for it.
   */
  publicUrl: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s]+$/)), { exact: true }),
  /** Where the SQLite file and other state live. */
  dataDir: Schema.optionalWith(Schema.String, { exact: true }),
  database: Schema.optionalWith(
    Schema.Union(
      Schema.Struct({ engine: Schema.Literal("sqlite"), file: Schema.optionalWith(Schema.String, { exact: true }) }),
      Schema.Struct({ engine: Schema.Literal("postgres"), url: SecretRef })
    ),
    { exact: true }
  ),
  admin: Schema.optionalWith(Schema.Struct({ username: Schema.String, password: SecretRef }), { exact: true }),
  /** Key for tokens stored at rest (e.g. Lightspeed refresh tokens). */
  encryptionKey: Schema.optionalWith(SecretRef, { exact: true }),
  /**
   * Days of export history and poll log kept (default 30); older entries are pruned every 10 minutes. Current
   * documents, each one's latest ingest event, ship notices and write-backs are kept whatever their age.
   */
  historyRetentionDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 3650)), { exact: true }),
  outbox: Schema.optionalWith(
    Schema.Struct({
      maxAttempts: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { exact: true }),
      initialBackoffSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { exact: true }),
      maxBackoffSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.positive()), { exact: true })
    }),
    { exact: true }
  ),
  /**
   * Prometheus metrics on their own listener (they name every store): `address` is `host:port` (default
   * 127.0.0.1:9464, loopback only) or "off"; `token`, when set, is required as `Authorization: Bearer …`.
   * The per-store gauges are refreshed from the database every `refreshSeconds` (default 15) by the runner owning
   * each store, and after each of its syncs; a scrape reads nothing from the database.
   */
  metrics: Schema.optionalWith(
    Schema.Struct({
      address: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true }),
      token: Schema.optionalWith(SecretRef, { exact: true }),
      refreshSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 3_600)), { exact: true })
    }),
    { exact: true }
  ),
  cluster: Schema.optionalWith(
    Schema.Struct({
      /** The address other runners reach this runner at. */
      runnerHost: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true }),
      runnerPort: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65_535)), { exact: true }),
      /** Every runner on one database must agree. */
      shards: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10_000)), { exact: true }),
      healthCheckSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 600)), { exact: true }),
      lockRefreshSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 600)), { exact: true }),
      lockExpirationSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(3, 3_600)), { exact: true })
    }),
    { exact: true }
  ),
  stores: Schema.Array(StoreEntry)
})
export type ConfigFile = typeof ConfigFile.Type

/** Formats Schema errors as one line per bad field: `stores[1].documentKind: Expected "invoices" | "orders", actual "sales"`. */
export const describeParseError = (error: ParseResult.ParseError): ReadonlyArray<string> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join("")
    return `${path || "(root)"}: ${issue.message}`
  })

export const decodeFile = (text: string, source: string): Either.Either<ConfigFile, ConfigError> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(new ConfigError({ source, problems: [`not valid JSON: ${(e as Error).message}`] }))
  }
  return Schema.decodeUnknownEither(ConfigFile, { errors: "all", onExcessProperty: "error" })(json).pipe(
    Either.mapLeft((e) => new ConfigError({ source, problems: describeParseError(e) }))
  )
}

/** Resolves one secret reference; the error names the field and where it looked, never a value. */
export const resolveSecret = (ref: SecretRef, field: string, env: Record<string, string | undefined>) =>
  Effect.gen(function* () {
    if ("env" in ref) {
      const value = env[ref.env]
      if (value === undefined || value === "") {
        return yield* Effect.fail(`${field}: the environment variable ${ref.env} is not set`)
      }
      return Redacted.make(value)
    }
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs
      .readFileString(ref.file)
      .pipe(Effect.mapError(() => `${field}: cannot read the file ${ref.file}`))
    return Redacted.make(text.trim())
  })

/** Replaces every secret reference inside adapter settings by its value (adapters decode plain strings). */
const resolveSettings = (
  value: unknown,
  field: string,
  env: Record<string, string | undefined>
): Effect.Effect<unknown, string, FileSystem.FileSystem> => {
  if (isSecretRef(value)) return Effect.map(resolveSecret(value, field, env), Redacted.value)
  if (Array.isArray(value)) return Effect.forEach(value, (v, i) => resolveSettings(v, `${field}[${i}]`, env))
  if (typeof value === "object" && value !== null) {
    return Effect.map(
      Effect.forEach(Object.entries(value), ([k, v]) =>
        Effect.map(resolveSettings(v, `${field}.${k}`, env), (r) => [k, r] as const)
      ),
      Object.fromEntries
    )
  }
  return Effect.succeed(value)
}

export interface ResolvedStore {
  readonly id: string
  readonly adapter: string
  readonly documentKind: "invoices" | "orders"
  readonly pageSize: number
  readonly timeZone: string
  readonly shipstation: { readonly username: string; readonly password: Redacted.Redacted<string> }
  readonly settings: unknown
  readonly syncInterval: Duration.Duration
  readonly lookbackDays: number
  readonly shipstationApi?: ShipStationApiSettings | undefined
}

/** A store's ShipStation REST API settings, resolved (see `shipstationApi` in the file). */
export interface ShipStationApiSettings {
  readonly apiKey: Redacted.Redacted<string>
  readonly apiSecret: Redacted.Redacted<string>
  /** The ShipStation store id; None: discovered by `integrationUrl`. */
  readonly storeId: Option.Option<number>
  /** What ShipStation shows as the store's integration URL (for discovery). */
  readonly integrationUrl: Option.Option<string>
  readonly autoRefresh: boolean
  readonly minInterval: Duration.Duration
  readonly baseUrl: string
}

/**
 * This process as a runner of the cluster that shares the stores out (see Cluster.ts). On SQLite one runner
 * runs every store and no socket is opened; on PostgreSQL runners find each other through the database.
 */
export interface ClusterConfig {
  readonly runnerHost: string
  readonly runnerPort: number
  readonly shards: number
  /** How often a runner checks the others answer (a dead one loses its shards). */
  readonly healthCheck: Duration.Duration
  /** How often a runner renews its shard locks and its heartbeat. */
  readonly lockRefresh: Duration.Duration
  /** A runner whose heartbeat is older than this is gone: its shards go to the others. */
  readonly lockExpiration: Duration.Duration
}

/** Where the metrics listener listens (None: "off"), the bearer token it wants, how often gauges are refreshed. */
export interface MetricsConfig {
  readonly listen: Option.Option<{ readonly host: string; readonly port: number }>
  readonly token: Redacted.Redacted<string> | undefined
  readonly refresh: Duration.Duration
}

export const defaultMetricsAddress = "127.0.0.1:9464"

/**
 * `host:port`, `:port` (all interfaces) or "off"; POSBRIDGE_METRICS_ADDRESS overrides the file (several processes
 * on one machine, the demo). A bad value is a configuration problem naming where it came from.
 */
export const parseMetricsAddress = (text: string, field: string, problems: Array<string>): MetricsConfig["listen"] => {
  if (text.trim().toLowerCase() === "off") return Option.none()
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(text.trim())
  const port = m ? Number(m[2]) : Number.NaN
  if (!m || !Number.isInteger(port) || port > 65_535) {
    problems.push(`${field}: "${text}" is not host:port (like 127.0.0.1:9464) or "off"`)
    return Option.none()
  }
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "")
  return Option.some({ host: host === "" ? "0.0.0.0" : host, port })
}

export interface ServerConfig {
  readonly source: string
  readonly port: number
  readonly dataDir: string
  readonly database:
    | { readonly engine: "sqlite"; readonly file: string }
    | { readonly engine: "postgres"; readonly url: Redacted.Redacted<string> }
  readonly admin: { readonly username: string; readonly password: Redacted.Redacted<string> } | undefined
  readonly encryptionKey: Redacted.Redacted<string> | undefined
  /** How long export history and the poll log are kept (`historyRetentionDays`). */
  readonly historyRetention: Duration.Duration
  readonly outbox: {
    readonly maxAttempts: number
    readonly initialBackoff: Duration.Duration
    readonly maxBackoff: Duration.Duration
  }
  readonly cluster: ClusterConfig
  readonly metrics: MetricsConfig
  readonly stores: ReadonlyArray<ResolvedStore>
  /** Problems with single stores: those stores do not start, the others do. */
  readonly storeProblems: ReadonlyArray<string>
}

export interface Environment {
  readonly PORT?: string | undefined
  readonly POSBRIDGE_DATA_DIR?: string | undefined
  readonly POSBRIDGE_RUNNER_HOST?: string | undefined
  readonly POSBRIDGE_RUNNER_PORT?: string | undefined
  readonly [key: string]: string | undefined
}

const join = (dir: string, file: string) => (file.startsWith("/") ? file : `${dir.replace(/\/$/, "")}/${file}`)

const set = (value: string | undefined): value is string => value !== undefined && value !== ""

/** The `cluster` section with its defaults; POSBRIDGE_RUNNER_HOST / _PORT override it (one file, N processes). */
const resolveCluster = (
  section: NonNullable<ConfigFile["cluster"]>,
  env: Environment,
  problems: Array<string>
): ClusterConfig => {
  const runnerPort = set(env.POSBRIDGE_RUNNER_PORT) ? Number(env.POSBRIDGE_RUNNER_PORT) : (section.runnerPort ?? 34431)
  if (!Number.isInteger(runnerPort) || runnerPort < 1 || runnerPort > 65_535) {
    problems.push(`POSBRIDGE_RUNNER_PORT: "${env.POSBRIDGE_RUNNER_PORT}" is not a port number`)
  }
  const lockRefresh = section.lockRefreshSeconds ?? 5
  const lockExpiration = section.lockExpirationSeconds ?? 20
  if (lockExpiration < 2 * lockRefresh) {
    problems.push(
      `cluster.lockExpirationSeconds: ${lockExpiration} must be at least twice cluster.lockRefreshSeconds (${lockRefresh}), or a runner that is alive loses its shards`
    )
  }
  return {
    runnerHost: set(env.POSBRIDGE_RUNNER_HOST) ? env.POSBRIDGE_RUNNER_HOST : (section.runnerHost ?? "localhost"),
    runnerPort,
    shards: section.shards ?? 100,
    healthCheck: Duration.seconds(section.healthCheckSeconds ?? 5),
    lockRefresh: Duration.seconds(lockRefresh),
    lockExpiration: Duration.seconds(lockExpiration)
  }
}

/** The `metrics` section with its defaults; POSBRIDGE_METRICS_ADDRESS overrides its address. */
const resolveMetrics = <E, R>(
  section: NonNullable<ConfigFile["metrics"]>,
  env: Environment,
  problems: Array<string>,
  secret: (ref: SecretRef, field: string) => Effect.Effect<Redacted.Redacted<string> | undefined, E, R>
) =>
  Effect.gen(function* () {
    const fromEnv = set(env.POSBRIDGE_METRICS_ADDRESS)
    const listen = parseMetricsAddress(
      fromEnv ? (env.POSBRIDGE_METRICS_ADDRESS as string) : (section.address ?? defaultMetricsAddress),
      fromEnv ? "POSBRIDGE_METRICS_ADDRESS" : "metrics.address",
      problems
    )
    const token = section.token ? yield* secret(section.token, "metrics.token") : undefined
    const metrics: MetricsConfig = { listen, token, refresh: Duration.seconds(section.refreshSeconds ?? 15) }
    return metrics
  })

/**
 * A store's `shipstationApi` section: the key pair's secrets resolved, and an integration URL to discover the
 * ShipStation store id by when none is given (`integrationUrl`, else `<publicUrl>/shipstation/<id>`).
 */
const resolveShipStationApi = (
  section: NonNullable<StoreEntry["shipstationApi"]>,
  storeId: string,
  at: string,
  publicUrl: string | undefined,
  env: Environment
) =>
  Effect.gen(function* () {
    const apiKey = yield* resolveSecret(section.apiKey, `${at}.shipstationApi.apiKey`, env)
    const apiSecret = yield* resolveSecret(section.apiSecret, `${at}.shipstationApi.apiSecret`, env)
    const integrationUrl = Option.orElse(Option.fromNullable(section.integrationUrl), () =>
      Option.map(Option.fromNullable(publicUrl), (u) => `${u.replace(/\/+$/, "")}/shipstation/${storeId}`)
    )
    if (section.storeId === undefined && Option.isNone(integrationUrl)) {
      return yield* Effect.fail(
        `${at}.shipstationApi: give the ShipStation store id (storeId), or the store's integration URL (integrationUrl, or publicUrl for the server) to find it by`
      )
    }
    const settings: ShipStationApiSettings = {
      apiKey,
      apiSecret,
      storeId: Option.fromNullable(section.storeId),
      integrationUrl,
      autoRefresh: section.autoRefresh ?? true,
      minInterval: Duration.seconds(section.minIntervalSeconds ?? 300),
      baseUrl: (section.baseUrl ?? "https://ssapi.shipstation.com").replace(/\/+$/, "")
    }
    return settings
  })

/** The metrics defaults with POSBRIDGE_METRICS_ADDRESS applied (the demo, which has no file). */
export const defaultMetrics = (env: Environment): MetricsConfig => {
  const problems: Array<string> = []
  const listen = parseMetricsAddress(
    set(env.POSBRIDGE_METRICS_ADDRESS) ? (env.POSBRIDGE_METRICS_ADDRESS as string) : defaultMetricsAddress,
    "POSBRIDGE_METRICS_ADDRESS",
    problems
  )
  return { listen: problems.length > 0 ? Option.none() : listen, token: undefined, refresh: Duration.seconds(15) }
}

/** The cluster section's defaults (a configuration without one, the demo). */
export const defaultCluster: ClusterConfig = resolveCluster({}, {}, [])

/** Resolves a decoded file against the environment. Store-level problems do not stop the other stores. */
export const resolve = (file: ConfigFile, source: string, env: Environment, defaultDataDir: string) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const port = env.PORT !== undefined && env.PORT !== "" ? Number(env.PORT) : (file.port ?? 8080)
    if (!Number.isInteger(port) || port < 0 || port > 65_535) problems.push(`PORT: "${env.PORT}" is not a port number`)
    const dataDir = env.POSBRIDGE_DATA_DIR || file.dataDir || defaultDataDir
    const cluster = resolveCluster(file.cluster ?? {}, env, problems)
    const secret = (ref: SecretRef, field: string) =>
      resolveSecret(ref, field, env).pipe(
        Effect.catchAll((p) => Effect.sync(() => problems.push(p)).pipe(Effect.as(undefined)))
      )
    const db = file.database ?? { engine: "sqlite" as const }
    let database: ServerConfig["database"] = { engine: "sqlite", file: join(dataDir, "posbridge.sqlite") }
    if (db.engine === "sqlite") database = { engine: "sqlite", file: join(dataDir, db.file ?? "posbridge.sqlite") }
    else {
      const url = yield* secret(db.url, "database.url")
      if (url) database = { engine: "postgres", url }
    }
    const adminPassword = file.admin ? yield* secret(file.admin.password, "admin.password") : undefined
    const encryptionKey = file.encryptionKey ? yield* secret(file.encryptionKey, "encryptionKey") : undefined
    const metrics = yield* resolveMetrics(file.metrics ?? {}, env, problems, secret)
    if (problems.length > 0) return yield* new ConfigError({ source, problems })

    const storeProblems: Array<string> = []
    const stores: Array<ResolvedStore> = []
    const seen = new Set<string>()
    for (const [i, s] of file.stores.entries()) {
      const at = `stores[${i}] (${s.id})`
      if (seen.has(s.id)) {
        storeProblems.push(`${at}.id: the store id "${s.id}" is used twice`)
        continue
      }
      seen.add(s.id)
      if (s.adapter === "lightspeed" && encryptionKey === undefined) {
        storeProblems.push(
          `${at}: Lightspeed refresh tokens rotate and are kept encrypted: set encryptionKey (32 random bytes, base64, e.g. from \`openssl rand -base64 32\`)`
        )
        continue
      }
      const password = yield* resolveSecret(s.shipstation.password, `${at}.shipstation.password`, env).pipe(
        Effect.either
      )
      const settings = yield* resolveSettings(s.settings ?? {}, `${at}.settings`, env).pipe(Effect.either)
      if (Either.isLeft(password)) storeProblems.push(password.left)
      if (Either.isLeft(settings)) storeProblems.push(settings.left)
      const api = s.shipstationApi
        ? yield* resolveShipStationApi(s.shipstationApi, s.id, at, file.publicUrl, env).pipe(Effect.either)
        : Either.right(undefined)
      if (Either.isLeft(api)) storeProblems.push(api.left)
      if (Either.isLeft(password) || Either.isLeft(settings) || Either.isLeft(api)) continue
      stores.push({
        id: s.id,
        adapter: s.adapter,
        documentKind: s.documentKind,
        pageSize: s.pageSize ?? 100,
        timeZone: s.timeZone ?? "utc",
        shipstation: { username: s.shipstation.username, password: password.right },
        settings: settings.right,
        syncInterval: Duration.seconds(s.syncIntervalSeconds ?? 60),
        lookbackDays: s.lookbackDays ?? 30,
        ...(api.right ? { shipstationApi: api.right } : {})
      })
    }
    const config: ServerConfig = {
      source,
      port,
      dataDir,
      database,
      admin: file.admin && adminPassword ? { username: file.admin.username, password: adminPassword } : undefined,
      encryptionKey,
      historyRetention: Duration.days(file.historyRetentionDays ?? 30),
      outbox: {
        maxAttempts: file.outbox?.maxAttempts ?? 10,
        initialBackoff: Duration.seconds(file.outbox?.initialBackoffSeconds ?? 30),
        maxBackoff: Duration.seconds(file.outbox?.maxBackoffSeconds ?? 6 * 3600)
      },
      cluster,
      metrics,
      stores,
      storeProblems
    }
    return config
  })

/** Reads, decodes and resolves a configuration file. */
export const load = (path: string, env: Environment, defaultDataDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs
      .readFileString(path)
      .pipe(Effect.mapError(() => new ConfigError({ source: path, problems: ["the file cannot be read"] })))
    const file = yield* decodeFile(text, path)
    return yield* resolve(file, path, env, defaultDataDir)
  })
