/**
 * Preloaded into a server by `bench:memory` (`NODE_OPTIONS=--require …`): nothing of the server's code knows it.
 * Every second it writes `process.memoryUsage()` to `$POSBRIDGE_MEMORY_PROBE` (one JSON object, replaced), and on
 * SIGUSR2 it writes a heap snapshot into `$POSBRIDGE_HEAP_DIR` (when set).
 */
const { writeFileSync, renameSync } = require("node:fs")
const { join } = require("node:path")
const v8 = require("node:v8")

const file = process.env.POSBRIDGE_MEMORY_PROBE
if (file) {
  const write = () => {
    const m = process.memoryUsage()
    const h = v8.getHeapStatistics()
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...m, heapLimit: h.heap_size_limit, at: Date.now() }))
    renameSync(`${file}.tmp`, file)
  }
  setInterval(write, 1000).unref()
}
const dir = process.env.POSBRIDGE_HEAP_DIR
if (dir) {
  process.on("SIGUSR2", () => {
    const path = v8.writeHeapSnapshot(join(dir, `server-${process.pid}-${Date.now()}.heapsnapshot`))
    writeFileSync(join(dir, "last"), path)
  })
}
