import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import * as Dialect from "../Dialect.js"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = Dialect.of(sql)

  // One row per store: the sync cursor, the watermark, and the row PostgreSQL locks to serialize the store.
  yield* sql`CREATE TABLE pb_stores (
    store_id ${d.keyText} PRIMARY KEY,
    sync_cursor TEXT,
    watermark_ms ${d.millis}
  )`

  yield* sql`CREATE TABLE pb_documents (
    store_id ${d.keyText} NOT NULL,
    pos_ref ${d.keyText} NOT NULL,
    kind TEXT NOT NULL,
    order_number TEXT NOT NULL,
    order_json TEXT NOT NULL,
    pos_modified_ms ${d.millis} NOT NULL,
    content_hash TEXT NOT NULL,
    stamp_ms ${d.millis} NOT NULL,
    ingested_ms ${d.millis} NOT NULL,
    held_reasons TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (store_id, pos_ref)
  )`
  yield* sql`CREATE INDEX pb_documents_stamp ON pb_documents (store_id, stamp_ms, pos_ref)`
  yield* sql`CREATE INDEX pb_documents_number ON pb_documents (store_id, order_number)`

  // Every ingest, restamp, hold and export of a document, oldest first by seq: what `explain` prints.
  yield* sql`CREATE TABLE pb_history (
    seq ${d.serialPrimaryKey},
    store_id ${d.keyText} NOT NULL,
    pos_ref ${d.keyText} NOT NULL,
    at_ms ${d.millis} NOT NULL,
    event TEXT NOT NULL,
    reason TEXT,
    pos_modified_ms ${d.millis},
    stamp_ms ${d.millis},
    content_hash TEXT,
    detail TEXT
  )`
  yield* sql`CREATE INDEX pb_history_doc ON pb_history (store_id, pos_ref, seq)`
  yield* sql`CREATE INDEX pb_history_at ON pb_history (at_ms)`

  yield* sql`CREATE TABLE pb_snapshots (
    snapshot_id ${d.keyText} PRIMARY KEY,
    store_id ${d.keyText} NOT NULL,
    window_start_ms ${d.millis} NOT NULL,
    window_end_ms ${d.millis} NOT NULL,
    total INTEGER NOT NULL,
    created_ms ${d.millis} NOT NULL,
    expires_ms ${d.millis} NOT NULL,
    UNIQUE (store_id, window_start_ms, window_end_ms)
  )`
  yield* sql`CREATE INDEX pb_snapshots_expiry ON pb_snapshots (expires_ms)`
  yield* sql`CREATE TABLE pb_snapshot_members (
    snapshot_id ${d.keyText} NOT NULL,
    position INTEGER NOT NULL,
    pos_ref ${d.keyText} NOT NULL,
    PRIMARY KEY (snapshot_id, position)
  )`

  yield* sql`CREATE TABLE pb_polls (
    seq ${d.serialPrimaryKey},
    store_id ${d.keyText} NOT NULL,
    at_ms ${d.millis} NOT NULL,
    window_start_ms ${d.millis} NOT NULL,
    window_end_ms ${d.millis} NOT NULL,
    page INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    count INTEGER NOT NULL,
    snapshot_id TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX pb_polls_store ON pb_polls (store_id, seq)`
  yield* sql`CREATE INDEX pb_polls_at ON pb_polls (at_ms)`

  yield* sql`CREATE TABLE pb_ship_notices (
    seq ${d.serialPrimaryKey},
    notice_id ${d.keyText} NOT NULL UNIQUE,
    idempotency_key ${d.keyText} NOT NULL UNIQUE,
    store_id ${d.keyText} NOT NULL,
    pos_ref ${d.keyText},
    notice_json TEXT NOT NULL,
    received_ms ${d.millis} NOT NULL
  )`
  yield* sql`CREATE INDEX pb_ship_notices_order ON pb_ship_notices (store_id, pos_ref)`

  yield* sql`CREATE TABLE pb_outbox (
    seq ${d.serialPrimaryKey},
    outbox_id ${d.keyText} NOT NULL UNIQUE,
    store_id ${d.keyText} NOT NULL,
    notice_id ${d.keyText} NOT NULL,
    pos_ref ${d.keyText},
    notice_json TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms ${d.millis} NOT NULL,
    last_error TEXT,
    result TEXT,
    updated_ms ${d.millis} NOT NULL
  )`
  yield* sql`CREATE INDEX pb_outbox_due ON pb_outbox (state, next_attempt_ms)`
  yield* sql`CREATE INDEX pb_outbox_store ON pb_outbox (store_id, seq)`
  yield* sql`CREATE INDEX pb_outbox_notice ON pb_outbox (notice_id)`

  // TokenVault: AES-GCM ciphertext only; the key never reaches the database.
  yield* sql`CREATE TABLE pb_secrets (
    store_id ${d.keyText} NOT NULL,
    name ${d.keyText} NOT NULL,
    iv TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    updated_ms ${d.millis} NOT NULL,
    PRIMARY KEY (store_id, name)
  )`
})
