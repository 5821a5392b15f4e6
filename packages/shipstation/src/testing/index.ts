export * as ApiSimulator from "./ApiSimulator.js"
export * as Hostile from "./Hostile.js"
