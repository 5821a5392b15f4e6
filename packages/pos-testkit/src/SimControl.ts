/**
 * The control API of a simulated POS, served on the simulator's own port under `/control` (`app` puts it in front
 * of the POS API), and its client. JSON in and out; errors are `{"error": reason, "message": sentence}` with 404
 * (unknown account or document), 409 (not something this POS can do) or 400.
 *
 *   GET  /control                                               what it simulates: accounts, kinds, settable fields
 *   GET  /control/changes?since=SEQ&account=A&kind=K            the change log: {"last": SEQ, "changes": […]}
 *   GET  /control/pulls?account=A                               pulls in flight and overlaps per account and feed
 *   POST /control/accounts/A/documents/KIND                     add a document      → {"changes": […]}
 *   POST /control/accounts/A/documents/KIND/REF/resave          re-save it          → {"changes": […]}
 *   POST /control/accounts/A/documents/KIND/REF/fields          {"field", "value"}  → {"changes": […]}
 *   GET  /control/accounts/A/settings?kind=KIND                 a store's adapter settings for this account
 *   POST /control/accounts/A/expire-access-tokens               (POSes with expiring tokens) → 204
 *
 * @since 0.0.0
 */

import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { DocumentKind } from "@posbridge/core"
import { Effect, Schema } from "effect"
import * as ChangeLog from "./ChangeLog.js"
import { type Actions, ControlError, Field, type PosSimulator } from "./PosSimulator.js"
import * as Pulls from "./Pulls.js"

export const Description = Schema.Struct({
  adapter: Schema.String,
  displayName: Schema.String,
  accounts: Schema.Array(Schema.String),
  kinds: Schema.Array(DocumentKind.DocumentKind),
  fields: Schema.Record({ key: Schema.String, value: Schema.Array(Field) }),
  /** The simulator's time, epoch ms. */
  now: Schema.Number,
  /** The `seq` of its latest change. */
  lastChange: Schema.Int
})
export type Description = typeof Description.Type

export const Changes = Schema.Struct({ last: Schema.Int, changes: Schema.Array(ChangeLog.Change) })
export type Changes = typeof Changes.Type

const ChangeList = Schema.Struct({ changes: Schema.Array(ChangeLog.Change) })
const Settings = Schema.Struct({ settings: Schema.Record({ key: Schema.String, value: Schema.Unknown }) })
const FieldBody = Schema.Struct({ field: Schema.String, value: Schema.Unknown })
const ErrorBody = Schema.Struct({ error: ControlError.fields.reason, message: Schema.String })

const statusOf: Record<ControlError["reason"], number> = {
  "unknown-account": 404,
  "unknown-document": 404,
  unsupported: 409,
  invalid: 400,
  unreachable: 502
}

const errorResponse = (e: ControlError) =>
  HttpServerResponse.unsafeJson({ error: e.reason, message: e.message }, { status: statusOf[e.reason] })

const invalid = (message: string) => new ControlError({ reason: "invalid", message })

const kindParam = (value: string | undefined) =>
  Schema.decodeUnknown(DocumentKind.DocumentKind)(value).pipe(
    Effect.mapError(() => invalid(`"${value ?? ""}" is not a document kind: use orders or invoices.`))
  )

const intParam = (name: string, value: string | null) =>
  value === null || value === ""
    ? Effect.succeed(undefined)
    : /^\d+$/.test(value)
      ? Effect.succeed(Number(value))
      : Effect.fail(invalid(`${name} must be a whole number, got "${value}".`))

type Params = Readonly<Record<string, string | undefined>>

/** A route: `f` reads the path parameters, the URL and the request; its error becomes the error answer. */
const handle = <A>(
  f: (params: Params, url: URL, request: HttpServerRequest.HttpServerRequest) => Effect.Effect<A, ControlError>,
  render: (a: A) => HttpServerResponse.HttpServerResponse
) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* HttpRouter.params
    return yield* f(params, new URL(request.url, "http://simulator.invalid"), request).pipe(
      Effect.map(render),
      Effect.catchAll((e) => Effect.succeed(errorResponse(e)))
    )
  })

const json =
  <A>(encode: (a: A) => unknown, status = 200) =>
  (a: A) =>
    HttpServerResponse.unsafeJson(encode(a), { status })

const changeList = (status = 200) =>
  json((changes: ReadonlyArray<ChangeLog.Change>) => Schema.encodeSync(ChangeList)({ changes }), status)

const routes = (sim: PosSimulator) => {
  const withKind = <A>(
    raw: string | undefined,
    f: (kind: DocumentKind.DocumentKind) => Effect.Effect<A, ControlError>
  ) => Effect.flatMap(kindParam(raw), f)
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/control",
      handle(
        () => sim.now,
        json((now: number) =>
          Schema.encodeSync(Description)({
            adapter: sim.adapterId,
            displayName: sim.displayName,
            accounts: sim.accounts,
            kinds: sim.kinds,
            fields: sim.fields as Record<string, ReadonlyArray<Field>>,
            now,
            lastChange: sim.changes.last()
          })
        )
      )
    ),
    HttpRouter.get(
      "/control/changes",
      handle(
        (_, url) =>
          Effect.gen(function* () {
            const since = yield* intParam("since", url.searchParams.get("since"))
            const kindRaw = url.searchParams.get("kind")
            const kind = kindRaw === null ? undefined : yield* kindParam(kindRaw)
            const account = url.searchParams.get("account") ?? undefined
            return { last: sim.changes.last(), changes: sim.changes.entries({ since, account, kind }) }
          }),
        json(Schema.encodeSync(Changes))
      )
    ),
    HttpRouter.get(
      "/control/pulls",
      handle(
        (_, url) => Effect.map(sim.now, (now) => sim.pulls.stats(now, url.searchParams.get("account") ?? undefined)),
        json(Schema.encodeSync(Pulls.Stats))
      )
    ),
    HttpRouter.post(
      "/control/accounts/:account/documents/:kind",
      handle((p) => withKind(p.kind, (kind) => sim.addDocument(p.account ?? "", kind)), changeList(201))
    ),
    HttpRouter.post(
      "/control/accounts/:account/documents/:kind/:ref/resave",
      handle((p) => withKind(p.kind, (kind) => sim.resave(p.account ?? "", kind, p.ref ?? "")), changeList())
    ),
    HttpRouter.post(
      "/control/accounts/:account/documents/:kind/:ref/fields",
      handle(
        (p, _, request) =>
          Effect.gen(function* () {
            const body = yield* request.json.pipe(
              Effect.flatMap(Schema.decodeUnknown(FieldBody)),
              Effect.mapError(() => invalid('The body is {"field": NAME, "value": VALUE}.'))
            )
            return yield* withKind(p.kind, (kind) =>
              sim.setField(p.account ?? "", kind, p.ref ?? "", body.field, body.value)
            )
          }),
        changeList()
      )
    ),
    HttpRouter.get(
      "/control/accounts/:account/settings",
      handle(
        (p, url) =>
          withKind(url.searchParams.get("kind") ?? "orders", (kind) => sim.storeSettings(p.account ?? "", kind)),
        json((settings: Record<string, unknown>) => ({ settings }))
      )
    ),
    HttpRouter.post(
      "/control/accounts/:account/expire-access-tokens",
      handle(
        (p) =>
          sim.expireAccessTokens === undefined
            ? Effect.fail(
                new ControlError({
                  reason: "unsupported",
                  message: `${sim.displayName} has no expiring access tokens.`
                })
              )
            : sim.expireAccessTokens(p.account ?? ""),
        () => HttpServerResponse.empty({ status: 204 })
      )
    )
  )
}

const isControlPath = (path: string) => path === "/control" || path.startsWith("/control/")

/** The simulator's POS API with the control API in front of it, on one port. */
export const app = (sim: PosSimulator): HttpApp.Default<unknown> => {
  const control = routes(sim).pipe(
    Effect.catchTag("RouteNotFound", () =>
      Effect.succeed(errorResponse(invalid("No such control route: see GET /control and the pos-testkit README.")))
    )
  )
  return Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    return isControlPath(new URL(request.url, "http://simulator.invalid").pathname) ? yield* control : yield* sim.app
  })
}

/** The control API as a client sees it. */
export interface Client extends Actions {
  readonly describe: Effect.Effect<Description, ControlError>
  readonly changes: (filter?: ChangeLog.Filter) => Effect.Effect<Changes, ControlError>
  readonly pulls: (account?: string) => Effect.Effect<Pulls.Stats, ControlError>
  readonly expireAccessTokens: (account: string) => Effect.Effect<void, ControlError>
}

/** A client of the control API at `baseUrl` (the simulator's address). */
export const makeClient = (baseUrl: string): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (http) => {
    const root = baseUrl.replace(/\/+$/, "")
    const send = <A, I>(request: HttpClientRequest.HttpClientRequest, schema: Schema.Schema<A, I> | undefined) =>
      Effect.gen(function* () {
        const response = yield* http.execute(request)
        if (response.status >= 400) {
          const body = yield* Effect.orElseSucceed(
            Effect.flatMap(response.json, Schema.decodeUnknown(ErrorBody)),
            () => undefined
          )
          return yield* new ControlError(
            body === undefined
              ? { reason: "unreachable", message: `${request.method} ${request.url} answered ${response.status}.` }
              : { reason: body.error, message: body.message }
          )
        }
        if (schema === undefined) return undefined as A
        return yield* Effect.flatMap(response.json, Schema.decodeUnknown(schema))
      }).pipe(
        Effect.scoped,
        Effect.catchIf(
          (e): e is Exclude<typeof e, ControlError> => !(e instanceof ControlError),
          (e) =>
            Effect.fail(
              new ControlError({
                reason: "unreachable",
                message: `The simulator's control API at ${root} did not answer ${request.method} ${request.url}: ${e.message}`
              })
            )
        )
      )
    const path = (...parts: ReadonlyArray<string>) => `${root}/control/${parts.map(encodeURIComponent).join("/")}`
    const doc = (account: string, kind: string, ...rest: ReadonlyArray<string>) =>
      path("accounts", account, "documents", kind, ...rest)
    const changeList = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.map(send(request, ChangeList), (r) => r.changes)
    return {
      describe: send(HttpClientRequest.get(`${root}/control`), Description),
      changes: (filter = {}) =>
        send(
          HttpClientRequest.get(path("changes")).pipe(
            HttpClientRequest.setUrlParams(
              Object.entries(filter).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as const]))
            )
          ),
          Changes
        ),
      pulls: (account) =>
        send(
          HttpClientRequest.get(path("pulls")).pipe(
            account === undefined ? (r) => r : HttpClientRequest.setUrlParam("account", account)
          ),
          Pulls.Stats
        ),
      addDocument: (account, kind) => changeList(HttpClientRequest.post(doc(account, kind))),
      resave: (account, kind, ref) => changeList(HttpClientRequest.post(doc(account, kind, ref, "resave"))),
      setField: (account, kind, ref, field, value) =>
        changeList(
          HttpClientRequest.post(doc(account, kind, ref, "fields")).pipe(
            HttpClientRequest.setBody(HttpBody.unsafeJson({ field, value }))
          )
        ),
      storeSettings: (account, kind) =>
        Effect.map(
          send(
            HttpClientRequest.get(path("accounts", account, "settings")).pipe(
              HttpClientRequest.setUrlParam("kind", kind)
            ),
            Settings
          ),
          (r) => r.settings
        ),
      expireAccessTokens: (account) =>
        send(HttpClientRequest.post(path("accounts", account, "expire-access-tokens")), undefined)
    }
  })
