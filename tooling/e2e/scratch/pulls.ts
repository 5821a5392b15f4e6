import * as Replicas from "../src/Replicas.js"
const set = await Replicas.start({ replicas: 1, heartlandStores: 2, lightspeedStores: 1, pullIdleSeconds: 2, heartlandPerPage: Number(process.env.PP ?? 10) })
try {
  await new Promise((r) => setTimeout(r, 20000))
  const s = await (await fetch(`${set.heartland.url}/control/pulls?account=1000`)).json()
  console.log(JSON.stringify(s, null, 1).slice(0, 6000))
  const reqs = set.replicas[0]!.output()
} finally { await set.close() }
