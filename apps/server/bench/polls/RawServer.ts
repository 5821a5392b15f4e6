/**
 * The raw baselines: a bare `node:http` server on the raw driver (better-sqlite3 or pg) answering the same export
 * requests as posbridge, from its own copy of the orders (`raw_orders`, see Load.ts), with a string template that
 * writes the same bytes posbridge sends for these orders (the benchmark checks that on a sample).
 *
 * - `same`: what a careful raw author writes for the same answer. Page 1 freezes the window's members (their POS
 *   ids, in stamp order, kept in memory per store and window; a new page 1 replaces them); a later page reads its
 *   members' current rows by POS id. Every page reads the rows it sends and renders them.
 * - `peer`: what open-source Custom Store endpoints do: every page counts the window and reads
 *   `ORDER BY modified LIMIT 100 OFFSET (page - 1) * 100` (no snapshot: rows move between pages as they change).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import Database from "better-sqlite3"
import pg from "pg"
import * as W from "./Workload.js"

interface Row {
  readonly pos_ref: string
  readonly modified_ms: number | string
  readonly body: string
}

interface Driver {
  readonly members: (store: string, start: number, end: number) => Promise<ReadonlyArray<string>>
  readonly rows: (store: string, refs: ReadonlyArray<string>) => Promise<ReadonlyArray<Row>>
  readonly count: (store: string, start: number, end: number) => Promise<number>
  readonly offsetPage: (store: string, start: number, end: number, offset: number) => Promise<ReadonlyArray<Row>>
}

const sqliteDriver = (file: string): Driver => {
  const db = new Database(file)
  db.pragma("busy_timeout = 30000")
  const members = db
    .prepare(
      "SELECT pos_ref FROM raw_orders WHERE store_id = ? AND modified_ms >= ? AND modified_ms < ? ORDER BY modified_ms, pos_ref"
    )
    .pluck()
  const byRefs = db.prepare(
    `SELECT pos_ref, modified_ms, body FROM raw_orders WHERE store_id = ? AND pos_ref IN (${Array(W.pageSize).fill("?").join(",")})`
  )
  const count = db
    .prepare("SELECT COUNT(*) FROM raw_orders WHERE store_id = ? AND modified_ms >= ? AND modified_ms < ?")
    .pluck()
  const offsetPage = db.prepare(
    "SELECT pos_ref, modified_ms, body FROM raw_orders WHERE store_id = ? AND modified_ms >= ? AND modified_ms < ? ORDER BY modified_ms, pos_ref LIMIT ? OFFSET ?"
  )
  return {
    members: async (store, start, end) => members.all(store, start, end) as Array<string>,
    rows: async (store, refs) => {
      const params: Array<string | null> = [...refs]
      while (params.length < W.pageSize) params.push(null)
      return byRefs.all(store, ...params) as Array<Row>
    },
    count: async (store, start, end) => Number(count.get(store, start, end)),
    offsetPage: async (store, start, end, offset) => offsetPage.all(store, start, end, W.pageSize, offset) as Array<Row>
  }
}

const pgDriver = (url: string): Driver => {
  const pool = new pg.Pool({ connectionString: url, max: W.inFlight })
  return {
    members: async (store, start, end) =>
      (
        await pool.query({
          name: "members",
          text: "SELECT pos_ref FROM raw_orders WHERE store_id = $1 AND modified_ms >= $2 AND modified_ms < $3 ORDER BY modified_ms, pos_ref",
          values: [store, start, end],
          rowMode: "array"
        })
      ).rows.map((r: Array<string>) => r[0] ?? ""),
    rows: async (store, refs) =>
      (
        await pool.query<Row>({
          name: "rows",
          text: "SELECT pos_ref, modified_ms, body FROM raw_orders WHERE store_id = $1 AND pos_ref = ANY($2::text[])",
          values: [store, refs]
        })
      ).rows,
    count: async (store, start, end) =>
      Number(
        (
          await pool.query({
            name: "count",
            text: "SELECT COUNT(*) AS n FROM raw_orders WHERE store_id = $1 AND modified_ms >= $2 AND modified_ms < $3",
            values: [store, start, end]
          })
        ).rows[0]?.n
      ),
    offsetPage: async (store, start, end, offset) =>
      (
        await pool.query<Row>({
          name: "offset",
          text: "SELECT pos_ref, modified_ms, body FROM raw_orders WHERE store_id = $1 AND modified_ms >= $2 AND modified_ms < $3 ORDER BY modified_ms, pos_ref LIMIT $4 OFFSET $5",
          values: [store, start, end, W.pageSize, offset]
        })
      ).rows
  }
}

const cdata = (v: string) => `<![CDATA[${v}]]>`
const tag = (t: string, v: string) => `<${t}>${cdata(v)}</${t}>`
const money = (v: string) => (v.includes(".") ? v.padEnd(v.indexOf(".") + 3, "0") : `${v}.00`)

/** One order as posbridge renders these documents (ExportXml's element order). */
const renderOrder = (row: Row): string => {
  const o = JSON.parse(row.body) as W.OrderInput
  const a = o.shipTo
  let s = `<Order>${tag("OrderID", o.posRef)}${tag("OrderNumber", o.orderNumber)}<OrderDate>${W.format(Date.parse(o.orderDate))}</OrderDate>${tag("OrderStatus", o.status)}<LastModified>${W.format(Number(row.modified_ms))}</LastModified><CurrencyCode>${o.currency}</CurrencyCode><OrderTotal>${money(o.orderTotal)}</OrderTotal>${tag("CustomerNotes", o.customerNotes)}<Customer>${tag("CustomerCode", o.customerCode)}<BillTo>${tag("Name", o.billTo.name)}${tag("Email", o.billTo.email)}</BillTo><ShipTo>${tag("Name", a.name)}${tag("Address1", a.address1)}${tag("City", a.city)}${tag("PostalCode", a.postalCode)}${tag("Country", a.country)}</ShipTo></Customer><Items>`
  for (const l of o.lines) {
    s += `<Item>${tag("LineItemID", l.lineId)}${tag("SKU", l.sku)}${tag("Name", l.name)}<Quantity>${l.quantity}</Quantity><UnitPrice>${money(l.unitPrice)}</UnitPrice><Adjustment>false</Adjustment></Item>`
  }
  return `${s}</Items></Order>`
}

const document = (rows: ReadonlyArray<Row>, pages: number) =>
  `<?xml version="1.0" encoding="utf-8"?>\n<Orders pages="${pages}">${rows.map(renderOrder).join("")}</Orders>\n`

/** `MM/dd/yyyy HH:mm` (UTC) as epoch ms; NaN for anything else. */
const parseDate = (v: string | null) => {
  const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d)$/.exec(v ?? "")
  return m ? Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5])) : Number.NaN
}

export const serve = async (mode: "same" | "peer", engine: "sqlite" | "postgres", location: string) => {
  const driver = engine === "sqlite" ? sqliteDriver(location) : pgDriver(location)
  /** Per store, the members of its poll in progress (ShipStation polls a store one poll at a time). */
  const snapshots = new Map<string, { readonly key: string; readonly members: ReadonlyArray<string> }>()
  const answer = async (req: IncomingMessage): Promise<[number, string]> => {
    const url = new URL(req.url ?? "/", "http://raw.invalid")
    const m = /^\/shipstation\/([^/]+)$/.exec(url.pathname)
    if (!m) return [404, "Not found\n"]
    if (req.headers.authorization !== W.authorization) return [401, "Bad credentials\n"]
    const store = m[1] ?? ""
    const start = parseDate(url.searchParams.get("start_date"))
    const end = parseDate(url.searchParams.get("end_date")) + 60_000
    const page = Number(url.searchParams.get("page") ?? "1")
    if (url.searchParams.get("action") !== "export" || Number.isNaN(start + end) || !(page >= 1)) {
      return [400, "Bad request\n"]
    }
    const offset = (page - 1) * W.pageSize
    if (mode === "peer") {
      const total = await driver.count(store, start, end)
      return [200, document(await driver.offsetPage(store, start, end, offset), Math.ceil(total / W.pageSize))]
    }
    const key = `${store}|${start}|${end}`
    const kept = snapshots.get(store)
    let members = kept?.key === key && page > 1 ? kept.members : undefined
    if (members === undefined) {
      members = await driver.members(store, start, end)
      snapshots.set(store, { key, members })
    }
    const pages = Math.ceil(members.length / W.pageSize)
    // The last page served: the poll is over, its members are dropped (a re-read freezes them again).
    if (page >= pages) snapshots.delete(store)
    const refs = members.slice(offset, offset + W.pageSize)
    const rows = refs.length === 0 ? [] : await driver.rows(store, refs)
    const byRef = new Map(rows.map((r) => [r.pos_ref, r]))
    const ordered = refs.flatMap((r) => {
      const row = byRef.get(r)
      return row ? [row] : []
    })
    return [200, document(ordered, pages)]
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    answer(req).then(
      ([status, body]) => {
        res.writeHead(status, {
          "content-type": status === 200 ? "text/xml; charset=utf-8" : "text/plain; charset=utf-8"
        })
        res.end(body)
      },
      (e: unknown) => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" })
        res.end(`${String(e)}\n`)
      }
    )
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const address = server.address()
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 })
}
