/**
 * A heap snapshot (`.heapsnapshot`, as `bench:memory --heap` writes one) summarised: self size and count by
 * constructor, largest first, with the total. Self sizes, not retained: enough to see which objects there are too
 * many of; open the snapshot in Chrome DevTools for retainers.
 *
 *   pnpm --filter @posbridge/e2e exec tsx scripts/heap-summary.ts FILE [--top 40]
 */
import { readFileSync } from "node:fs"

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: Array<string>; readonly node_types: [Array<string>] } }
  readonly nodes: Array<number>
  readonly strings: Array<string>
}

export const summarise = (file: string, top = 40) => {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const types = s.snapshot.meta.node_types[0]
  const width = fields.length
  const [typeAt, nameAt, sizeAt] = [fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")]
  const by = new Map<string, { size: number; count: number }>()
  let total = 0
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!
    const size = s.nodes[i + sizeAt]!
    total += size
    const key =
      type === "object" || type === "closure"
        ? `${type === "closure" ? "closure " : ""}${s.strings[s.nodes[i + nameAt]!]}`
        : `(${type})`
    const e = by.get(key) ?? { size: 0, count: 0 }
    e.size += size
    e.count++
    by.set(key, e)
  }
  const rows = [...by].sort((a, b) => b[1].size - a[1].size).slice(0, top)
  const mb = (n: number) => (n / 2 ** 20).toFixed(1)
  const lines = [
    `heap ${mb(total)} MB in ${s.nodes.length / width} objects`,
    "| constructor | MB | count |",
    "|---|---|---|"
  ]
  for (const [k, v] of rows) lines.push(`| ${k.slice(0, 60)} | ${mb(v.size)} | ${v.count} |`)
  return lines.join("\n")
}

if (process.argv[1]?.endsWith("heap-summary.ts")) {
  const i = process.argv.indexOf("--top")
  const file = process.argv[2]
  if (file === undefined) throw new Error("usage: heap-summary.ts FILE [--top N]")
  console.log(summarise(file, i > 0 ? Number(process.argv[i + 1]) : 40))
}
