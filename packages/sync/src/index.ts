export * as AdapterRegistry from "./AdapterRegistry.js"
export * as OutboxWorker from "./OutboxWorker.js"
export * as SyncEngine from "./SyncEngine.js"
export * as SyncStatus from "./SyncStatus.js"
