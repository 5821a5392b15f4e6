/**
 * The command line's way to a running server: a typed client of the admin API (derived from `AdminApi`, the
 * definition the server's handlers implement), authenticated with the admin credentials of the configuration.
 * Every failure becomes one sentence for the operator, failed as a string (the CLI prints it and exits 1).
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Option, Predicate, Redacted } from "effect"
import * as AdminApi from "./AdminApi.js"
import type * as Config from "./Config.js"

/** Where the server is and how to sign in to it. */
export interface Target {
  readonly url: string
  readonly admin: Config.ServerConfig["admin"]
  /** Where the admin credentials came from, for the sentence when the server refuses them. */
  readonly source: string
}

/** `--server`, else the configuration's port on this machine. */
export const target = (config: Config.ServerConfig, server: Option.Option<string>): Target => ({
  url: Option.getOrElse(server, () => `http://localhost:${config.port}`).replace(/\/+$/, ""),
  admin: config.admin,
  source: config.source
})

export const noServer = (t: Target) =>
  `No posbridge server answers at ${t.url}; start it with \`pnpm start\` (or pass --server).`

const client = (t: Target) =>
  HttpApiClient.make(AdminApi.AdminApi, {
    baseUrl: t.url,
    transformClient: (c) =>
      t.admin === undefined
        ? c
        : HttpClient.mapRequest(c, HttpClientRequest.basicAuth(t.admin.username, Redacted.value(t.admin.password)))
  })

export type Client = Effect.Effect.Success<ReturnType<typeof client>>

/** The sentence for a failed call; `what` names the action ("sync store shop"). */
export const sentence = (t: Target, what: string, e: unknown): string => {
  const field = (name: string): unknown => (Predicate.hasProperty(e, name) ? e[name] : undefined)
  const tag = String(field("_tag") ?? "")
  const message = String(field("message") ?? "")
  switch (tag) {
    case "RequestError":
      return field("reason") === "InvalidUrl"
        ? `"${t.url}" is not a server address: pass --server like http://localhost:8080.`
        : noServer(t)
    case "Unauthorized":
      return `The server at ${t.url} refused the admin credentials of ${t.source}: ${message}`
    case "AdminDisabled":
    case "NotFound":
    case "Conflict":
    case "Unavailable":
      return message
    case "TimeoutException":
      return `The server at ${t.url} did not answer in time to ${what}.`
    default: {
      const response = field("response")
      const status =
        tag === "ResponseError" && Predicate.hasProperty(response, "status") ? ` (HTTP ${String(response.status)})` : ""
      return `The server at ${t.url} gave an answer that is not posbridge's admin API to ${what}${status}; is --server right?`
    }
  }
}

/**
 * Runs `f` against the server's admin API; any failure is the one sentence above, and so is no answer within
 * `timeout` (none by default: a sync may be a long backfill). Without admin credentials in the configuration
 * nothing is sent: the server would refuse.
 */
export const call = <A, E>(
  t: Target,
  what: string,
  f: (client: Client) => Effect.Effect<A, E>,
  timeout?: Duration.DurationInput
) =>
  Effect.gen(function* () {
    if (t.admin === undefined) {
      return yield* Effect.fail(
        `${t.source} has no admin credentials, so the command line cannot ask the server to ${what}: add "admin" to the configuration.`
      )
    }
    const answer = Effect.flatMap(client(t), f).pipe(Effect.mapError((e) => sentence(t, what, e)))
    return yield* timeout === undefined
      ? answer
      : Effect.timeoutFail(answer, {
          duration: timeout,
          onTimeout: () => sentence(t, what, { _tag: "TimeoutException" })
        })
  }).pipe(Effect.provide(FetchHttpClient.layer))

/**
 * `call` when a server answers, None when none does (nothing listens at the address, or the configuration has no
 * admin credentials to ask it with): for a command that can also read the database itself. Any other failure is
 * the sentence `call` gives.
 */
export const callIfRunning = <A, E>(
  t: Target,
  what: string,
  f: (client: Client) => Effect.Effect<A, E>,
  timeout: Duration.DurationInput = Duration.seconds(10)
): Effect.Effect<Option.Option<A>, string> =>
  t.admin === undefined
    ? Effect.succeed(Option.none())
    : Effect.flatMap(client(t), f).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (e) =>
            Predicate.hasProperty(e, "_tag") &&
            e._tag === "RequestError" &&
            Predicate.hasProperty(e, "reason") &&
            e.reason === "Transport",
          () => Effect.succeed(Option.none<A>())
        ),
        Effect.mapError((e) => sentence(t, what, e)),
        Effect.timeoutFail({ duration: timeout, onTimeout: () => sentence(t, what, { _tag: "TimeoutException" }) }),
        Effect.provide(FetchHttpClient.layer)
      )

/** Each store's status per the running server (owner, save-to-poll…), or None when none answers within `timeout`. */
export const statuses = (t: Target, timeout: Duration.DurationInput = Duration.seconds(3)) =>
  call(t, "list the stores", (c) => c.stores.list(), timeout).pipe(
    Effect.map((list) => new Map(list.stores.map((s) => [s.id, s] as const))),
    Effect.option
  )
