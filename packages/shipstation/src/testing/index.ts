export * as Hostile from "./Hostile.js"
