/**
 * Heartland's list queries: `_filter` (a JSON object of field conditions, with the operators Heartland is known
 * to accept plus the obvious order comparisons), `sort[]=field,asc|desc` and `page`/`per_page` paging.
 */

/** A request the API refuses with a 400 and this message. */
export class BadRequest {
  constructor(readonly message: string) {}
}

const comparable = (field: string, value: unknown): number | string => {
  if (field.endsWith("_at") && typeof value === "string") {
    const t = Date.parse(value)
    if (!Number.isNaN(t)) return t
  }
  if (typeof value === "number") return value
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value)
  return String(value)
}

const compareValues = (field: string, a: unknown, b: unknown): number => {
  const x = comparable(field, a)
  const y = comparable(field, b)
  if (typeof x === "number" && typeof y === "number") return x - y
  return String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0
}

type Predicate = (row: Record<string, unknown>) => boolean

const compileFilter = (raw: string | null): Predicate => {
  if (raw === null || raw === "") return () => true
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new BadRequest(`_filter is not valid JSON: ${raw}`)
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new BadRequest("_filter must be a JSON object of field conditions")
  }
  const tests: Array<Predicate> = []
  for (const [field, condition] of Object.entries(parsed)) {
    const ops =
      typeof condition === "object" && condition !== null && !Array.isArray(condition)
        ? Object.entries(condition)
        : [["$eq", condition] as const]
    for (const [op, operand] of ops) {
      const cmp = (row: Record<string, unknown>) => compareValues(field, row[field], operand)
      switch (op) {
        case "$eq":
          tests.push((row) => row[field] !== undefined && cmp(row) === 0)
          break
        case "$neq":
          tests.push((row) => row[field] === undefined || cmp(row) !== 0)
          break
        case "$gt":
          tests.push((row) => row[field] != null && cmp(row) > 0)
          break
        case "$gte":
          tests.push((row) => row[field] != null && cmp(row) >= 0)
          break
        case "$lt":
          tests.push((row) => row[field] != null && cmp(row) < 0)
          break
        case "$lte":
          tests.push((row) => row[field] != null && cmp(row) <= 0)
          break
        case "$in": {
          if (!Array.isArray(operand)) throw new BadRequest(`$in on ${field} needs an array`)
          const set = new Set(operand.map((v) => String(v)))
          tests.push((row) => set.has(String(row[field])))
          break
        }
        default:
          throw new BadRequest(`unknown filter operator ${op} on ${field}`)
      }
    }
  }
  return (row) => tests.every((t) => t(row))
}

const compileSort = (specs: ReadonlyArray<string>) => {
  const keys = specs.map((spec) => {
    const [field = "", dir = "asc"] = spec.split(",").map((s) => s.trim())
    if (field === "" || (dir !== "asc" && dir !== "desc"))
      throw new BadRequest(`sort[] must be "field,asc|desc": ${spec}`)
    return { field, sign: dir === "asc" ? 1 : -1 }
  })
  return (a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const { field, sign } of keys) {
      const c = compareValues(field, a[field], b[field])
      if (c !== 0) return c * sign
    }
    return 0
  }
}

/** A list endpoint's answer: `_filter`, `sort[]`, then page `page` of `per_page` (at most `maxPerPage`). */
export const list = (
  source: ReadonlyArray<Record<string, unknown>>,
  url: URL,
  maxPerPage: number
): { total: number; pages: number; results: Array<Record<string, unknown>> } => {
  const predicate = compileFilter(url.searchParams.get("_filter"))
  const sorts = url.searchParams.getAll("sort[]")
  const matching = source.filter(predicate)
  if (sorts.length > 0) matching.sort(compileSort(sorts))
  const perPage = Math.min(maxPerPage, Math.max(1, Number(url.searchParams.get("per_page") ?? "20") || 20))
  const page = Math.max(1, Number(url.searchParams.get("page") ?? "1") || 1)
  return {
    total: matching.length,
    pages: Math.ceil(matching.length / perPage),
    results: matching.slice((page - 1) * perPage, page * perPage)
  }
}
