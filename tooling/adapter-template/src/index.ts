/** What the server loads by package name. */
export { adapter } from "./Adapter.js"
export * as Settings from "./Settings.js"
export * as Source from "./Source.js"
