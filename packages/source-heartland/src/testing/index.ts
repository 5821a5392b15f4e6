/**
 * Test aids of the Heartland adapter: the simulator of a Heartland Retail account. Not part of the adapter's main
 * entry; production code imports it only for the server's demo.
 */
export * as Simulator from "./Simulator.js"
