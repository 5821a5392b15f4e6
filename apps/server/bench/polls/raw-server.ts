/**
 * Entry of a raw baseline server process (`node raw-server.mjs same|peer sqlite|postgres LOCATION`), bundled on its
 * own (Procs.ts) so it holds only the driver and the template, not posbridge's code the benchmark process loads.
 */
import { serve } from "./RawServer.js"

const [, , mode, engine, location] = process.argv
serve(mode === "peer" ? "peer" : "same", engine === "postgres" ? "postgres" : "sqlite", location ?? "").catch((e) => {
  console.error(e)
  process.exit(1)
})
