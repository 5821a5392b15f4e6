/**
 * Reading current documents: rows of `pb_documents` decoded into the port's `StoredOrder`, through a cache of
 * decoded orders, and the lookup by POS id or order number that `touch`, `find` and `explain` share.
 */
import { type SqlClient, SqlSchema } from "@effect/sql"
import { Lru, Order, type OrderStore } from "@posbridge/core"
import { DateTime, Effect, Option, Schema } from "effect"
import { DocumentRow, documentColumns, integer } from "./Rows.js"

const decodeRow = Schema.decodeUnknown(DocumentRow)

/** A `pb_documents` row (`documentColumns`) checked by hand; undefined when any column is not as written. */
const plainRow = (u: unknown): DocumentRow | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const r = u as Record<string, unknown>
  const stamp = integer(r.stamp_ms)
  const ingested = integer(r.ingested_ms)
  const { pos_ref, order_json, content_hash, held_reasons } = r
  if (
    typeof pos_ref !== "string" ||
    typeof order_json !== "string" ||
    typeof content_hash !== "string" ||
    typeof held_reasons !== "string" ||
    stamp === undefined ||
    ingested === undefined
  ) {
    return undefined
  }
  let reasons: ReadonlyArray<string> = []
  if (held_reasons !== "[]") {
    try {
      const parsed: unknown = JSON.parse(held_reasons)
      if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) return undefined
      reasons = parsed
    } catch {
      return undefined
    }
  }
  return { pos_ref, order_json, content_hash, stamp_ms: stamp, ingested_ms: ingested, held_reasons: reasons }
}

export const make = (sql: SqlClient.SqlClient, options: { readonly decodedOrderCache?: number | undefined }) => {
  /**
   * Decoded orders by (store, POS id), least recently used first. Schema-decoding an order costs tens of
   * microseconds, most of a later page's time; a hit must match the stored JSON exactly, so a changed
   * document is never served from the cache.
   */
  const decoded = new Lru.Lru<string, { readonly json: string; readonly order: Order.Order }>(
    Math.max(0, options.decodedOrderCache ?? 10_000)
  )
  // Text that is not in the plain form ingest writes (not JSON, a field that is not what ingest writes) is read
  // with the schema, so its error is the ParseError naming the problem.
  const parseOrderJson = Schema.decodeUnknown(Schema.parseJson(Order.Order))
  const decodeOrder = (row: DocumentRow, storeId: string) => {
    const plain = plainOrder(row, storeId)
    if (plain !== undefined) return Effect.succeed(plain)
    return Effect.map(parseOrderJson(row.order_json), (order) => {
      decoded.set(`${storeId}\u0000${row.pos_ref}`, { json: row.order_json, order })
      return order
    })
  }

  const stored = (row: DocumentRow, order: Order.Order): OrderStore.StoredOrder => ({
    order,
    stamp: DateTime.unsafeMake(row.stamp_ms),
    ingestedAt: DateTime.unsafeMake(row.ingested_ms),
    contentHash: row.content_hash,
    heldReasons: row.held_reasons
  })
  const toStored = (storeId: string) => (row: DocumentRow) =>
    Effect.map(decodeOrder(row, storeId), (order) => stored(row, order))

  /**
   * The order of a row, from the cache when its JSON is unchanged, else read with `Order.fromJson` when it is in
   * the plain form ingest writes (the schema cost three times JSON.parse, most of a later page's first read);
   * undefined otherwise.
   */
  const plainOrder = (row: DocumentRow, storeId: string): Order.Order | undefined => {
    // With no cache (the server's choice, `Server.cacheSizes`), no key or entry is built per order.
    const key = decoded.capacity > 0 ? `${storeId}\u0000${row.pos_ref}` : undefined
    const hit = key === undefined ? undefined : decoded.get(key)
    if (hit !== undefined && hit.json === row.order_json) return hit.order
    let value: unknown
    try {
      value = JSON.parse(row.order_json)
    } catch {
      return undefined
    }
    const order = Order.fromJson(value)
    if (order !== undefined && key !== undefined) decoded.set(key, { json: row.order_json, order })
    return order
  }

  /**
   * Rows of `pb_documents` (`documentColumns`, as the driver returns them) as stored orders, in order. Rows and
   * orders in the form this code writes are mapped by hand, with no Effect or Schema per row: on a later page
   * read for the first time that per-row machinery cost more than reading the rows. The first row that is not
   * in that form, and every row after it, goes through `DocumentRow` and the Order schema, so a corrupt row
   * fails with the same ParseError as before.
   */
  const storedRows = (storeId: string, rows: ReadonlyArray<unknown>) => {
    const out: Array<OrderStore.StoredOrder> = []
    for (let i = 0; i < rows.length; i++) {
      const row = plainRow(rows[i])
      const order = row === undefined ? undefined : plainOrder(row, storeId)
      if (row === undefined || order === undefined) {
        return Effect.map(
          Effect.forEach(rows.slice(i), (r) => Effect.flatMap(decodeRow(r), toStored(storeId))),
          (rest) => out.concat(rest)
        )
      }
      out.push(stored(row, order))
    }
    return Effect.succeed(out)
  }

  const byRef = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, key: Schema.String }),
    Result: DocumentRow,
    execute: ({ storeId, key }) => sql`SELECT ${sql.literal(documentColumns())} FROM pb_documents
      WHERE store_id = ${storeId} AND pos_ref = ${key}`
  })
  const byNumber = SqlSchema.findOne({
    Request: Schema.Struct({ storeId: Schema.String, key: Schema.String }),
    Result: DocumentRow,
    execute: ({ storeId, key }) => sql`SELECT ${sql.literal(documentColumns())} FROM pb_documents
      WHERE store_id = ${storeId} AND order_number = ${key} ORDER BY stamp_ms DESC, pos_ref LIMIT 1`
  })

  const lookup = (storeId: string, key: string) =>
    Effect.gen(function* () {
      const ref = yield* byRef({ storeId, key })
      const row = Option.isSome(ref) ? ref : yield* byNumber({ storeId, key })
      return Option.isSome(row) ? Option.some(yield* toStored(storeId)(row.value)) : Option.none()
    })

  return {
    /** The stored version of a row; its order decoded, or taken from the cache when its JSON is unchanged. */
    toStored,
    storedRows,
    /** By POS id first, then by order number (the most recently stamped one), like the reference store. */
    lookup
  }
}

export type Documents = ReturnType<typeof make>
