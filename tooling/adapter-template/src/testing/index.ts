/**
 * Test aids of the __NAME__ adapter (`@posbridge/source-__NAME__/testing`): never exported by the main entry.
 * `simulator` is what `posbridge simulate` and `pnpm conformance` load.
 */
export * as Simulator from "./Simulator.js"
export * as Standalone from "./Standalone.js"
export { simulator } from "./Standalone.js"
