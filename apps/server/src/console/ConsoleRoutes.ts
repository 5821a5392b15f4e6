/**
 * The operator's console under `/admin`: server-rendered pages behind a sign-in session (a cookie that is
 * `HttpOnly`, `SameSite=Strict`, `Path=/admin`, and `Secure` over https) and a per-session CSRF token in every
 * state-changing form. Every page and action calls the admin operations of `AdminHandlers`, the same the typed
 * admin API and the command line use. Actions answer with a redirect (Post/Redirect/Get) and a flash sentence.
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse, UrlParams } from "@effect/platform"
import { Effect, Either, Option, Redacted } from "effect"
import type * as AdminApi from "../AdminApi.js"
import * as AdminHandlers from "../AdminHandlers.js"
import { type Flash, html, page, redirect, respond } from "./Html.js"
import * as OrderPage from "./OrderPage.js"
import * as Sessions from "./Sessions.js"
import * as StorePages from "./StorePages.js"

export interface Options extends AdminHandlers.Options {
  /** Starts the Lightspeed OAuth flow `stores add` runs: the URL to send the merchant to, or why not. */
  readonly connect?: ((storeId: string, publicUrl: string) => Effect.Effect<string, string>) | undefined
}

const plain = (status: number, sentence: string) =>
  HttpServerResponse.text(`${sentence}\n`, { status, contentType: "text/plain; charset=utf-8" })

const isHttps = (request: HttpServerRequest.HttpServerRequest) =>
  (request.headers["x-forwarded-proto"] ?? "").split(",")[0]?.trim() === "https" ||
  /(^|;|,)\s*proto=https/i.test(request.headers.forwarded ?? "")

const queryOf = (request: HttpServerRequest.HttpServerRequest) =>
  new URL(request.originalUrl, "http://posbridge").searchParams

/** "for order N", or what to call a notice that names no order. */
const noticeOf = (w: AdminApi.WriteBack) =>
  w.notice.orderNumber === ""
    ? `naming no order (tracking ${w.notice.trackingNumber})`
    : `for order ${w.notice.orderNumber}`

const storePath = (storeId: string) => `/admin/stores/${encodeURIComponent(storeId)}`
const orderPath = (storeId: string, order: string) =>
  `/admin/order?store=${encodeURIComponent(storeId)}&order=${encodeURIComponent(order)}`

const loginPage = (status: number, flash?: Flash) =>
  respond(
    page(
      "Sign in",
      html`<h1>Sign in</h1><form class="card" method="post" action="/admin/login">
<p><label>Username<br><input type="text" name="username" autocomplete="username" required></label></p>
<p><label>Password<br><input type="password" name="password" autocomplete="current-password" required></label></p>
<button type="submit">Sign in</button></form>`,
      flash ? { flash } : {}
    ),
    status
  )

export const router = (options: Options) => {
  const sessions = Sessions.make()
  const disabled = plain(403, "The console is disabled: set admin credentials in the configuration.")

  const currentSession = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    return yield* sessions.get(Sessions.readCookie(request.headers.cookie, Sessions.cookieName))
  })

  /** A signed-in page: its flash sentence (shown once) and CSRF token go to `body`. */
  const signedIn = <E, R>(
    title: string,
    body: (session: Sessions.Session) => Effect.Effect<ReturnType<typeof html>, E, R>
  ) =>
    Effect.gen(function* () {
      if (!options.admin) return disabled
      const session = yield* currentSession
      if (session === undefined) return redirect("/admin/login")
      const content = yield* body(session)
      const flash = session.flash
      session.flash = undefined
      return respond(page(title, content, { csrf: session.csrf, ...(flash ? { flash } : {}) }))
    })

  /** A state-changing form: refused with 403 without a live session and the session's CSRF token. */
  const action = <E, R>(
    run: (
      form: UrlParams.UrlParams,
      session: Sessions.Session
    ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
  ) =>
    Effect.gen(function* () {
      if (!options.admin) return disabled
      const request = yield* HttpServerRequest.HttpServerRequest
      const session = yield* currentSession
      if (session === undefined) return plain(403, "You are not signed in (or your session ended): sign in again.")
      const form = yield* request.urlParamsBody.pipe(Effect.orElseSucceed((): UrlParams.UrlParams => []))
      const token = UrlParams.getFirst(form, "csrf")
      if (Option.isNone(token) || !Sessions.constantTimeEqual(token.value, session.csrf)) {
        return plain(403, "This form did not come from your console session: reload the page and try again.")
      }
      return yield* run(form, session)
    })

  const field = (form: UrlParams.UrlParams, name: string) => Option.getOrElse(UrlParams.getFirst(form, name), () => "")

  /** Runs an admin operation, flashes its sentence (or its failure's) and redirects to `back`. */
  const thenRedirect = <A, R>(
    session: Sessions.Session,
    back: string,
    operation: Effect.Effect<A, { readonly message: string }, R>,
    sentence: (a: A) => Effect.Effect<string, never, R> | string
  ) =>
    Effect.gen(function* () {
      const result = yield* Effect.either(operation)
      if (result._tag === "Left") session.flash = { text: result.left.message, error: true }
      else {
        const text = sentence(result.right)
        session.flash = { text: typeof text === "string" ? text : yield* text }
      }
      return redirect(back)
    })

  const statuses = AdminHandlers.statuses(options).pipe(
    Effect.mapError((e) => ({ message: `The order store did not answer (${e.operation}): ${e.message}` }))
  )

  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/admin/login",
      Effect.suspend(() => (options.admin ? Effect.succeed(loginPage(200)) : Effect.succeed(disabled)))
    ),
    HttpRouter.post(
      "/admin/login",
      Effect.gen(function* () {
        const admin = options.admin
        if (!admin) return disabled
        const request = yield* HttpServerRequest.HttpServerRequest
        const form = yield* request.urlParamsBody.pipe(Effect.orElseSucceed((): UrlParams.UrlParams => []))
        // Both compared, always: the answer's timing says nothing about which one was wrong.
        const user = Sessions.constantTimeEqual(field(form, "username"), admin.username)
        const password = Sessions.constantTimeEqual(field(form, "password"), Redacted.value(admin.password))
        if (!(user && password)) {
          yield* Effect.logWarning("console sign-in refused")
          return loginPage(401, { text: "The username or password is wrong.", error: true })
        }
        const session = yield* sessions.create
        return redirect("/admin", { "set-cookie": Sessions.sessionCookie(session.id, isHttps(request)) })
      })
    ),
    HttpRouter.post(
      "/admin/logout",
      action((_form, session) =>
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          yield* sessions.end(session.id)
          return redirect("/admin/login", { "set-cookie": Sessions.sessionCookie("", isHttps(request), 0) })
        })
      )
    ),
    HttpRouter.get(
      "/admin",
      signedIn("Stores", () =>
        statuses.pipe(
          Effect.map(StorePages.overview),
          Effect.catchAll((e) => Effect.succeed(html`<p class="flash error">${e.message}</p>`))
        )
      )
    ),
    HttpRouter.get(
      "/admin/stores/:storeId",
      Effect.flatMap(HttpRouter.params, ({ storeId = "" }) =>
        signedIn(`Store ${storeId}`, (session) =>
          AdminHandlers.detail(options, storeId).pipe(
            Effect.map((d) => StorePages.store(d, session.csrf)),
            Effect.catchAll((e) => Effect.succeed(html`<p class="flash error">${e.message}</p>`))
          )
        )
      )
    ),
    HttpRouter.get(
      "/admin/order",
      Effect.gen(function* () {
        const query = queryOf(yield* HttpServerRequest.HttpServerRequest)
        const ids = yield* statuses.pipe(
          Effect.map((ss) => ss.map((s) => s.id)),
          Effect.orElseSucceed((): ReadonlyArray<string> => [])
        )
        const search = { store: query.get("store") ?? ids[0] ?? "", order: (query.get("order") ?? "").trim() }
        return yield* signedIn("Order search", (session) =>
          Effect.gen(function* () {
            if (search.order === "") return OrderPage.render(ids, search, undefined, session.csrf)
            const found = yield* AdminHandlers.explain(options, search.store, search.order).pipe(
              Effect.catchAll((e) => Effect.succeed(e.message))
            )
            return OrderPage.render(ids, search, found, session.csrf)
          })
        )
      })
    ),
    HttpRouter.post(
      "/admin/do/sync",
      action((form, session) => {
        const storeId = field(form, "store")
        return thenRedirect(session, storePath(storeId), AdminHandlers.sync(options, storeId), (r) =>
          r.outcome === "succeeded"
            ? `Sync of ${storeId} finished: ${r.documents} document(s) from the POS in ${r.pages} page(s).`
            : `Sync of ${storeId} ${r.outcome}${Option.match(r.error, { onNone: () => ".", onSome: (e) => `: ${e.message}` })}`
        )
      })
    ),
    HttpRouter.post(
      "/admin/do/touch",
      action((form, session) => {
        const storeId = field(form, "store")
        const order = field(form, "order")
        return thenRedirect(session, orderPath(storeId, order), AdminHandlers.touch(options, storeId, order), (t) =>
          AdminHandlers.detail(options, storeId).pipe(
            Effect.map((d) => OrderPage.touchedSentence(t, d.polls)),
            Effect.orElseSucceed(() => OrderPage.touchedSentence(t, []))
          )
        )
      })
    ),
    HttpRouter.post(
      "/admin/do/retry",
      action((form, session) => {
        const storeId = field(form, "store")
        return thenRedirect(
          session,
          storePath(storeId),
          AdminHandlers.retry(options, storeId, field(form, "writeBack")),
          (w) =>
            `The write-back for order ${w.notice.orderNumber} is due now; posbridge writes it back to the POS within seconds.`
        )
      })
    ),
    HttpRouter.post(
      "/admin/do/dismiss",
      action((form, session) => {
        const storeId = field(form, "store")
        return thenRedirect(
          session,
          storePath(storeId),
          AdminHandlers.dismiss(options, storeId, field(form, "writeBack")),
          (w) => `The ship notice ${noticeOf(w)} was dismissed: nothing was written to the POS.`
        )
      })
    ),
    HttpRouter.post(
      "/admin/do/connect",
      action((form, session) =>
        Effect.gen(function* () {
          const storeId = field(form, "store")
          const request = yield* HttpServerRequest.HttpServerRequest
          const publicUrl = `${isHttps(request) ? "https" : "http"}://${request.headers.host ?? "localhost"}`
          const url = options.connect
            ? yield* Effect.either(options.connect(storeId, publicUrl))
            : Either.left("Connecting a store is not available on this server.")
          if (url._tag === "Right") return redirect(url.right)
          session.flash = { text: url.left, error: true }
          return redirect(storePath(storeId))
        })
      )
    )
  )
}
