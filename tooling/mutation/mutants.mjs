// biome-ignore-all lint/suspicious/noTemplateCurlyInString: search and replace strings are source text, with its template literals
/**
 * The mutation check's data: the checks it can run and the deliberate bugs ("mutants") it applies, one at a time,
 * in a temporary copy of the repository (`run.mjs`). A mutant is killed when one of its checks fails; it survives
 * when every one of them still passes.
 *
 * Each edit names a file, a search string that must occur in it EXACTLY ONCE, and its replacement. When a
 * refactor moves or rewrites the code, the search string stops matching and the run stops before it starts,
 * naming the mutant: move the mutant to where the bug would now be, never delete it to make the run pass.
 * A mutant is placed where the real bug would be written, and never in an oracle (`core/src/testing`, the
 * conformance harness, `OrderWindow.contains`, which the history check itself uses).
 *
 * A mutant's checks run in the order listed, cheapest first; the first that fails kills it.
 */

/**
 * The checks. `vitest`: files given to `vitest run` (paths from the repository root), optionally filtered by
 * test name (`testNamePattern`, a regular expression). `conformance`: arguments to `pnpm conformance`.
 * Checks run from sources; `build: true` builds the packages first (turbo, cached: only what a mutant touched is
 * rebuilt). It is needed by end-to-end tests, which start the built server, and by `pnpm conformance`, whose
 * adapter cases load the built-in adapters' compiled `dist/` (the scenarios and the soak run sources).
 */
export const checks = {
  "core-units": {
    what: "core's unit tests: RefreshRule, ExportStamp, OrderWindow",
    vitest: [
      "packages/core/test/RefreshRule.test.ts",
      "packages/core/test/ExportStamp.test.ts",
      "packages/core/test/OrderWindow.test.ts"
    ]
  },
  "store-contract": {
    what: "the OrderStore contract on the memory store and on SQLite",
    vitest: ["packages/store-sql/test/OrderStore.memory.test.ts", "packages/store-sql/test/OrderStore.sqlite.test.ts"]
  },
  "sqlite-suites": {
    what: "the SQL store's own SQLite suites: kept pages, write-behind, concurrent ingests and polls",
    vitest: [
      "packages/store-sql/test/PageCache.test.ts",
      "packages/store-sql/test/WriteBehind.test.ts",
      "packages/store-sql/test/Concurrency.test.ts"
    ],
    testNamePattern: "^(?!.*PostgreSQL)"
  },
  "history-memory": {
    what: "the model-based history property on the memory store",
    vitest: ["packages/core/test/StoreHistory.test.ts"]
  },
  "history-sqlite": {
    what: "the model-based history property on SQLite",
    vitest: ["packages/store-sql/test/StoreHistory.test.ts"],
    testNamePattern: "SQLite"
  },
  shipstation: {
    what: "the shipstation package's tests (routes over HTTP, XML, field rules)",
    vitest: ["packages/shipstation/test/"]
  },
  "outbox-worker": {
    what: "write-back delivery (sync's OutboxWorker)",
    vitest: ["packages/sync/test/OutboxWorker.test.ts"]
  },
  lightspeed: {
    what: "the Lightspeed adapter's tests and recorded fixtures",
    vitest: ["packages/source-lightspeed/test/"]
  },
  heartland: {
    what: "the Heartland adapter's tests and recorded fixtures",
    vitest: ["packages/source-heartland/test/"]
  },
  conformance: {
    what: "pnpm conformance: adapter fixtures and the ShipStation poll scenarios",
    conformance: [],
    build: true
  },
  soak: {
    what: "pnpm conformance --soak, 300 polls, seed 1",
    conformance: ["--soak", "--polls", "300", "--seed", "1"]
  }
}

const rule = ["core-units", "store-contract", "history-memory", "history-sqlite", "conformance", "soak"]
const memory = ["store-contract", "history-memory", "conformance", "soak"]
const sqlite = ["store-contract", "sqlite-suites", "history-sqlite", "conformance", "soak"]
const notices = ["store-contract", "shipstation", "outbox-worker", "conformance"]

const RefreshRule = "packages/core/src/RefreshRule.ts"
const ExportStamp = "packages/core/src/ExportStamp.ts"
const MemoryStore = "packages/core/src/internal/memoryStore.ts"
const ExportPages = "packages/store-sql/src/internal/ExportPages.ts"
const Ingest = "packages/store-sql/src/internal/Ingest.ts"

export const mutants = [
  // ── core rules (RefreshRule, ExportStamp, ShipNotice): both stores decide and stamp through them ──
  {
    name: "resave-treated-as-unchanged",
    area: "core rule",
    bug: "a POS re-save with unchanged content is Unchanged: only the content hash restamps",
    file: RefreshRule,
    search:
      '  if (DateTime.greaterThan(order.posModifiedAt, state.posModifiedAt)) {\n    return Decision.Restamp({ reason: "pos-resaved", stamp })\n  }\n',
    replace: "",
    checks: rule
  },
  {
    name: "content-change-keeps-stamp",
    area: "core rule",
    bug: "a content change is stored but keeps the stamp it had, so no later window shows it",
    file: RefreshRule,
    search: 'return Decision.Restamp({ reason: "content-changed", stamp })',
    replace: 'return Decision.Restamp({ reason: "content-changed", stamp: state.stamp })',
    checks: rule
  },
  {
    name: "touch-keeps-stamp",
    area: "core rule",
    bug: "an operator's touch keeps the order's old stamp, so ShipStation's next poll does not pick it up",
    file: RefreshRule,
    search:
      'reason: "touched",\n          stamp: ExportStamp.stamp(\n            { ingestedAt: ctx.now, watermark: ctx.watermark, posModifiedAt: state.posModifiedAt },\n            ctx.stampRule\n          )',
    replace: 'reason: "touched",\n          stamp: state.stamp',
    checks: rule
  },
  {
    name: "no-watermark",
    area: "core rule",
    bug: "stamp = ingestedAt: the watermark is ignored, a version ingested inside a served window's end minute is missed",
    file: ExportStamp,
    search: "onSome: (w) => DateTime.max(input.ingestedAt, w)",
    replace: "onSome: () => input.ingestedAt",
    checks: rule
  },
  {
    name: "watermark-is-window-end",
    area: "core rule",
    bug: "the watermark is the served window's end minute, not one minute after it",
    file: ExportStamp,
    search: "const candidate = OrderWindow.endExclusive(window)",
    replace: "const candidate = window.end",
    checks: rule
  },
  {
    name: "no-watermark-clamp",
    area: "core rule",
    bug: "a window ending far in the future moves the watermark, pushing every later stamp past ShipStation's windows",
    file: ExportStamp,
    search: "if (DateTime.greaterThan(window.end, DateTime.addDuration(now, tolerance))) {",
    replace: "if (DateTime.greaterThan(window.end, DateTime.addDuration(now, tolerance)) && false) {",
    checks: rule
  },
  {
    name: "notice-key-ignores-tracking-number",
    area: "core rule",
    bug: "the ship-notice idempotency key leaves out the tracking number: a second package is taken for a retry and lost",
    file: "packages/core/src/ShipNotice.ts",
    search: "[notice.storeId, orderKey.trim(), norm(notice.trackingNumber), norm(notice.carrier)]",
    replace: "[notice.storeId, orderKey.trim(), norm(notice.carrier)]",
    checks: notices
  },

  // ── the memory store (the reference implementation) ──
  {
    name: "memory-restamp-keeps-stamp",
    area: "memory store",
    bug: "an ingested re-save or content change keeps the stored stamp",
    file: MemoryStore,
    search: "stamp: decision.stamp,\n                ingestedAt: at,",
    replace: "stamp: existing?.current.stamp ?? decision.stamp,\n                ingestedAt: at,",
    checks: memory
  },
  {
    name: "memory-watermark-never-advances",
    area: "memory store",
    bug: "serving a window does not move the store's watermark (no watermark)",
    file: MemoryStore,
    search: "          s.watermark = advance.watermark\n",
    replace: "",
    checks: memory
  },
  {
    name: "memory-snapshot-excludes-end-minute",
    area: "memory store",
    bug: "the snapshot leaves out documents stamped inside the window's (inclusive) end minute",
    file: MemoryStore,
    search: ".filter((m) => OrderWindow.contains(request.window, m.stamp))",
    replace:
      ".filter((m) => OrderWindow.contains(request.window, m.stamp) && DateTime.lessThan(m.stamp, request.window.end))",
    checks: memory
  },
  {
    name: "memory-offset-paging",
    area: "memory store",
    bug: "pages are cut from the live window by offset (no frozen snapshot)",
    file: MemoryStore,
    search: 'const pagingMode = options.pagingMode ?? "snapshot"',
    replace: 'const pagingMode = options.pagingMode ?? "offset"',
    checks: memory
  },
  {
    name: "memory-later-pages-reread-live-window",
    area: "memory store",
    bug: "later pages keep the snapshot's page count but cut their members from the live window",
    file: MemoryStore,
    search: "const slice = ExportSnapshot.pageSlice(snapshot.members, request.page, request.pageSize)",
    replace:
      "const slice = ExportSnapshot.pageSlice(\n            created\n              ? snapshot.members\n              : Array.from(s.docs.values())\n                  .map((d) => ({ posRef: d.current.order.posRef, stamp: d.current.stamp }))\n                  .filter((m) => OrderWindow.contains(request.window, m.stamp))\n                  .sort(ExportSnapshot.memberOrder)\n                  .map((m) => m.posRef),\n            request.page,\n            request.pageSize\n          )",
    checks: memory
  },
  {
    name: "memory-later-pages-drop-resaved",
    area: "memory store",
    bug: "a later page drops the snapshot members re-saved during the poll (their new stamp is past the window)",
    file: MemoryStore,
    search: "const members = slice.flatMap((posRef) => s.docs.get(posRef)?.current ?? [])",
    replace:
      "const members = slice\n            .flatMap((posRef) => s.docs.get(posRef)?.current ?? [])\n            .filter((o) => OrderWindow.contains(request.window, o.stamp))",
    checks: memory
  },
  {
    name: "memory-page-boundary-off-by-one",
    area: "memory store",
    bug: "each page starts one member late: the first member of every page is never served",
    file: "packages/core/src/ExportSnapshot.ts",
    search: "members.slice((page - 1) * pageSize, page * pageSize)",
    replace: "members.slice((page - 1) * pageSize + 1, page * pageSize)",
    checks: memory
  },
  {
    name: "memory-touch-keeps-stamp",
    area: "memory store",
    bug: "the memory store records a touch without its new stamp",
    file: MemoryStore,
    search: "doc.current = { ...doc.current, stamp: decision.stamp, ingestedAt: at, heldReasons: [] }",
    replace: "doc.current = { ...doc.current, ingestedAt: at, heldReasons: [] }",
    checks: memory
  },
  {
    name: "memory-duplicate-notice-stored-twice",
    area: "memory store",
    bug: "a ship notice's retry is not looked up by its key: it is stored again with a second write-back",
    file: "packages/core/src/internal/memoryOutbox.ts",
    search: "const existing = notices.get(match.key)",
    replace: "const existing = undefined as StoredShipNotice | undefined",
    checks: notices
  },

  // ── the SQL store (SQLite; the same statements run on PostgreSQL) ──
  {
    name: "sqlite-restamp-keeps-stamp",
    area: "SQLite store",
    bug: "the upsert of a re-saved or changed document does not write its new stamp",
    file: Ingest,
    search: "stamp_ms = excluded.stamp_ms, ingested_ms = excluded.ingested_ms",
    replace: "ingested_ms = excluded.ingested_ms",
    checks: sqlite
  },
  {
    name: "sqlite-ingest-without-watermark",
    area: "SQLite store",
    bug: "ingest stamps without the store's watermark (no watermark)",
    file: Ingest,
    search: "const { watermark } = yield* lock(store.id)",
    replace: "yield* lock(store.id)\n      const watermark = Option.none<DateTime.Utc>()",
    checks: sqlite
  },
  {
    name: "sqlite-watermark-never-stored",
    area: "SQLite store",
    bug: "serving a window never writes the advanced watermark",
    file: ExportPages,
    search:
      "      if (Option.isSome(advance.watermark)) {\n        yield* sql`UPDATE pb_stores SET watermark_ms = ${millis(advance.watermark.value)} WHERE store_id = ${storeId}`\n      }\n",
    replace: "",
    checks: sqlite
  },
  {
    name: "sqlite-snapshot-excludes-end-minute",
    area: "SQLite store",
    bug: "the frozen snapshot leaves out documents stamped inside the window's (inclusive) end minute",
    file: ExportPages,
    search:
      "ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM pb_documents\n        WHERE store_id = ${storeId} AND stamp_ms >= ${bounds.start} AND stamp_ms < ${endExclusive}",
    replace:
      "ROW_NUMBER() OVER (ORDER BY stamp_ms, pos_ref) - 1, pos_ref FROM pb_documents\n        WHERE store_id = ${storeId} AND stamp_ms >= ${bounds.start} AND stamp_ms < ${bounds.end}",
    checks: sqlite
  },
  {
    name: "sqlite-offset-paging",
    area: "SQLite store",
    bug: "pages are read from the live window with LIMIT/OFFSET (no frozen snapshot)",
    file: ExportPages,
    search: 'const pagingMode = options.pagingMode ?? "snapshot"',
    replace: 'const pagingMode = options.pagingMode ?? "offset"',
    checks: sqlite
  },
  {
    name: "sqlite-later-pages-reread-live-window",
    area: "SQLite store",
    bug: "every page freezes the window again instead of reading page 1's snapshot",
    edits: [
      {
        file: ExportPages,
        search: 'if (request.page > 1 && pagingMode === "snapshot") {',
        replace: 'if (request.page > 1 && pagingMode !== "snapshot") {'
      },
      {
        file: ExportPages,
        search: 'if (page > 1 && pagingMode === "snapshot") {',
        replace: 'if (page > 1 && pagingMode !== "snapshot") {'
      }
    ],
    checks: sqlite
  },
  {
    name: "sqlite-later-pages-drop-resaved",
    area: "SQLite store",
    bug: "a page drops the snapshot members whose current stamp is past the window (re-saved during the poll)",
    file: ExportPages,
    search: "FROM pb_snapshot_members m JOIN pb_documents d ON d.store_id = ${b.storeId} AND d.pos_ref = m.pos_ref\n",
    replace:
      "FROM pb_snapshot_members m JOIN pb_documents d ON d.store_id = ${b.storeId} AND d.pos_ref = m.pos_ref\n      JOIN pb_snapshots p ON p.snapshot_id = m.snapshot_id AND d.stamp_ms < p.window_end_ms + 60000\n",
    checks: sqlite
  },
  {
    name: "sqlite-page-boundary-off-by-one",
    area: "SQLite store",
    bug: "each page starts one position late: the first member of every page is never served",
    file: ExportPages,
    search: "m.position >= ${b.offset} AND m.position < ${b.offset + b.size}",
    replace: "m.position > ${b.offset} AND m.position <= ${b.offset + b.size}",
    checks: sqlite
  },
  {
    name: "sqlite-touch-keeps-stamp",
    area: "SQLite store",
    bug: "a touch is written without its new stamp",
    file: Ingest,
    search: "UPDATE pb_documents SET stamp_ms = ${millis(decision.stamp)}, ingested_ms = ${at}, held_reasons = '[]'",
    replace: "UPDATE pb_documents SET ingested_ms = ${at}, held_reasons = '[]'",
    checks: sqlite
  },
  {
    name: "sqlite-duplicate-notice-queued-twice",
    area: "SQLite store",
    bug: "a ship notice's retry is not recognized (the key's conflict is ignored): a second write-back is queued",
    file: "packages/store-sql/src/internal/Outbox.ts",
    search: "if (stored.length === 0) {",
    replace: "if (stored.length < 0) {",
    checks: notices
  },
  {
    name: "sqlite-failed-write-back-not-retried",
    area: "SQLite store",
    bug: "a failed write-back that should be retried is marked dead",
    file: "packages/store-sql/src/internal/Outbox.ts",
    search: "SET state = 'pending', next_attempt_ms = ${millis(retryAt.value)}",
    replace: "SET state = 'dead', next_attempt_ms = ${millis(retryAt.value)}",
    checks: notices
  },

  // ── the shipstation routes ──
  {
    name: "notice-answered-before-stored",
    area: "shipstation routes",
    bug: "shipnotify answers 200 without waiting for the notice to be stored (a failed store goes unnoticed)",
    file: "packages/shipstation/src/ShipStationRoutes.ts",
    search:
      "    const stored = yield* OrderStore.OrderStore.pipe(\n      Effect.flatMap((store) => store.recordShipNotice(notice, { key: match.key, posRef: match.posRef }))\n    )\n",
    replace:
      '    yield* OrderStore.OrderStore.pipe(\n      Effect.flatMap((store) => store.recordShipNotice(notice, { key: match.key, posRef: match.posRef })),\n      Effect.forkDaemon\n    )\n    const stored = { _tag: "Stored" } as { readonly _tag: "Stored" | "Duplicate" }\n',
    checks: ["shipstation", "conformance"]
  },
  {
    name: "notice-store-failure-answered-200",
    area: "shipstation routes",
    bug: "shipnotify answers 200 when the order store failed to record the notice (nothing durable behind the 200)",
    file: "packages/shipstation/src/ShipStationRoutes.ts",
    search:
      "      Effect.flatMap((store) => store.recordShipNotice(notice, { key: match.key, posRef: match.posRef }))\n    )\n",
    replace:
      '      Effect.flatMap((store) => store.recordShipNotice(notice, { key: match.key, posRef: match.posRef })),\n      Effect.orElseSucceed(() => ({ _tag: "Stored" as const, noticeId: "", outboxId: "" }))\n    )\n',
    checks: ["shipstation", "conformance"]
  },
  {
    name: "kept-page-served-stale",
    area: "shipstation routes",
    bug: "a kept export page is sent again when its page count still matches, even though its orders changed",
    file: "packages/shipstation/src/ExportXml.ts",
    search: "if (hit !== undefined && hit.pages === pages && sameOrders(hit.orders, orders)) return hit.bytes",
    replace: "if (hit !== undefined && (hit.pages === pages || sameOrders(hit.orders, orders))) return hit.bytes",
    checks: ["shipstation", "conformance"]
  },
  {
    name: "export-ignores-page-parameter",
    area: "shipstation routes",
    bug: "the export route always serves page 1, whatever page ShipStation asks for",
    file: "packages/shipstation/src/ExportQuery.ts",
    search: "    const page = yield* decodePage(query)\n",
    replace: "    yield* decodePage(query)\n    const page = 1\n",
    checks: ["shipstation", "conformance"]
  },
  {
    name: "password-not-checked",
    area: "shipstation routes",
    bug: "ShipStation's credentials are accepted with any non-empty password",
    file: "packages/shipstation/src/Credentials.ts",
    search: "return userOk && passwordOk ? undefined",
    replace: 'return userOk && (passwordOk || presented.value.password !== "") ? undefined',
    checks: ["shipstation", "conformance"]
  },

  // ── the adapters' change detection ──
  {
    name: "lightspeed-single-object-not-normalised",
    area: "Lightspeed adapter",
    bug: 'a Sale list with one Sale ("Sale":{…}, not an array) is not normalised to a one-element array',
    file: "packages/source-lightspeed/src/Wire.ts",
    search: "Sale: opt(many(Sale))",
    replace: "Sale: opt(Schema.Array(Sale))",
    checks: ["lightspeed", "conformance"]
  },
  {
    name: "lightspeed-single-item-dropped",
    area: "Lightspeed adapter",
    bug: "one item sent as an object (one SaleLine, one address) is read as none",
    file: "packages/source-lightspeed/src/Wire.ts",
    search: "Array.isArray(u) ? u : [u]",
    replace: "Array.isArray(u) ? u : []",
    checks: ["lightspeed", "conformance"]
  },
  {
    name: "lightspeed-updatetime-ignored",
    area: "Lightspeed adapter",
    bug: "the POS modified time ignores updatetime: a re-saved completed Sale (timeStamp unchanged) looks unchanged",
    file: "packages/source-lightspeed/src/ChangeDetection.ts",
    search: "const candidates = [updateTime(sale), sale.timeStamp, sale.createTime]",
    replace: "const candidates = [sale.timeStamp, sale.createTime]",
    checks: ["lightspeed", "conformance"]
  },
  {
    name: "lightspeed-no-overlap",
    area: "Lightspeed adapter",
    bug: "a resumed pull starts exactly at the cursor, with no overlap re-read for late writes and skew",
    file: "packages/source-lightspeed/src/LightspeedSource.ts",
    search: "from = DateTime.subtractDuration(cursorAt, overlap)",
    replace: "from = DateTime.subtractDuration(cursorAt, Duration.min(overlap, Duration.zero))",
    checks: ["lightspeed", "conformance"]
  },
  {
    name: "heartland-updated-at-ignored",
    area: "Heartland adapter",
    bug: "the POS modified time is the creation time: a re-saved order with unchanged content looks unchanged",
    file: "packages/source-heartland/src/internal/mapping.ts",
    search: "    posModifiedAt: modified,\n",
    replace: "    posModifiedAt: created,\n",
    checks: ["heartland", "conformance"]
  },
  {
    name: "heartland-filter-skips-cursor-instant",
    area: "Heartland adapter",
    bug: "the list filter is updated_at > position: documents updated at exactly the cursor instant are skipped",
    file: "packages/source-heartland/src/HeartlandSource.ts",
    search: "updated_at: { $gt: DateTime.formatIso(DateTime.subtract(state.position, { millis: 1 })) }",
    replace: "updated_at: { $gt: DateTime.formatIso(state.position) }",
    checks: ["heartland", "conformance"]
  },
  {
    name: "heartland-no-overlap",
    area: "Heartland adapter",
    bug: "a resumed pull starts exactly at the cursor, with no overlap re-read for replica lag and skew",
    file: "packages/source-heartland/src/HeartlandSource.ts",
    search: "position: Option.isNone(cursor) ? start.at : DateTime.subtract(start.at, { millis: overlapMillis }),",
    replace: "position: Option.isNone(cursor) ? start.at : DateTime.subtract(start.at, { millis: overlapMillis * 0 }),",
    checks: ["heartland", "conformance"]
  },
  {
    name: "heartland-pages-by-offset",
    area: "Heartland adapter",
    bug: "the pull walks pages by number instead of restarting from the newest instant seen (keyset)",
    file: "packages/source-heartland/src/HeartlandSource.ts",
    search: "millis(maxListed!) === millis(state.position)",
    replace: "millis(maxListed!) >= millis(state.position)",
    checks: ["heartland", "conformance"]
  }
]
