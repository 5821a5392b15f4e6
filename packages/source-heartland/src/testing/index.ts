/**
 * Test aids of the Heartland adapter: the simulator of Heartland Retail accounts (`Simulator`), and the same as
 * pos-testkit's `PosSimulator` (`Standalone`, exported as `simulator`: what `posbridge simulate heartland` serves).
 * Not part of the adapter's main entry; production code imports it only for the server's demo and `simulate`.
 */
export * as Simulator from "./Simulator.js"
export * as Standalone from "./Standalone.js"
export { simulator } from "./Standalone.js"
