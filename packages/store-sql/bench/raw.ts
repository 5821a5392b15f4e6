/**
 * The store bench's baseline: the raw drivers (better-sqlite3 / pg) doing the same work as posbridge, written the
 * way a raw-driver author would for the same answers, with no posbridge logic (no refresh rule, no hashing, no
 * Schema decoding, no caches):
 *
 * - ingest writes the same rows, document (upserted), `Inserted` history row and cursor, one transaction per
 *   batch, with SQLite's pragmas as posbridge's SQLite layer sets them (WAL, synchronous=FULL, busy timeout);
 * - page 1 freezes the window's snapshot as posbridge does (its members numbered by position), advances the
 *   watermark, logs the poll and the page's history row, and reads the page by position, in one transaction;
 * - a later page is one statement: the live snapshot's members at the page's positions joined to their
 *   documents (posbridge also checks the watermark and buffers a poll-log row; the raw author skips both).
 *
 * Every page's `order_json` is parsed, as posbridge decodes its orders.
 */
import Database from "better-sqlite3"
import pg from "pg"

export interface RawRow {
  readonly pos_ref: string
  readonly kind: string
  readonly order_number: string
  readonly order_json: string
  readonly modified: number
  readonly hash: string
}

export interface Window {
  readonly start: number
  /** Exclusive, as posbridge's `OrderWindow.endExclusive`. */
  readonly endExclusive: number
}

/** What the bench drives on either engine. */
export interface RawStore {
  readonly ingest: (batch: ReadonlyArray<RawRow>, stamp: number, cursor: string) => Promise<void>
  /** Page 1 of `window` at `at`: the snapshot's total and the page's orders. */
  readonly firstPage: (window: Window, at: number, pageSize: number) => Promise<{ total: number; orders: number }>
  readonly laterPage: (window: Window, at: number, page: number, pageSize: number) => Promise<number>
  readonly close: () => Promise<void>
}

const ttl = 60 * 60_000
let snapshots = 0
const snapshotId = () => `snap-${++snapshots}`

const schema = (serial: string, text: string, millis: string) => [
  `CREATE TABLE stores (store_id ${text} PRIMARY KEY, sync_cursor TEXT, watermark_ms ${millis})`,
  `CREATE TABLE docs (store_id ${text} NOT NULL, pos_ref ${text} NOT NULL, kind TEXT NOT NULL,
    order_number TEXT NOT NULL, order_json TEXT NOT NULL, pos_modified_ms ${millis} NOT NULL, content_hash TEXT NOT NULL,
    stamp_ms ${millis} NOT NULL, ingested_ms ${millis} NOT NULL, held_reasons TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (store_id, pos_ref))`,
  "CREATE INDEX docs_stamp ON docs (store_id, stamp_ms, pos_ref)",
  `CREATE TABLE history (seq ${serial}, store_id ${text} NOT NULL, pos_ref ${text} NOT NULL, at_ms ${millis} NOT NULL,
    event TEXT NOT NULL, reason TEXT, pos_modified_ms ${millis}, stamp_ms ${millis}, content_hash TEXT, detail TEXT)`,
  "CREATE INDEX history_doc ON history (store_id, pos_ref, seq)",
  "CREATE INDEX history_at ON history (at_ms)",
  `CREATE TABLE snapshots (snapshot_id ${text} PRIMARY KEY, store_id ${text} NOT NULL, window_start_ms ${millis} NOT NULL,
    window_end_ms ${millis} NOT NULL, total INTEGER NOT NULL, expires_ms ${millis} NOT NULL,
    UNIQUE (store_id, window_start_ms, window_end_ms))`,
  `CREATE TABLE members (snapshot_id ${text} NOT NULL, position INTEGER NOT NULL, pos_ref ${text} NOT NULL,
    PRIMARY KEY (snapshot_id, position))`,
  `CREATE TABLE polls (seq ${serial}, store_id ${text} NOT NULL, at_ms ${millis} NOT NULL,
    window_start_ms ${millis} NOT NULL, window_end_ms ${millis} NOT NULL, page INTEGER NOT NULL, pages INTEGER NOT NULL,
    count INTEGER NOT NULL, snapshot_id TEXT NOT NULL)`,
  "CREATE INDEX polls_store ON polls (store_id, seq)"
]

const later = (p: (n: number) => string) => `SELECT d.* FROM snapshots s
  JOIN members m ON m.snapshot_id = s.snapshot_id
  JOIN docs d ON d.store_id = s.store_id AND d.pos_ref = m.pos_ref
  WHERE s.store_id = ${p(1)} AND s.window_start_ms = ${p(2)} AND s.window_end_ms = ${p(3)} AND s.expires_ms >= ${p(4)}
    AND m.position >= ${p(5)} AND m.position < ${p(6)} ORDER BY m.position`

const parse = (rows: ReadonlyArray<{ order_json: string }>) => rows.map((r) => JSON.parse(r.order_json) as unknown)

export const sqlite = (filename: string, storeId: string): RawStore => {
  const db = new Database(filename)
  db.pragma("journal_mode = WAL")
  db.pragma("busy_timeout = 5000")
  db.pragma("synchronous = FULL")
  for (const statement of schema("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "INTEGER")) db.exec(statement)
  const upsertStore = db.prepare("INSERT INTO stores (store_id) VALUES (?) ON CONFLICT (store_id) DO NOTHING")
  const setCursor = db.prepare("UPDATE stores SET sync_cursor = ? WHERE store_id = ?")
  const upsertDoc = db.prepare(`INSERT INTO docs (store_id, pos_ref, kind, order_number, order_json, pos_modified_ms,
    content_hash, stamp_ms, ingested_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, pos_ref) DO UPDATE SET
    order_json = excluded.order_json, pos_modified_ms = excluded.pos_modified_ms, content_hash = excluded.content_hash,
    stamp_ms = excluded.stamp_ms, ingested_ms = excluded.ingested_ms, held_reasons = '[]'`)
  const insertHistory = db.prepare(`INSERT INTO history (store_id, pos_ref, at_ms, event, reason, pos_modified_ms,
    stamp_ms, content_hash, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const ingest = db.transaction((batch: ReadonlyArray<RawRow>, stamp: number, cursor: string) => {
    upsertStore.run(storeId)
    for (const r of batch) {
      upsertDoc.run(storeId, r.pos_ref, r.kind, r.order_number, r.order_json, r.modified, r.hash, stamp, stamp)
      insertHistory.run(storeId, r.pos_ref, stamp, "Inserted", null, r.modified, stamp, r.hash, null)
    }
    setCursor.run(cursor, storeId)
  })
  const selectWatermark = db.prepare("SELECT watermark_ms FROM stores WHERE store_id = ?")
  const dropSnapshot = db.prepare(
    "DELETE FROM snapshots WHERE store_id = ? AND window_start_ms = ? AND window_end_ms = ? RETURNING snapshot_id"
  )
  const dropMembers = db.prepare("DELETE FROM members WHERE snapshot_id = ?")
  const freeze = db.prepare(`INSERT INTO members (snapshot_id, position, pos_ref)
    SELECT ?, ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM docs
    WHERE store_id = ? AND stamp_ms >= ? AND stamp_ms < ?`)
  const insertSnapshot = db.prepare("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?)")
  const setWatermark = db.prepare("UPDATE stores SET watermark_ms = ? WHERE store_id = ?")
  const byPosition = db.prepare(`SELECT d.* FROM members m JOIN docs d ON d.store_id = ? AND d.pos_ref = m.pos_ref
    WHERE m.snapshot_id = ? AND m.position >= ? AND m.position < ? ORDER BY m.position`)
  const insertPoll = db.prepare(
    "INSERT INTO polls (store_id, at_ms, window_start_ms, window_end_ms, page, pages, count, snapshot_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
  )
  const firstPage = db.transaction((w: Window, at: number, pageSize: number) => {
    upsertStore.run(storeId)
    const watermark = (selectWatermark.get(storeId) as { watermark_ms: number | null } | undefined)?.watermark_ms ?? 0
    for (const old of dropSnapshot.all(storeId, w.start, w.endExclusive) as Array<{ snapshot_id: string }>) {
      dropMembers.run(old.snapshot_id)
    }
    const id = snapshotId()
    const total = freeze.run(id, storeId, w.start, w.endExclusive).changes
    insertSnapshot.run(id, storeId, w.start, w.endExclusive, total, at + ttl)
    setWatermark.run(Math.max(watermark, w.endExclusive), storeId)
    const rows = byPosition.all(storeId, id, 0, pageSize) as Array<{ order_json: string; pos_ref: string }>
    const orders = parse(rows)
    const pages = Math.ceil(total / pageSize)
    insertPoll.run(storeId, at, w.start, w.endExclusive, 1, pages, rows.length, id)
    const detail = JSON.stringify({
      start: w.start,
      end: w.endExclusive,
      page: 1,
      pages,
      refs: rows.map((r) => r.pos_ref)
    })
    insertHistory.run(storeId, "", at, "ExportedPage", null, null, null, null, detail)
    return { total, orders: orders.length }
  })
  const laterPage = db.prepare(later(() => "?"))
  return {
    ingest: async (batch, stamp, cursor) => ingest(batch, stamp, cursor),
    firstPage: async (w, at, pageSize) => firstPage.immediate(w, at, pageSize),
    laterPage: async (w, at, page, pageSize) =>
      parse(
        laterPage.all(storeId, w.start, w.endExclusive, at, (page - 1) * pageSize, page * pageSize) as Array<{
          order_json: string
        }>
      ).length,
    close: async () => void db.close()
  }
}

export const postgres = async (url: string, storeId: string): Promise<RawStore> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  for (const statement of schema("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", `TEXT COLLATE "C"`, "BIGINT")) {
    await client.query(statement)
  }
  const values = (rows: number, columns: number) =>
    Array.from(
      { length: rows },
      (_, j) => `(${Array.from({ length: columns }, (_, k) => `$${j * columns + k + 1}`).join(", ")})`
    ).join(", ")
  const inTransaction = async <A>(body: () => Promise<A>): Promise<A> => {
    await client.query("BEGIN")
    try {
      const a = await body()
      await client.query("COMMIT")
      return a
    } catch (e) {
      await client.query("ROLLBACK")
      throw e
    }
  }
  const lock = async () => {
    await client.query("INSERT INTO stores (store_id) VALUES ($1) ON CONFLICT (store_id) DO NOTHING", [storeId])
    const r = await client.query("SELECT watermark_ms FROM stores WHERE store_id = $1 FOR UPDATE", [storeId])
    return Number(r.rows[0]?.watermark_ms ?? 0)
  }
  return {
    ingest: (batch, stamp, cursor) =>
      inTransaction(async () => {
        await lock()
        const docs: Array<unknown> = []
        const history: Array<unknown> = []
        for (const r of batch) {
          docs.push(storeId, r.pos_ref, r.kind, r.order_number, r.order_json, r.modified, r.hash, stamp, stamp)
          history.push(storeId, r.pos_ref, stamp, "Inserted", r.modified, stamp, r.hash)
        }
        await client.query(
          `INSERT INTO docs (store_id, pos_ref, kind, order_number, order_json, pos_modified_ms, content_hash, stamp_ms,
            ingested_ms) VALUES ${values(batch.length, 9)} ON CONFLICT (store_id, pos_ref) DO UPDATE SET
            order_json = excluded.order_json, pos_modified_ms = excluded.pos_modified_ms,
            content_hash = excluded.content_hash, stamp_ms = excluded.stamp_ms, ingested_ms = excluded.ingested_ms,
            held_reasons = '[]'`,
          docs
        )
        await client.query(
          `INSERT INTO history (store_id, pos_ref, at_ms, event, pos_modified_ms, stamp_ms, content_hash)
            VALUES ${values(batch.length, 7)}`,
          history
        )
        await client.query("UPDATE stores SET sync_cursor = $1 WHERE store_id = $2", [cursor, storeId])
      }),
    firstPage: (w, at, pageSize) =>
      inTransaction(async () => {
        const watermark = await lock()
        const old = await client.query(
          "DELETE FROM snapshots WHERE store_id = $1 AND window_start_ms = $2 AND window_end_ms = $3 RETURNING snapshot_id",
          [storeId, w.start, w.endExclusive]
        )
        for (const row of old.rows) await client.query("DELETE FROM members WHERE snapshot_id = $1", [row.snapshot_id])
        const id = snapshotId()
        const frozen = await client.query(
          `INSERT INTO members (snapshot_id, position, pos_ref)
            SELECT $1, ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM docs
            WHERE store_id = $2 AND stamp_ms >= $3 AND stamp_ms < $4`,
          [id, storeId, w.start, w.endExclusive]
        )
        const total = frozen.rowCount ?? 0
        await client.query("INSERT INTO snapshots VALUES ($1, $2, $3, $4, $5, $6)", [
          id,
          storeId,
          w.start,
          w.endExclusive,
          total,
          at + ttl
        ])
        await client.query("UPDATE stores SET watermark_ms = $1 WHERE store_id = $2", [
          Math.max(watermark, w.endExclusive),
          storeId
        ])
        const rows = await client.query(
          `SELECT d.* FROM members m JOIN docs d ON d.store_id = $1 AND d.pos_ref = m.pos_ref
            WHERE m.snapshot_id = $2 AND m.position >= 0 AND m.position < $3 ORDER BY m.position`,
          [storeId, id, pageSize]
        )
        const orders = parse(rows.rows)
        const pages = Math.ceil(total / pageSize)
        await client.query(
          "INSERT INTO polls (store_id, at_ms, window_start_ms, window_end_ms, page, pages, count, snapshot_id) VALUES ($1, $2, $3, $4, 1, $5, $6, $7)",
          [storeId, at, w.start, w.endExclusive, pages, rows.rows.length, id]
        )
        const refs = rows.rows.map((r: { pos_ref: string }) => r.pos_ref)
        await client.query(
          "INSERT INTO history (store_id, pos_ref, at_ms, event, detail) VALUES ($1, '', $2, 'ExportedPage', $3)",
          [storeId, at, JSON.stringify({ start: w.start, end: w.endExclusive, page: 1, pages, refs })]
        )
        return { total, orders: orders.length }
      }),
    laterPage: async (w, at, page, pageSize) => {
      const r = await client.query(
        later((n) => `$${n}`),
        [storeId, w.start, w.endExclusive, at, (page - 1) * pageSize, page * pageSize]
      )
      return parse(r.rows).length
    },
    close: () => client.end()
  }
}
