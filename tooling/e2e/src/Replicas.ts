/**
 * posbridge as several replicas: N server processes (`posbridge serve`, the built server) with one configuration
 * file on one fresh PostgreSQL database, each with its own HTTP `PORT` and `POSBRIDGE_RUNNER_PORT`, their stores fed
 * by a Heartland and a Lightspeed simulator process (`posbridge simulate`, one account per store). Replicas can be
 * killed, stopped and started again one at a time; `live()` is what a load balancer would route to.
 *
 * The configuration's `cluster` section (issue 15) is written unless `cluster: false` or `POSBRIDGE_E2E_CLUSTER=off`:
 * a server from before issue 15 refuses it, so the harness can still run against one (every replica then syncs
 * every store, which the checks in `ReplicaChecks` catch).
 */
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Postgres from "./Postgres.js"
import { freePort, tempDir, waitFor } from "./Processes.js"
import { basic, env, type RunningServer, startServer } from "./ServerProcess.js"
import { type RunningSimulatorProcess, startSimulator } from "./SimulatorProcess.js"

export interface Options {
  readonly replicas?: number | undefined
  /** Stores fed by the Heartland simulator (sales orders), one account each. Default 30. */
  readonly heartlandStores?: number | undefined
  /** Stores fed by the Lightspeed simulator (invoices), one account each. Default 30. */
  readonly lightspeedStores?: number | undefined
  readonly syncIntervalSeconds?: number | undefined
  /**
   * Heartland's list page size (`perPage`, at least 2): small, so a pull is several requests and two pulls of one
   * store overlap visibly in the simulator. Default 5 (the seeded 40 orders: 8 pages).
   */
  readonly heartlandPerPage?: number | undefined
  /** ShipStation export page size: small, so polls have several pages. Default 10. */
  readonly exportPageSize?: number | undefined
  /** The `cluster` section; `false` leaves it out. Default `{ runnerHost: "127.0.0.1" }`. */
  readonly cluster?: false | Readonly<Record<string, unknown>> | undefined
  /** The simulators' background merchant activity. Default off: only the control API changes anything. */
  readonly activity?: boolean | undefined
  /** A pull idle this long counts as abandoned (a killed runner's). Default 3. */
  readonly pullIdleSeconds?: number | undefined
  /** How long a replica (or a simulator) may take to answer. Default 90 s. */
  readonly readyTimeoutMs?: number | undefined
  /**
   * `sqlite`: one replica on a SQLite file in its data directory (what `pnpm start` runs for one process), no
   * `cluster` section; `database` is then absent. Default `postgres`.
   */
  readonly engine?: "postgres" | "sqlite" | undefined
  /** Documents each simulator account is seeded with (default: the demo's, 40 orders / 60 sales). */
  readonly documents?: number | undefined
  /** More environment for every replica (e.g. `NODE_OPTIONS`). */
  readonly serverEnv?: Readonly<Record<string, string>> | undefined
}

export interface Store {
  readonly id: string
  readonly adapter: "heartland" | "lightspeed"
  readonly kind: "orders" | "invoices"
  /** Its account at its simulator. */
  readonly account: string
  readonly simulator: RunningSimulatorProcess
}

export interface Replica {
  readonly index: number
  /** HTTP port and runner port: fixed for the replica's life, across restarts. */
  readonly port: number
  readonly runnerPort: number
  readonly url: string
  /** The running process, if any. */
  readonly server: () => RunningServer | undefined
  /** Output of every process this replica ran, oldest first. */
  readonly output: () => string
}

export interface StoreStatus {
  readonly id: string
  /** Issue 15: `host:runnerPort` of the runner owning the store; absent on a server before it. */
  readonly owner?: string | null | undefined
  readonly documents: number
  readonly warnings: ReadonlyArray<{ readonly code: string; readonly message: string }>
  readonly outbox?: unknown
}

export interface ReplicaSet {
  /** The PostgreSQL database; absent on SQLite. */
  readonly database: Postgres.Database | undefined
  readonly heartland: RunningSimulatorProcess
  readonly lightspeed: RunningSimulatorProcess
  readonly stores: ReadonlyArray<Store>
  readonly replicas: ReadonlyArray<Replica>
  readonly cluster: boolean
  readonly syncIntervalSeconds: number
  /** The token the Heartland simulator's API accepts (to read orders as the POS holds them). */
  readonly heartlandToken: string
  /** ShipStation's credentials for every store. */
  readonly shipstation: { readonly username: string; readonly password: string }
  /** Replicas running and in the load balancer's rotation. */
  readonly live: () => ReadonlyArray<Replica>
  /** Takes a replica out of rotation (requests stop going there) or puts it back. */
  readonly rotate: (index: number, inRotation: boolean) => void
  readonly start: (index: number) => Promise<void>
  /** Stops a replica (SIGKILL: dies at once; SIGTERM: shuts down gracefully), out of rotation first. */
  readonly stop: (index: number, signal: "SIGKILL" | "SIGTERM") => Promise<void>
  /** `/admin/status` of every store, from a live replica (or the one given). */
  readonly status: (replica?: Replica) => Promise<ReadonlyArray<StoreStatus>>
  /** The replica whose runner `owner` (`host:port`) names. */
  readonly replicaOf: (owner: string | null | undefined) => Replica | undefined
  readonly close: () => Promise<void>
}

/** `POSBRIDGE_E2E_CLUSTER=off` runs without the `cluster` section (a server from before issue 15 refuses it). */
export const clusterFromEnv = (): boolean => !["off", "0", "false"].includes(process.env.POSBRIDGE_E2E_CLUSTER ?? "")

const json = async <A>(url: string, init?: RequestInit): Promise<A> => {
  const r = await fetch(url, init)
  if (!r.ok) throw new Error(`${init?.method ?? "GET"} ${url}: ${r.status} ${await r.text()}`)
  return (await r.json()) as A
}

const admin = basic("admin", env.TEST_ADMIN_PASSWORD)

/** Starts the simulators, writes the configuration, creates the database and starts every replica at once. */
export const start = async (options: Options = {}): Promise<ReplicaSet> => {
  const sqlite = options.engine === "sqlite"
  if (sqlite && (options.replicas ?? 1) !== 1) throw new Error("a SQLite file serves one replica")
  const count = sqlite ? 1 : (options.replicas ?? 3)
  const cluster = sqlite ? false : (options.cluster ?? (clusterFromEnv() ? { runnerHost: "127.0.0.1" } : false))
  const interval = options.syncIntervalSeconds ?? 5
  const database = sqlite ? undefined : await Postgres.freshDatabase()
  const cleanups: Array<() => Promise<void>> = database === undefined ? [] : [database.drop]
  const close = async () => {
    for (const f of cleanups.reverse()) await f().catch(() => undefined)
  }
  try {
    const pullIdleSeconds = options.pullIdleSeconds ?? 3
    const [heartland, lightspeed] = await Promise.all([
      startSimulator({
        adapter: "heartland",
        accounts: Math.max(1, options.heartlandStores ?? 30),
        activity: options.activity ?? false,
        pullIdleSeconds,
        ...(options.documents === undefined ? {} : { documents: options.documents }),
        readyTimeoutMs: options.readyTimeoutMs ?? 90_000
      }),
      startSimulator({
        adapter: "lightspeed",
        accounts: Math.max(1, options.lightspeedStores ?? 30),
        activity: options.activity ?? false,
        pullIdleSeconds,
        ...(options.documents === undefined ? {} : { documents: options.documents }),
        readyTimeoutMs: options.readyTimeoutMs ?? 90_000
      })
    ])
    cleanups.push(
      () => heartland.kill(),
      () => lightspeed.kill()
    )
    // Secrets go to the replicas' environment, never into the file.
    const secrets: Record<string, string> = {
      ...options.serverEnv,
      ...(database === undefined ? {} : { POSBRIDGE_E2E_DATABASE_URL: database.url })
    }
    const stores: Array<Store> = []
    const entries: Array<Record<string, unknown>> = []
    const add = async (
      sim: RunningSimulatorProcess,
      adapter: Store["adapter"],
      kind: Store["kind"],
      n: number,
      secretKeys: ReadonlyArray<string>,
      extra: Record<string, unknown>
    ) => {
      for (const account of sim.accounts.slice(0, n)) {
        const settings = (
          await json<{ settings: Record<string, unknown> }>(
            `${sim.url}/control/accounts/${account}/settings?kind=${kind}`
          )
        ).settings
        for (const key of secretKeys) {
          const name = `SIM_${adapter}_${key}_${account}`.toUpperCase()
          secrets[name] = String(settings[key])
          settings[key] = { env: name }
        }
        const id = `${adapter === "heartland" ? "hl" : "ls"}-${account}`
        stores.push({ id, adapter, kind, account, simulator: sim })
        entries.push({
          id,
          adapter,
          documentKind: kind,
          pageSize: options.exportPageSize ?? 10,
          shipstation: { username: "ss", password: { env: "TEST_SS_PASSWORD" } },
          settings: { ...settings, ...extra },
          syncIntervalSeconds: interval,
          lookbackDays: 30
        })
      }
    }
    await add(heartland, "heartland", "orders", options.heartlandStores ?? 30, ["apiToken"], {
      perPage: options.heartlandPerPage ?? 5
    })
    const heartlandToken = Object.entries(secrets).find(([k]) => k.startsWith("SIM_HEARTLAND_APITOKEN_"))?.[1] ?? ""
    await add(
      lightspeed,
      "lightspeed",
      "invoices",
      options.lightspeedStores ?? 30,
      ["clientSecret", "refreshToken"],
      {}
    )

    const dir = tempDir("replicas")
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }))
    const config = join(dir, "config.json")
    writeFileSync(
      config,
      JSON.stringify(
        {
          dataDir: dir,
          database:
            database === undefined
              ? { engine: "sqlite" }
              : { engine: "postgres", url: { env: "POSBRIDGE_E2E_DATABASE_URL" } },
          admin: { username: "admin", password: { env: "TEST_ADMIN_PASSWORD" } },
          encryptionKey: { env: "TEST_ENCRYPTION_KEY" },
          ...(cluster === false ? {} : { cluster }),
          stores: entries
        },
        null,
        2
      )
    )

    const inRotation = new Set<number>()
    const running = new Map<number, RunningServer>()
    const outputs = new Map<number, Array<() => string>>()
    const replicas: Array<Replica> = []
    for (let index = 0; index < count; index++) {
      const port = await freePort()
      const runnerPort = await freePort()
      outputs.set(index, [])
      replicas.push({
        index,
        port,
        runnerPort,
        url: `http://127.0.0.1:${port}`,
        server: () => running.get(index),
        output: () => (outputs.get(index) ?? []).map((o) => o()).join("\n--- restarted ---\n")
      })
    }
    const startOne = async (index: number) => {
      const r = replicas[index]!
      if (running.has(index)) throw new Error(`replica ${index} is already running`)
      const server = await startServer(config, r.port, options.readyTimeoutMs ?? 90_000, {
        ...secrets,
        POSBRIDGE_RUNNER_PORT: String(r.runnerPort)
      })
      running.set(index, server)
      outputs.get(index)!.push(server.output)
      inRotation.add(index)
    }
    const stop = async (index: number, signal: "SIGKILL" | "SIGTERM") => {
      inRotation.delete(index)
      const server = running.get(index)
      running.delete(index)
      await server?.kill(signal)
    }
    cleanups.push(async () => {
      await Promise.all([...running.keys()].map((i) => stop(i, "SIGKILL")))
    })
    await Promise.all(replicas.map((r) => startOne(r.index)))

    const live = () => replicas.filter((r) => inRotation.has(r.index) && running.has(r.index))
    return {
      database,
      heartland,
      lightspeed,
      stores,
      replicas,
      cluster: cluster !== false,
      syncIntervalSeconds: interval,
      heartlandToken,
      shipstation: { username: "ss", password: env.TEST_SS_PASSWORD },
      live,
      rotate: (index, on) => {
        if (on && running.has(index)) inRotation.add(index)
        else inRotation.delete(index)
      },
      start: startOne,
      stop,
      status: async (replica) => {
        const r = replica ?? live()[0]
        if (r === undefined) throw new Error("no replica is running")
        return (
          await json<{ stores: ReadonlyArray<StoreStatus> }>(`${r.url}/admin/status`, {
            headers: { authorization: admin }
          })
        ).stores
      },
      replicaOf: (owner) => {
        const port = owner?.split(":").at(-1)
        return replicas.find((r) => String(r.runnerPort) === port)
      },
      close
    }
  } catch (e) {
    await close()
    throw e
  }
}

/** Waits until `f` holds, polling every 200 ms; the error names `what`. */
export const until = (what: string, f: () => Promise<boolean>, timeoutMs: number) =>
  waitFor(what, async () => ((await f()) ? true : undefined), timeoutMs)
