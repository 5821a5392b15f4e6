/**
 * This process as a runner of an `@effect/cluster` cluster, which shares the stores out: each store is an entity
 * (`StoreEntity`) that runs on the one runner owning its shard.
 *
 * - PostgreSQL (N replicas, one database): runners register in the database and hold their shards with
 *   advisory locks (`SqlRunnerStorage`); they talk over TCP (`SocketRunner`, the runner port) so a "sync now"
 *   received by any replica reaches the owner; each pings the others (`RunnerHealth.layerPing`). A runner that
 *   dies loses its advisory locks with its connections; the others drop it from the shard ring once a health
 *   check fails or its heartbeat is older than the lock expiration, and take its shards.
 * - SQLite (one process): the same Sharding with one runner, shards kept in memory, no socket.
 *
 * Messages are volatile (`MessageStorage.layerNoop`): the entity's state is the store's committed cursor in the
 * order store, and a "sync now" whose owner dies is answered with an error instead of being replayed.
 */
import {
  MessageStorage,
  RunnerAddress,
  RunnerHealth,
  RunnerStorage,
  Runners,
  Sharding,
  ShardingConfig,
  SocketRunner,
  SqlRunnerStorage
} from "@effect/cluster"
import { NodeClusterSocket } from "@effect/platform-node"
import { RpcSerialization } from "@effect/rpc"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import type * as Config from "./Config.js"

/** The cluster's tables are `posbridge_cluster_*`, beside posbridge's own. */
export const tablePrefix = "posbridge_cluster"

/** An arbitrary constant naming the cluster-table lock among the database's advisory locks. */
const tablesLockKey = 7_262_024_015

export const shardingConfig = (cluster: Config.ClusterConfig): ShardingConfig.ShardingConfig["Type"] => ({
  ...ShardingConfig.defaults,
  runnerAddress: Option.some(RunnerAddress.make(cluster.runnerHost, cluster.runnerPort)),
  shardsPerGroup: cluster.shards,
  runnerHealthCheckInterval: cluster.healthCheck,
  shardLockRefreshInterval: cluster.lockRefresh,
  shardLockExpiration: cluster.lockExpiration,
  // A new runner (or a dead one dropped from the ring) is noticed within a second.
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(5),
  // A store's loop stops at its next interruption point; a pull in flight is abandoned (its page is not
  // committed, so the next owner reads it again from the cursor).
  entityTerminationTimeout: Duration.seconds(10)
})

/**
 * SqlRunnerStorage creates its tables with CREATE TABLE IF NOT EXISTS, which races when replicas start together
 * on a new database; the tables are created under a session advisory lock, as the migrations are.
 */
const runnerStorageUnderLock = Layer.unwrapScoped(
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const lockScope = yield* Scope.make()
    const built = yield* Effect.gen(function* () {
      const connection = yield* Scope.extend(sql.reserve, lockScope)
      yield* connection.executeRaw(`SELECT pg_advisory_lock(${tablesLockKey})`, [])
      yield* Scope.addFinalizer(
        lockScope,
        Effect.ignore(connection.executeRaw(`SELECT pg_advisory_unlock(${tablesLockKey})`, []))
      )
      return yield* Layer.build(SqlRunnerStorage.layerWith({ prefix: tablePrefix }))
    }).pipe(Effect.ensuring(Scope.close(lockScope, Exit.void)))
    return Layer.succeedContext(built)
  })
)

/** Runners on PostgreSQL: socket transport, SQL runner storage, ping health checks. */
const postgres = (url: Config.ServerConfig["database"] & { engine: "postgres" }, cluster: Config.ClusterConfig) =>
  SocketRunner.layer.pipe(
    Layer.provide(RunnerHealth.layerPing),
    Layer.provide(Runners.layerRpc),
    Layer.provide([NodeClusterSocket.layerSocketServer, NodeClusterSocket.layerClientProtocol]),
    Layer.provideMerge(runnerStorageUnderLock),
    Layer.provideMerge(MessageStorage.layerNoop),
    Layer.provide(ShardingConfig.layer(shardingConfig(cluster))),
    Layer.provide(RpcSerialization.layerMsgPack),
    Layer.provide(PgClient.layer({ url: url.url, maxConnections: 4, applicationName: "posbridge-cluster" }))
  )

/** One runner on SQLite: shards in memory, no socket, no health checks. */
export const layerSingle = (cluster: Config.ClusterConfig) =>
  Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(RunnerStorage.layerMemory),
    Layer.provideMerge(MessageStorage.layerNoop),
    Layer.provide(RunnerHealth.layerNoop),
    Layer.provide(ShardingConfig.layer(shardingConfig(cluster)))
  )

/** Sharding for `config`, plus the RunnerStorage `/readyz` asks whether this runner has joined. */
export const layer = (
  config: Pick<Config.ServerConfig, "database" | "cluster">
): Layer.Layer<Sharding.Sharding | RunnerStorage.RunnerStorage, unknown> =>
  config.database.engine === "postgres" ? postgres(config.database, config.cluster) : layerSingle(config.cluster)

/** `host:port` of this runner, as shown for the stores it owns. */
export const selfAddress = (cluster: Config.ClusterConfig) => `${cluster.runnerHost}:${cluster.runnerPort}`

/** Whether this runner is registered among the cluster's runners (and the runner storage answers). */
export const joined = (cluster: Config.ClusterConfig) =>
  Effect.map(RunnerStorage.RunnerStorage, (storage) =>
    storage.getRunners.pipe(
      Effect.map((runners) =>
        runners.some(([r]) => r.address.host === cluster.runnerHost && r.address.port === cluster.runnerPort)
      ),
      Effect.timeout(Duration.seconds(2)),
      Effect.orElseSucceed(() => false)
    )
  )
