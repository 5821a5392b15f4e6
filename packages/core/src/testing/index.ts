export * as StoreHistory from "./StoreHistory.js"
