/**
 * Shared test pieces for POS simulators, adapters and the conformance harness.
 *
 * @since 0.0.0
 */
export * as ChangeLog from "./ChangeLog.js"
export * as Faults from "./Faults.js"
export * as PosOracle from "./PosOracle.js"
export * as PosSimulator from "./PosSimulator.js"
export * as Pulls from "./Pulls.js"
export * as RecordedExchange from "./RecordedExchange.js"
export * as RecordingHttpClient from "./RecordingHttpClient.js"
export * as ReplayHttpClient from "./ReplayHttpClient.js"
export * as ShipStationClient from "./ShipStationClient.js"
export * as SimClock from "./SimClock.js"
export * as SimControl from "./SimControl.js"
export * as SimServer from "./SimServer.js"
