/**
 * The admin API's contract: endpoints under `/admin/api`, their JSON and their errors, behind the admin's HTTP
 * Basic credentials. One definition serves three purposes: the server's handlers (`AdminHandlers`), the
 * OpenAPI document at `/admin/api/openapi.json`, and the typed client the command line uses (`AdminClient`).
 *
 * Every value that came from a POS or ShipStation travels as a JSON string, never as markup.
 */
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi
} from "@effect/platform"
import { OrderStore } from "@posbridge/core"
import { SyncStatus } from "@posbridge/sync"
import { Schema } from "effect"

// ---- errors: each a sentence for the operator, with its HTTP status

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class AdminDisabled extends Schema.TaggedError<AdminDisabled>()(
  "AdminDisabled",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** An unknown store, order or write-back. */
export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

/** The request is understood but the item is not in a state that allows it (e.g. retrying a delivered write-back). */
export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

/** The store's owner runner or the database did not answer; trying again later may work. */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

// ---- security

/** The admin's HTTP Basic credentials (checked against `admin` in the configuration). */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Schema.Union(Unauthorized, AdminDisabled),
  security: { basic: HttpApiSecurity.basic }
}) {}

// ---- bodies

const Count = Schema.NonNegativeInt
const Iso = Schema.String.annotations({ description: "an instant, ISO 8601 in UTC" })

export const Warning = Schema.Struct({ code: Schema.String, message: Schema.String })

export const LastPoll = Schema.Struct({
  at: Iso,
  window: Schema.Struct({ start: Iso, end: Iso }),
  page: Count,
  pages: Count,
  count: Count
})

export const LastSync = Schema.Struct({
  at: Iso,
  outcome: Schema.Literal("succeeded", "failed"),
  /** Why it failed (scrubbed of the store's secrets); null when it succeeded. */
  error: Schema.NullOr(Schema.String)
})

export const FirstSync = Schema.Struct({
  at: Iso,
  /** Seconds from the store's start on this runner to the end of its first successful sync. */
  seconds: Schema.NonNegative,
  /** The documents the store held then. */
  documents: Count
})

export const OutboxCounts = Schema.Record({ key: OrderStore.OutboxState, value: Count })

/** One store as `GET /admin/status` has always shown it, plus the runner that owns it. */
export const StoreStatus = Schema.Struct({
  id: Schema.String,
  adapter: Schema.String,
  documentKind: Schema.String,
  /** `host:port` of the runner that owns the store; null when not known or not assigned yet. */
  owner: Schema.NullOr(Schema.String),
  warnings: Schema.Array(Warning),
  /** The last POS sync this runner saw finish, and how; null when another runner owns the store or none ran yet. */
  lastSync: Schema.NullOr(LastSync),
  /** The first POS sync that succeeded since this runner started the store; null until then, or on another runner. */
  firstSync: Schema.NullOr(FirstSync),
  /**
   * The latest time from a POS save to the ShipStation poll that carried the order (seconds), as this replica
   * served it; null until measured (the first poll a process serves for a store is not).
   */
  saveToPoll: Schema.NullOr(Schema.Struct({ seconds: Schema.NonNegative, at: Iso })),
  lastPoll: Schema.NullOr(LastPoll),
  documents: Count,
  waitingForPoll: Count,
  held: Count,
  outbox: OutboxCounts
})
export type StoreStatus = typeof StoreStatus.Type

export const StoreList = Schema.Struct({ stores: Schema.Array(StoreStatus) })
export type StoreList = typeof StoreList.Type

/** A write-back (outbox item) as an operator sees it. */
export const WriteBack = Schema.Struct({
  id: Schema.String,
  noticeId: Schema.String,
  posRef: Schema.NullOr(Schema.String),
  state: OrderStore.OutboxState,
  attempts: Count,
  nextAttemptAt: Iso,
  lastError: Schema.NullOr(Schema.String),
  result: Schema.NullOr(Schema.String),
  updatedAt: Iso,
  /** The ship notice it writes back, as ShipStation sent it (its values are ShipStation's, shown escaped). */
  notice: Schema.Struct({
    orderNumber: Schema.String,
    carrier: Schema.String,
    trackingNumber: Schema.String,
    /** Why it needs attention, or what was left out of it. */
    problems: Schema.Array(Schema.Struct({ severity: Schema.Literal("attention", "note"), message: Schema.String }))
  })
})
export type WriteBack = typeof WriteBack.Type

export const StoreDetail = Schema.Struct({
  store: StoreStatus,
  /** ShipStation's recent polls, newest first. */
  polls: Schema.Array(LastPoll),
  /** Write-backs an operator may act on: dead, retrying (pending after a failed attempt) or needing attention. */
  writeBacks: Schema.Array(WriteBack),
  /** Orders held back from ShipStation with their reasons, most recently stamped first (at most 50). */
  held: Schema.Array(
    Schema.Struct({
      posRef: Schema.String,
      orderNumber: Schema.String,
      stamp: Iso,
      reasons: Schema.Array(Schema.String)
    })
  )
})
export type StoreDetail = typeof StoreDetail.Type

export const TimelineEvent = Schema.Struct({
  at: Iso,
  kind: Schema.Literal("ingested", "restamped", "held", "exported", "ship-notice", "problem", "write-back", "refresh"),
  text: Schema.String
})
export type TimelineEvent = typeof TimelineEvent.Type

/** Why an order is where it is: `posbridge explain` as data. */
export const Explanation = Schema.Struct({
  storeId: Schema.String,
  order: Schema.Struct({
    posRef: Schema.String,
    orderNumber: Schema.String,
    kind: Schema.String,
    status: Schema.String,
    orderTotal: Schema.String,
    currency: Schema.NullOr(Schema.String),
    lines: Count,
    posModifiedAt: Iso
  }),
  /** The export stamp (ShipStation's LastModified). */
  stamp: Iso,
  heldReasons: Schema.Array(Schema.String),
  exported: Schema.Boolean,
  timeline: Schema.Array(TimelineEvent)
})
export type Explanation = typeof Explanation.Type

export const Touched = Schema.Struct({
  storeId: Schema.String,
  posRef: Schema.String,
  orderNumber: Schema.String,
  /** The new export stamp: the first ShipStation poll whose window includes it picks the order up. */
  stamp: Iso,
  /**
   * Whether ShipStation is asked to refresh the store now (its REST API, `shipstationApi` in the store's settings):
   * `queued` with the stores of the same API key ahead of it; null when the store has no API key configured.
   */
  refresh: Schema.NullOr(Schema.Struct({ outcome: Schema.String, ahead: Schema.NonNegativeInt }))
})
export type Touched = typeof Touched.Type

const StorePath = Schema.Struct({ storeId: Schema.String })
// Order numbers are the POS's: they travel in the query string or the body, encoded, never as a path segment.
const OrderQuery = Schema.Struct({ order: Schema.String })

export class StoresGroup extends HttpApiGroup.make("stores")
  .add(
    HttpApiEndpoint.get("list", "/stores")
      .addSuccess(StoreList)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Every store: POS, document kind, owner runner, last poll, counts, warnings")
  )
  .add(
    HttpApiEndpoint.get("detail", "/stores/:storeId")
      .setPath(StorePath)
      .addSuccess(StoreDetail)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "One store with its recent polls and the write-backs an operator may act on")
  )
  .add(
    HttpApiEndpoint.post("sync", "/stores/:storeId/sync")
      .setPath(StorePath)
      .addSuccess(SyncStatus.RunResult)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Pull the store from its POS now, on its owner (joins a run in progress)")
  )
  .add(
    HttpApiEndpoint.get("explain", "/stores/:storeId/explain")
      .setPath(StorePath)
      .setUrlParams(OrderQuery)
      .addSuccess(Explanation)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Why an order (POS id or order number) is where it is: its timeline")
  )
  .add(
    HttpApiEndpoint.post("touch", "/stores/:storeId/touch")
      .setPath(StorePath)
      .setPayload(OrderQuery)
      .addSuccess(Touched)
      .addError(NotFound)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Restamp an order so ShipStation's next poll picks it up")
  )
  .add(
    HttpApiEndpoint.post("retry", "/stores/:storeId/write-backs/:writeBackId/retry")
      .setPath(Schema.Struct({ storeId: Schema.String, writeBackId: Schema.String }))
      .addSuccess(WriteBack)
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Make a dead, retrying or doubtful write-back due now, with fresh attempts")
  )
  .add(
    HttpApiEndpoint.post("dismiss", "/stores/:storeId/write-backs/:writeBackId/dismiss")
      .setPath(Schema.Struct({ storeId: Schema.String, writeBackId: Schema.String }))
      .addSuccess(WriteBack)
      .addError(NotFound)
      .addError(Conflict)
      .addError(Unavailable)
      .annotate(OpenApi.Summary, "Close a dead or doubtful write-back without writing anything to the POS")
  )
  .middleware(AdminAuth) {}

export class AdminApi extends HttpApi.make("posbridge-admin")
  .add(StoresGroup)
  .prefix("/admin/api")
  .annotate(OpenApi.Title, "posbridge admin API")
  .annotate(
    OpenApi.Description,
    "The operator's API: store status, explain, touch, sync now, write-back retry and dismiss."
  ) {}

export const openApiPath = "/admin/api/openapi.json"
