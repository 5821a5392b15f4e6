/** Test aids of the __NAME__ adapter (`@posbridge/source-__NAME__/testing`): never exported by the main entry. */
export * as Simulator from "./Simulator.js"
