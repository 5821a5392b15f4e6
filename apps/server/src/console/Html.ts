/**
 * HTML for the console: one tagged template, `html`, that escapes every interpolated value unless it is itself
 * `Html` (made by `html` or, for trusted fragments written here, `raw`). Values from a POS or ShipStation are
 * plain strings, so they are always escaped; nothing here builds markup by string concatenation.
 */
import { HttpServerResponse } from "@effect/platform"

export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text
  }
}

const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

export const escape = (value: string): string => value.replace(/[&<>"']/g, (c) => entities[c] ?? c)

type Value = Html | string | number | boolean | null | undefined | ReadonlyArray<Value>

const render = (value: Value): string => {
  if (value === null || value === undefined || value === false) return ""
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(render).join("")
  return escape(String(value))
}

/** Escapes every interpolation; arrays are joined; null, undefined and false render nothing. */
export const html = (strings: TemplateStringsArray, ...values: ReadonlyArray<Value>): Html => {
  let out = strings[0] ?? ""
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "")
  })
  return new Html(out)
}

/** A trusted fragment written in this code base, never a value from a request, a POS or ShipStation. */
export const raw = (text: string) => new Html(text)

const style = raw(`
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;background:#f4f5f7}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#1d2330;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin-left:auto}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
a{color:#1f5fbf}
.card{background:#fff;border:1px solid #d9dde5;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
.stores{display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,26rem),1fr))}
.ok{border-left:6px solid #2e8b57}.bad{border-left:6px solid #c0392b}
.tag{display:inline-block;padding:0 .45rem;border-radius:4px;font-size:.8rem;font-weight:600}
.tag.ok{background:#e3f4ea;color:#1e6b41;border:0}.tag.bad{background:#fbe4e1;color:#9b2a1e;border:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.4rem 0}dt{color:#5a6272}dd{margin:0}
table{width:100%;border-collapse:collapse;background:#fff;font-size:.9rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ec;vertical-align:top;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
button,input,select{font:inherit}select,input[type=text],input[type=password],input[type=search]{padding:.4rem;border:1px solid #b9c0cc;border-radius:4px;width:100%;max-width:22rem}
button{white-space:nowrap;padding:.35rem .8rem;border:1px solid #1f5fbf;background:#1f5fbf;color:#fff;border-radius:4px;cursor:pointer}
button.quiet{background:#fff;color:#1f5fbf}
form.inline{display:inline}
.flash{background:#e8f0fd;border:1px solid #9fbbea;padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem}
.flash.error{background:#fbe4e1;border-color:#e3a59c}
.warn{color:#9b2a1e}
.muted{color:#5a6272;font-size:.85rem}
.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
@media (max-width:40rem){main{padding:.6rem}dl{grid-template-columns:1fr}dt{margin-top:.3rem}th,td{padding:.3rem}
table.stack thead{display:none}table.stack tr{display:block;padding:.4rem 0;border-bottom:1px solid #d9dde5}table.stack td{display:block;border:0;padding:.15rem .5rem}}
`)

export interface Flash {
  readonly text: string
  readonly error?: boolean | undefined
}

/** A whole page. `csrf` present means a signed-in page: the header shows navigation and the sign-out form. */
export const page = (title: string, body: Html, options: { readonly csrf?: string; readonly flash?: Flash } = {}) =>
  html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · posbridge</title><style>${style}</style></head>
<body><header><a href="/admin">posbridge console</a>${
    options.csrf === undefined
      ? ""
      : html`<a href="/admin/order">Order search</a>
<form method="post" action="/admin/logout">${csrfField(options.csrf)}<button class="quiet" type="submit">Sign out</button></form>`
  }</header>
<main>${options.flash ? html`<p class="flash${options.flash.error ? " error" : ""}" role="status">${options.flash.text}</p>` : ""}${body}</main>
</body></html>`

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`

/** A button posting `fields` (and the CSRF token) to `action`. */
export const actionButton = (
  action: string,
  label: string,
  csrf: string,
  fields: Readonly<Record<string, string>> = {},
  quiet = false
) =>
  html`<form class="inline" method="post" action="${action}">${csrfField(csrf)}${Object.entries(fields).map(
    ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`
  )}<button${quiet ? raw(' class="quiet"') : ""} type="submit">${label}</button></form>`

const securityHeaders = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "cache-control": "no-store"
}

export const respond = (body: Html, status = 200, headers: Readonly<Record<string, string>> = {}) =>
  HttpServerResponse.text(body.text, {
    status,
    contentType: "text/html; charset=utf-8",
    headers: { ...securityHeaders, ...headers }
  })

/** Post/Redirect/Get: a 303 to `location`. */
export const redirect = (location: string, headers: Readonly<Record<string, string>> = {}) =>
  HttpServerResponse.empty({ status: 303, headers: { ...securityHeaders, location, ...headers } })
