/**
 * Running a simulator (an `@effect/platform` `HttpApp` or `HttpRouter`) in tests without a network: the
 * in-process client turns each `HttpClientRequest` into a web `Request`, runs the app in the calling fiber's
 * context (so the `Clock`, a `TestClock` or a `SimClock`, and the simulator's services are the test's own) and
 * hands back the response. Real listening servers belong to apps, with `@effect/platform-node`.
 *
 * @since 0.0.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpAppModule from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

export interface Options {
  /** Middleware applied around the app, as `HttpServer.serve(app, middleware)` would. */
  readonly middleware?: HttpMiddleware.HttpMiddleware | undefined
}

/** Requirements of an app once the server request and the per-request scope are supplied. */
export type AppContext<R> = Exclude<R, Scope.Scope | HttpServerRequest.HttpServerRequest>

type WebBody = NonNullable<ConstructorParameters<typeof Request>[1]>["body"]

const toWebRequest = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal
): Effect.Effect<Request> => {
  const init = (body: WebBody | undefined): Request =>
    new Request(url, { method: request.method, headers: request.headers, body: body ?? null, signal })
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.sync(() => init(undefined))
    case "Uint8Array":
      return Effect.sync(() => init(body.body))
    case "Raw":
      return Effect.sync(() => init(body.body as WebBody))
    case "FormData":
      return Effect.sync(() => init(body.formData))
    case "Stream":
      // Collecting keeps the in-process path simple; simulators never need streaming uploads.
      return body.stream.pipe(
        Stream.runCollect,
        Effect.orDie,
        Effect.map((chunks) => {
          const parts = [...chunks]
          const size = parts.reduce((n, c) => n + c.length, 0)
          const bytes = new Uint8Array(size)
          let offset = 0
          for (const part of parts) {
            bytes.set(part, offset)
            offset += part.length
          }
          return init(bytes)
        })
      )
  }
}

// The server response may stream from resources of the request scope, so its bytes are read before that scope
// closes and the client gets a self-contained web Response.
const toBufferedWebResponse = (response: HttpServerResponse.HttpServerResponse, method: string) =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.promise(async () => {
      const web = HttpServerResponse.toWeb(response, { withoutBody: method === "HEAD", runtime })
      const bytes = web.body === null ? null : new Uint8Array(await web.arrayBuffer())
      return new Response(bytes, { status: web.status, statusText: web.statusText, headers: web.headers })
    })
  )

/**
 * An `HttpClient` whose requests are served by `app` in-process. The host of the request URL is ignored; the
 * path and query reach the app. Errors of the app become responses exactly as a real server renders them.
 */
export const makeClient = <E, R>(
  app: HttpApp.Default<E, R>,
  options: Options = {}
): Effect.Effect<HttpClient.HttpClient, never, AppContext<R>> =>
  Effect.map(Effect.context<AppContext<R>>(), (context) =>
    HttpClient.make((request, url, signal) =>
      Effect.gen(function* () {
        const webRequest = yield* toWebRequest(request, url, signal)
        const responded = yield* Deferred.make<Response>()
        const handled = HttpAppModule.toHandled(
          app,
          (_serverRequest, response) =>
            Effect.flatMap(toBufferedWebResponse(response, request.method), (web) => Deferred.succeed(responded, web)),
          options.middleware
        )
        // toHandled is uninterruptible; running it on its own fiber lets a client timeout abandon it.
        const fiber = yield* handled.pipe(
          Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(webRequest)),
          // Exclude<> over a generic R does not reduce; `context` holds exactly what the app still needs.
          (effect) => Effect.provide(effect, context) as Effect.Effect<void>,
          Effect.forkDaemon
        )
        const web = yield* Deferred.await(responded).pipe(
          Effect.raceFirst(
            Effect.zipRight(
              Fiber.await(fiber),
              Effect.fail(
                new HttpClientError.RequestError({
                  request,
                  reason: "Transport",
                  description: "the in-process app finished without a response"
                })
              )
            )
          ),
          Effect.onInterrupt(() => Fiber.interruptFork(fiber))
        )
        return HttpClientResponse.fromWeb(request, web)
      })
    )
  )

/** Provides `HttpClient.HttpClient` served in-process by `app`. */
export const layerClient = <E, R>(
  app: HttpApp.Default<E, R>,
  options: Options = {}
): Layer.Layer<HttpClient.HttpClient, never, AppContext<R>> =>
  Layer.effect(HttpClient.HttpClient, makeClient(app, options))
