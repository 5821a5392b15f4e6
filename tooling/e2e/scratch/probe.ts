import * as Replicas from "../src/Replicas.js"
import * as Checks from "../src/ReplicaChecks.js"
const t0 = Date.now()
const log = (m: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`)
const set = await Replicas.start({ replicas: Number(process.env.N ?? 3), heartlandPerPage: 10, heartlandStores: 30, lightspeedStores: 30, pullIdleSeconds: 2 })
log("started")
try {
  for (let i = 0; i < Number(process.env.ROUNDS ?? 6); i++) {
    const p = await set.status().then((s) => Checks.documentProblems(set, s))
    log(`settle problems ${p.length}: ${p.slice(0, 3).join(" | ")}`)
    await new Promise((r) => setTimeout(r, 5000))
  }
  log((await Checks.overlapProblems(set)).slice(0, 5).join("\n"))
  const c = await Checks.pullCounts(set)
  log(JSON.stringify([...c].slice(0, 5)))
  const polls = await Checks.crossReplicaPolls(set, Checks.windowSince(t0))
  log(`polls crossed ${polls.crossed}: ${polls.problems.slice(0, 5).join("\n")}`)
  const st = await set.status()
  log(JSON.stringify(st.slice(30, 32)))
} finally {
  for (const r of set.replicas) console.log(`replica ${r.index}:`, r.output().slice(-1500))
  await set.close()
}
