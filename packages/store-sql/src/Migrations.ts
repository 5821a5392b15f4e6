/**
 * The one numbered migration set both engines run. Dialect differences live in `internal/Dialect.ts`,
 * so a migration is written once; only 0002's triggers are written per engine, in the migration. Uses the engine-neutral migrator (no schema dump), which needs only a
 * `SqlClient`; on PostgreSQL it locks its table, so replicas starting together migrate once.
 */
import * as Migrator from "@effect/sql/Migrator"
import type { SqlClient } from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { type Effect, Layer } from "effect"
import init from "./internal/migrations/0001_init.js"
import laterPages from "./internal/migrations/0002_later_pages.js"
import noticeKeys from "./internal/migrations/0003_notice_keys.js"
import secretVersions from "./internal/migrations/0004_secret_versions.js"
import outboxStoreDue from "./internal/migrations/0005_outbox_store_due.js"
import exportedRefs from "./internal/migrations/0006_exported_refs.js"
import storeCounts from "./internal/migrations/0007_store_counts.js"
import refreshCalls from "./internal/migrations/0008_refresh_calls.js"

export const table = "posbridge_migrations"

export const loader: Migrator.Loader = Migrator.fromRecord({
  "0001_init": init,
  "0002_later_pages": laterPages,
  "0003_notice_keys": noticeKeys,
  "0004_secret_versions": secretVersions,
  "0005_outbox_store_due": outboxStoreDue,
  "0006_exported_refs": exportedRefs,
  "0007_store_counts": storeCounts,
  "0008_refresh_calls": refreshCalls
})

/** Runs pending migrations; returns the ones it applied as (id, name). */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient
> = Migrator.make({})({ loader, table })

export const layer: Layer.Layer<never, Migrator.MigrationError | SqlError, SqlClient> = Layer.effectDiscard(run)
