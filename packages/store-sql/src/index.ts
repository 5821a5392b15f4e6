export * as Migrations from "./Migrations.js"
export * as PgStore from "./PgStore.js"
export * as SqliteStore from "./SqliteStore.js"
export * as SqlOrderStore from "./SqlOrderStore.js"
