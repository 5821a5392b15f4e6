/**
 * An in-memory Lightspeed Retail (R-Series) account behind an `@effect/platform` HttpApp, faithful to the facts
 * in POS-APIS.md: OAuth authorize/token endpoints with expiring access tokens and rotating refresh tokens; Sale and
 * Quote endpoints with `param=operator,value` filters, `sort`, `limit`, `load_relations` and cursor paging through
 * `@attributes.next`; the shape quirks (object-or-array, `""` for empty containers, string scalars); the leaky
 * bucket with its headers and 429s; and switchable faults (pos-testkit `Faults`, on `/API/` paths).
 *
 * Time comes from the ambient `Clock`: run the simulator and the adapter under one `ScaledClock` to play hours of
 * bucket time in seconds.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Faults } from "@posbridge/pos-testkit"
import { Clock, Duration, Effect, Schedule } from "effect"

// ---------------------------------------------------------------------------------------------------------------
// Options and inputs
// ---------------------------------------------------------------------------------------------------------------

export interface Client {
  readonly clientId: string
  readonly clientSecret: string
}

export interface Options {
  readonly accountId: string
  /** Registered OAuth apps. Default: `{ clientId: "sim-client", clientSecret: "sim-secret" }`. */
  readonly clients?: ReadonlyArray<Client> | undefined
  /** Bucket size in drips. Default 90 (one register). */
  readonly bucketSize?: number | undefined
  /** Drips leaked per second. Default 1. */
  readonly dripRate?: number | undefined
  /** Access-token lifetime. Default 3600 s. */
  readonly accessTokenTtlSeconds?: number | undefined
  /** Origin used in `@attributes.next` links. Default `https://api.lightspeedapp.com`. */
  readonly apiBaseUrl?: string | undefined
  /** Unconfirmed in the real API; the simulator assumes the pessimistic case: a write bumps `updatetime`. */
  readonly writeBumpsUpdatetime?: boolean | undefined
  readonly faults?: Faults.FaultPlan | undefined
  /** Seed for tokens, codes and demo data. Default 1. */
  readonly seed?: number | undefined
}

export interface AddressInput {
  readonly address1: string
  readonly address2?: string | undefined
  readonly city: string
  readonly state?: string | undefined
  readonly stateCode?: string | undefined
  readonly zip?: string | undefined
  readonly country?: string | undefined
  readonly countryCode?: string | undefined
}

export interface PersonInput {
  readonly firstName: string
  readonly lastName: string
  readonly company?: string | undefined
  readonly address?: AddressInput | undefined
  readonly phone?: string | undefined
  readonly email?: string | undefined
}

export interface LineInput {
  readonly systemSku: string
  readonly customSku?: string | undefined
  readonly upc?: string | undefined
  readonly description: string
  /** Negative for a refund line. */
  readonly quantity: number
  /** Decimal string, e.g. `"12.50"`. */
  readonly unitPrice: string
}

export interface SaleInput {
  readonly customer?: PersonInput | undefined
  readonly shipTo?: PersonInput | undefined
  readonly lines: ReadonlyArray<LineInput>
  /** Default true. A quote is never completed at creation. */
  readonly completed?: boolean | undefined
  /** Creates a Quote whose Sale this is. */
  readonly quote?: { readonly notes?: string | undefined } | undefined
  readonly internalNote?: string | undefined
  readonly printedNote?: string | undefined
  readonly shopID?: number | undefined
  /** Creation time (epoch ms); default now. Used to seed history. */
  readonly at?: number | undefined
}

// ---------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------

interface SimPerson {
  readonly id: number
  readonly input: PersonInput
}

interface SimShipTo extends SimPerson {
  shipped: boolean
  shipNote: string
}

interface SimLine {
  readonly saleLineID: number
  readonly itemID: number
  readonly unitQuantity: number
  readonly unitPriceCents: number
}

interface SimItem {
  readonly itemID: number
  readonly systemSku: string
  readonly customSku: string
  readonly upc: string
  readonly description: string
}

interface SimSale {
  readonly saleID: number
  createTime: number
  updatetime: number
  timeStamp: number
  completeTime: number | undefined
  completed: boolean
  voided: boolean
  archived: boolean
  readonly ticketNumber: string
  readonly customerID: number
  readonly quoteID: number
  readonly shopID: number
  readonly shipTo: SimShipTo | undefined
  lines: ReadonlyArray<SimLine>
  internalNote: string
  printedNote: string
}

interface SimQuote {
  readonly quoteID: number
  readonly issueDate: number
  notes: string
  archived: boolean
  saleID: number
}

interface Token {
  readonly clientId: string
  readonly expiresAt: number
  revoked: boolean
}

interface PendingCode {
  readonly clientId: string
  readonly redirectUri: string
  readonly challenge: string | undefined
  readonly scope: string
  readonly expiresAt: number
}

export interface Stats {
  /** Every request the app answered. */
  readonly requests: number
  /** Requests to `/API/`. */
  readonly apiRequests: number
  /** 429s from the leaky bucket (not injected faults). */
  readonly rateLimited: number
  readonly unauthorized: number
  readonly tokenGrants: number
  readonly tokenRefreshes: number
  readonly faultsInjected: number
  /** Drips charged to the bucket. */
  readonly costCharged: number
  /** Bucket level before the first API request, and simulated times of the first and last charged requests. */
  readonly firstChargedAt: number | undefined
  readonly lastChargedAt: number | undefined
  readonly bucketSize: number
  readonly dripRate: number
  readonly puts: number
}

export interface SaleView {
  readonly saleID: number
  readonly quoteID: number
  readonly completed: boolean
  readonly voided: boolean
  readonly internalNote: string
  readonly shipped: boolean | undefined
  readonly shipNote: string | undefined
  readonly updatetime: number
}

export interface Control {
  readonly accountId: string
  readonly addSale: (input: SaleInput) => Effect.Effect<{ readonly saleID: number; readonly quoteID: number }>
  /** The merchant opens the Sale and saves it without changes. */
  readonly resaveSale: (saleID: number) => Effect.Effect<void>
  readonly completeSale: (saleID: number) => Effect.Effect<void>
  readonly voidSale: (saleID: number) => Effect.Effect<void>
  /** A quote edit: Lightspeed creates a new Sale (new saleID) for the same quoteID. Returns the new saleID. */
  readonly modifyQuote: (
    quoteID: number,
    change: { readonly lines?: ReadonlyArray<LineInput>; readonly notes?: string }
  ) => Effect.Effect<number>
  readonly archiveQuote: (quoteID: number) => Effect.Effect<void>
  /** Access tokens die early (refresh tokens still work): the adapter must refresh on the 401. */
  readonly revokeAccessTokens: Effect.Effect<void>
  /** The merchant revoked the app: every token dies. */
  readonly revokeGrant: Effect.Effect<void>
  /** Issues a refresh token directly, as if the merchant had just authorized `clientId`. */
  readonly grant: (clientId?: string) => Effect.Effect<string>
  readonly setFaults: (plan: Faults.FaultPlan) => Effect.Effect<void>
  readonly faultHistory: Effect.Effect<ReadonlyArray<Faults.Decision>>
  readonly stats: Effect.Effect<Stats>
  readonly sale: (saleID: number) => Effect.Effect<SaleView | undefined>
  readonly saleCount: Effect.Effect<number>
}

export interface Simulator {
  readonly app: HttpApp.Default
  readonly control: Control
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering helpers (the shape quirks live here)
// ---------------------------------------------------------------------------------------------------------------

/** One element as an object, several as an array: Lightspeed's JSON rendering of XML. */
const oneOrMany = <A>(items: ReadonlyArray<A>): A | ReadonlyArray<A> | "" =>
  items.length === 0 ? "" : items.length === 1 ? (items[0] as A) : items

/** Integer cents as Lightspeed prints amounts: `317.1`, `12`, `-5.25`. */
export const renderCents = (cents: number): string => {
  const negative = cents < 0
  const abs = Math.abs(cents)
  const frac = String(abs % 100)
    .padStart(2, "0")
    .replace(/0+$/, "")
  return `${negative ? "-" : ""}${Math.floor(abs / 100)}${frac === "" ? "" : `.${frac}`}`
}

export const parseCents = (decimal: string): number => {
  const m = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(decimal.trim())
  if (m === null) throw new RangeError(`Simulator: not a 2-place amount: ${decimal}`)
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0"))
  return m[1] === "-" ? -cents : cents
}

/** Lightspeed time format, always `+00:00`, second precision. */
export const renderTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}+00:00`

const parseTime = (s: string): number | undefined => {
  // A `+` sent unencoded arrives as a space: Lightspeed rejects such a date, so does the simulator.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)?$/.test(s)) return undefined
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? undefined : ms
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000

const formatLevel = (n: number) => String(Math.round(n * 1000) / 1000)

const TAX_PERCENT = 8

// ---------------------------------------------------------------------------------------------------------------
// The simulator
// ---------------------------------------------------------------------------------------------------------------

export const defaultClient: Client = { clientId: "sim-client", clientSecret: "sim-secret" }

const apiPath = /^\/API\/V3\/Account\/(\d+)\/(Sale|Quote)(?:\/(\d+))?\.json$/

const timeFields = new Set(["timeStamp", "updatetime", "createTime", "completeTime"])
const filterFields = new Set([...timeFields, "saleID", "quoteID", "completed", "voided", "archived", "shopID"])

const relationCost = 0.15

export const make = (options: Options): Effect.Effect<Simulator> =>
  Effect.gen(function* () {
    const clients = options.clients ?? [defaultClient]
    const bucketSize = options.bucketSize ?? 90
    const dripRate = options.dripRate ?? 1
    const tokenTtl = (options.accessTokenTtlSeconds ?? 3600) * 1000
    const apiBase = (options.apiBaseUrl ?? "https://api.lightspeedapp.com").replace(/\/$/, "")
    const writeBumps = options.writeBumpsUpdatetime ?? true
    const prng = Faults.makePrng(options.seed ?? 1)
    const injector = yield* Faults.makeInjector({ ...(options.faults ?? Faults.none), paths: ["/API/"] })

    const sales = new Map<number, SimSale>()
    const quotes = new Map<number, SimQuote>()
    const customers = new Map<number, SimPerson>()
    const items = new Map<string, SimItem>()
    const itemsById = new Map<number, SimItem>()
    const accessTokens = new Map<string, Token>()
    const refreshTokens = new Map<string, Token>()
    const codes = new Map<string, PendingCode>()
    const ids = { sale: 1000, line: 5000, customer: 200, shipTo: 300, quote: 40, item: 700, ticket: 220000000 }
    const bucket = { level: 0, at: 0 }
    const counters = {
      requests: 0,
      apiRequests: 0,
      rateLimited: 0,
      unauthorized: 0,
      tokenGrants: 0,
      tokenRefreshes: 0,
      costCharged: 0,
      firstChargedAt: undefined as number | undefined,
      lastChargedAt: undefined as number | undefined,
      puts: 0
    }

    const now = Clock.currentTimeMillis
    const secret = (prefix: string) =>
      `${prefix}-${Array.from({ length: 4 }, () => prng.nextInt(2 ** 30).toString(36)).join("")}`

    const itemFor = (line: LineInput): SimItem => {
      const key = `${line.systemSku}|${line.customSku ?? ""}|${line.description}`
      let item = items.get(key)
      if (item === undefined) {
        item = {
          itemID: ++ids.item,
          systemSku: line.systemSku,
          customSku: line.customSku ?? "",
          upc: line.upc ?? "",
          description: line.description
        }
        items.set(key, item)
        itemsById.set(item.itemID, item)
      }
      return item
    }

    const makeLines = (lines: ReadonlyArray<LineInput>): ReadonlyArray<SimLine> =>
      lines.map((l) => ({
        saleLineID: ++ids.line,
        itemID: itemFor(l).itemID,
        unitQuantity: l.quantity,
        unitPriceCents: parseCents(l.unitPrice)
      }))

    const touch = (sale: SimSale, at: number) => {
      sale.updatetime = Math.max(seconds(at), sale.updatetime)
      // Documented: "last modified, or if complete the time it was completed".
      sale.timeStamp = sale.completed && sale.completeTime !== undefined ? sale.completeTime : sale.updatetime
    }

    const addSale = (input: SaleInput) =>
      Effect.map(now, (nowMs) => {
        const at = seconds(input.at ?? nowMs)
        let customerID = 0
        if (input.customer !== undefined) {
          customerID = ++ids.customer
          customers.set(customerID, { id: customerID, input: input.customer })
        }
        const isQuote = input.quote !== undefined
        const completed = !isQuote && (input.completed ?? true)
        const saleID = ++ids.sale
        let quoteID = 0
        if (isQuote) {
          quoteID = ++ids.quote
          quotes.set(quoteID, { quoteID, issueDate: at, notes: input.quote?.notes ?? "", archived: false, saleID })
        }
        const sale: SimSale = {
          saleID,
          createTime: at,
          updatetime: at,
          timeStamp: at,
          completeTime: completed ? at : undefined,
          completed,
          voided: false,
          archived: false,
          ticketNumber: String(++ids.ticket),
          customerID,
          quoteID,
          shopID: input.shopID ?? 1,
          shipTo:
            input.shipTo === undefined
              ? undefined
              : { id: ++ids.shipTo, input: input.shipTo, shipped: false, shipNote: "" },
          lines: makeLines(input.lines),
          internalNote: input.internalNote ?? "",
          printedNote: input.printedNote ?? ""
        }
        sales.set(saleID, sale)
        return { saleID, quoteID }
      })

    const withSale = (saleID: number, f: (sale: SimSale, nowMs: number) => void) =>
      Effect.flatMap(now, (nowMs) => {
        const sale = sales.get(saleID)
        return sale === undefined
          ? Effect.dieMessage(`Simulator: no sale ${saleID}`)
          : Effect.sync(() => f(sale, nowMs))
      })

    // ---------------------------------------------------------------------------------------------------------
    // Rendering
    // ---------------------------------------------------------------------------------------------------------

    const renderContact = (p: PersonInput) => ({
      Addresses:
        p.address === undefined
          ? ""
          : {
              ContactAddress: {
                address1: p.address.address1,
                address2: p.address.address2 ?? "",
                city: p.address.city,
                state: p.address.state ?? "",
                stateCode: p.address.stateCode ?? "",
                zip: p.address.zip ?? "",
                country: p.address.country ?? "",
                countryCode: p.address.countryCode ?? ""
              }
            },
      Phones: p.phone === undefined ? "" : { ContactPhone: { number: p.phone, useType: "Home" } },
      Emails: p.email === undefined ? "" : { ContactEmail: { address: p.email, useType: "Primary" } }
    })

    const totals = (sale: SimSale) => {
      const subtotal = sale.lines.reduce((n, l) => n + l.unitQuantity * l.unitPriceCents, 0)
      const tax = Math.round((subtotal * TAX_PERCENT) / 100)
      return { subtotal, tax, total: subtotal + tax }
    }

    const renderQuote = (q: SimQuote) => ({
      quoteID: String(q.quoteID),
      issueDate: renderTime(q.issueDate),
      notes: q.notes,
      archived: String(q.archived),
      employeeID: "1",
      saleID: String(q.saleID)
    })

    const renderSale = (sale: SimSale, relations: ReadonlySet<string>) => {
      const t = totals(sale)
      const out: Record<string, unknown> = {
        saleID: String(sale.saleID),
        timeStamp: renderTime(sale.timeStamp),
        createTime: renderTime(sale.createTime),
        updatetime: renderTime(sale.updatetime),
        completeTime: sale.completeTime === undefined ? "" : renderTime(sale.completeTime),
        completed: String(sale.completed),
        archived: String(sale.archived),
        voided: String(sale.voided),
        referenceNumber: "",
        ticketNumber: sale.ticketNumber,
        total: renderCents(t.total),
        calcSubtotal: renderCents(t.subtotal),
        calcTax1: renderCents(t.tax),
        calcTax2: "0",
        calcTotal: renderCents(t.total),
        balance: sale.completed ? "0" : renderCents(t.total),
        customerID: String(sale.customerID),
        quoteID: String(sale.quoteID),
        shipToID: String(sale.shipTo?.id ?? 0),
        shopID: String(sale.shopID)
      }
      if (relations.has("SaleLines")) {
        out.SaleLines =
          sale.lines.length === 0
            ? ""
            : {
                SaleLine: oneOrMany(
                  sale.lines.map((l) => {
                    const item = itemsById.get(l.itemID)
                    return {
                      saleLineID: String(l.saleLineID),
                      itemID: String(l.itemID),
                      unitQuantity: String(l.unitQuantity),
                      unitPrice: renderCents(l.unitPriceCents),
                      calcTotal: renderCents(l.unitPriceCents * l.unitQuantity),
                      ...(relations.has("SaleLines.Item") && item !== undefined
                        ? {
                            Item: {
                              itemID: String(item.itemID),
                              systemSku: item.systemSku,
                              customSku: item.customSku,
                              upc: item.upc,
                              description: item.description
                            }
                          }
                        : {})
                    }
                  })
                )
              }
      }
      const customer = customers.get(sale.customerID)
      if (relations.has("Customer") && customer !== undefined) {
        out.Customer = {
          customerID: String(customer.id),
          firstName: customer.input.firstName,
          lastName: customer.input.lastName,
          company: customer.input.company ?? "",
          ...(relations.has("Customer.Contact") ? { Contact: renderContact(customer.input) } : {})
        }
      }
      if (relations.has("ShipTo") && sale.shipTo !== undefined) {
        out.ShipTo = {
          shipToID: String(sale.shipTo.id),
          saleID: String(sale.saleID),
          shipped: String(sale.shipTo.shipped),
          shipNote: sale.shipTo.shipNote,
          firstName: sale.shipTo.input.firstName,
          lastName: sale.shipTo.input.lastName,
          company: sale.shipTo.input.company ?? "",
          ...(relations.has("ShipTo.Contact") ? { Contact: renderContact(sale.shipTo.input) } : {})
        }
      }
      if (relations.has("SaleNotes")) {
        const notes: Record<string, unknown> = {}
        if (sale.internalNote !== "") notes.InternalNote = { noteID: String(sale.saleID * 10), note: sale.internalNote }
        if (sale.printedNote !== "")
          notes.PrintedNote = { noteID: String(sale.saleID * 10 + 1), note: sale.printedNote }
        out.SaleNotes = Object.keys(notes).length === 0 ? "" : notes
      }
      const quote = quotes.get(sale.quoteID)
      if (relations.has("Quote") && quote !== undefined) out.Quote = renderQuote(quote)
      return out
    }

    // ---------------------------------------------------------------------------------------------------------
    // HTTP
    // ---------------------------------------------------------------------------------------------------------

    const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
      HttpServerResponse.text(JSON.stringify(body), { status, headers, contentType: "application/json" })

    const apiError = (status: number, message: string, headers: Record<string, string> = {}) =>
      json({ httpCode: String(status), httpMessage: message, message, errorClass: "SimulatedError" }, status, headers)

    const issueTokens = (clientId: string, nowMs: number, scope: string) => {
      const access = secret("at")
      const refresh = secret("rt")
      accessTokens.set(access, { clientId, expiresAt: nowMs + tokenTtl, revoked: false })
      refreshTokens.set(refresh, { clientId, expiresAt: nowMs + 30 * 24 * 3600 * 1000, revoked: false })
      return {
        access_token: access,
        expires_in: Math.floor(tokenTtl / 1000),
        token_type: "bearer",
        scope,
        refresh_token: refresh
      }
    }

    const s256 = (verifier: string) =>
      Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).pipe(
        Effect.map((digest) =>
          btoa(String.fromCharCode(...new Uint8Array(digest)))
            .replace(/\+/g, "-")
            .replace(/\//g, "_")
            .replace(/=+$/, "")
        )
      )

    const authorize = (url: URL) =>
      Effect.gen(function* () {
        const p = url.searchParams
        const clientId = p.get("client_id") ?? ""
        const redirectUri = p.get("redirect_uri") ?? ""
        if (p.get("response_type") !== "code") return json({ error: "unsupported_response_type" }, 400)
        if (!clients.some((c) => c.clientId === clientId)) return json({ error: "invalid_client" }, 400)
        if (redirectUri === "") return json({ error: "invalid_request", error_description: "redirect_uri" }, 400)
        const challenge = p.get("code_challenge") ?? undefined
        if (challenge !== undefined && p.get("code_challenge_method") !== "S256") {
          return json({ error: "invalid_request", error_description: "only S256 is supported" }, 400)
        }
        const code = secret("code")
        codes.set(code, {
          clientId,
          redirectUri,
          challenge,
          scope: p.get("scope") ?? "employee:all",
          expiresAt: (yield* now) + 10 * 60 * 1000
        })
        // The merchant approves at once: the simulator has no consent page.
        const target = new URL(redirectUri)
        target.searchParams.set("code", code)
        const state = p.get("state")
        if (state !== null) target.searchParams.set("state", state)
        return HttpServerResponse.redirect(target.toString(), { status: 302 })
      })

    const tokenEndpoint = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.gen(function* () {
        const text = yield* Effect.orElseSucceed(request.text, () => "")
        const form = new URLSearchParams(text)
        const nowMs = yield* now
        const client = clients.find((c) => c.clientId === form.get("client_id"))
        if (client === undefined || client.clientSecret !== form.get("client_secret")) {
          return json({ error: "invalid_client", error_description: "Client authentication failed" }, 401)
        }
        const invalidGrant = (why: string) => json({ error: "invalid_grant", error_description: why }, 400)
        switch (form.get("grant_type")) {
          case "authorization_code": {
            const code = codes.get(form.get("code") ?? "")
            if (code === undefined || code.expiresAt < nowMs || code.clientId !== client.clientId) {
              return invalidGrant("The authorization code is invalid or expired")
            }
            codes.delete(form.get("code") ?? "")
            if (code.redirectUri !== (form.get("redirect_uri") ?? code.redirectUri)) {
              return invalidGrant("redirect_uri does not match")
            }
            if (code.challenge !== undefined && (yield* s256(form.get("code_verifier") ?? "")) !== code.challenge) {
              return invalidGrant("code_verifier does not match the code_challenge")
            }
            counters.tokenGrants++
            return json(issueTokens(client.clientId, nowMs, code.scope))
          }
          case "refresh_token": {
            const presented = form.get("refresh_token") ?? ""
            const token = refreshTokens.get(presented)
            if (token === undefined || token.revoked || token.expiresAt < nowMs || token.clientId !== client.clientId) {
              return invalidGrant("The refresh token is invalid")
            }
            // Rotation: the presented refresh token dies now.
            refreshTokens.delete(presented)
            counters.tokenRefreshes++
            return json(issueTokens(client.clientId, nowMs, "employee:all"))
          }
          default:
            return json({ error: "unsupported_grant_type" }, 400)
        }
      })

    /** Leaky bucket: returns the 429 response, or charges `cost` and returns the headers to attach. */
    const charge = (nowMs: number, cost: number): { ok: false; retryAfter: number } | { ok: true } => {
      bucket.level = Math.max(0, bucket.level - (dripRate * (nowMs - bucket.at)) / 1000)
      bucket.at = nowMs
      if (bucket.level + cost > bucketSize) {
        return { ok: false, retryAfter: Math.max(1, Math.ceil((bucket.level + cost - bucketSize) / dripRate)) }
      }
      bucket.level += cost
      counters.costCharged += cost
      counters.firstChargedAt ??= nowMs
      counters.lastChargedAt = nowMs
      return { ok: true }
    }

    const bucketHeaders = (cost: number): Record<string, string> => ({
      "x-ls-api-bucket-level": `${formatLevel(bucket.level)}/${bucketSize}`,
      "x-ls-api-drip-rate": String(dripRate),
      "x-ls-api-request-cost": formatLevel(cost)
    })

    const parseRelations = (url: URL): ReadonlySet<string> => {
      const raw = url.searchParams.get("load_relations")
      if (raw === null || raw === "") return new Set()
      if (raw === "all")
        return new Set([
          "SaleLines",
          "SaleLines.Item",
          "Customer",
          "Customer.Contact",
          "ShipTo",
          "ShipTo.Contact",
          "SaleNotes",
          "Quote"
        ])
      try {
        const parsed: unknown = JSON.parse(raw)
        return new Set(Array.isArray(parsed) ? parsed.map(String) : [])
      } catch {
        return new Set()
      }
    }

    type Filter = (sale: SimSale) => boolean

    const saleValue = (sale: SimSale, field: string): number => {
      switch (field) {
        case "timeStamp":
          return sale.timeStamp
        case "updatetime":
          return sale.updatetime
        case "createTime":
          return sale.createTime
        case "completeTime":
          return sale.completeTime ?? 0
        case "quoteID":
          return sale.quoteID
        case "shopID":
          return sale.shopID
        case "completed":
          return sale.completed ? 1 : 0
        case "voided":
          return sale.voided ? 1 : 0
        case "archived":
          return sale.archived ? 1 : 0
        default:
          return sale.saleID
      }
    }

    const parseFilter = (field: string, raw: string): Filter | string => {
      const comma = raw.indexOf(",")
      const ops = new Set(["=", "!=", ">", ">=", "<", "<=", "><"])
      const op = comma > 0 && ops.has(raw.slice(0, comma)) ? raw.slice(0, comma) : "="
      const operand = op === "=" && !raw.startsWith("=,") ? raw : raw.slice(comma + 1)
      const value = (s: string): number | undefined =>
        timeFields.has(field)
          ? parseTime(s)
          : s === "true"
            ? 1
            : s === "false"
              ? 0
              : Number.isFinite(Number(s))
                ? Number(s)
                : undefined
      if (op === "><") {
        const [a, b] = operand.split(",")
        const lo = value(a ?? "")
        const hi = value(b ?? "")
        if (lo === undefined || hi === undefined) return `invalid value for ${field}: ${operand}`
        return (s) => saleValue(s, field) >= lo && saleValue(s, field) <= hi
      }
      const v = value(operand)
      if (v === undefined) return `invalid value for ${field}: ${operand}`
      switch (op) {
        case "!=":
          return (s) => saleValue(s, field) !== v
        case ">":
          return (s) => saleValue(s, field) > v
        case ">=":
          return (s) => saleValue(s, field) >= v
        case "<":
          return (s) => saleValue(s, field) < v
        case "<=":
          return (s) => saleValue(s, field) <= v
        default:
          return (s) => saleValue(s, field) === v
      }
    }

    const encodeAfter = (value: number, saleID: number) => btoa(`${value}:${saleID}`).replace(/=+$/, "")
    const decodeAfter = (token: string): [number, number] | undefined => {
      try {
        const [a, b] = atob(token).split(":").map(Number)
        return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? [a, b] : undefined
      } catch {
        return undefined
      }
    }

    const listSales = (url: URL, relations: ReadonlySet<string>, cost: number) => {
      const filters: Array<Filter> = []
      for (const [key, raw] of url.searchParams) {
        if (!filterFields.has(key)) continue
        const f = parseFilter(key, raw)
        if (typeof f === "string") return apiError(400, f, bucketHeaders(cost))
        filters.push(f)
      }
      const limit = Math.min(100, Math.max(1, Number(url.searchParams.get("limit") ?? "100") || 100))
      const sortRaw = url.searchParams.get("sort") ?? "saleID"
      const desc = sortRaw.startsWith("-")
      const sortField = desc ? sortRaw.slice(1) : sortRaw
      const sign = desc ? -1 : 1
      const matched: Array<{ readonly sale: SimSale; readonly v: number }> = []
      for (const sale of sales.values())
        if (filters.every((f) => f(sale))) matched.push({ sale, v: saleValue(sale, sortField) })
      const cmp = (av: number, aid: number, bv: number, bid: number) => (av - bv || aid - bid) * sign
      matched.sort((a, b) => cmp(a.v, a.sale.saleID, b.v, b.sale.saleID))
      const afterRaw = url.searchParams.get("after")
      let start = 0
      if (afterRaw !== null && afterRaw !== "") {
        const after = decodeAfter(afterRaw)
        if (after === undefined) return apiError(400, "invalid after cursor", bucketHeaders(cost))
        start = matched.findIndex((m) => cmp(m.v, m.sale.saleID, after[0], after[1]) > 0)
        if (start < 0) start = matched.length
      }
      const page = matched.slice(start, start + limit).map((m) => m.sale)
      const last = page[page.length - 1]
      let next = ""
      // A full page always links onward, even when nothing follows: clients must follow `next` until empty.
      if (page.length === limit && last !== undefined) {
        const nextUrl = new URL(`${apiBase}${url.pathname}`)
        for (const [k, v] of url.searchParams) if (k !== "after") nextUrl.searchParams.append(k, v)
        nextUrl.searchParams.set("after", encodeAfter(saleValue(last, sortField), last.saleID))
        next = nextUrl.toString()
      }
      const body: Record<string, unknown> = { "@attributes": { next, previous: "" } }
      if (page.length > 0) body.Sale = oneOrMany(page.map((s) => renderSale(s, relations)))
      return json(body, 200, bucketHeaders(cost))
    }

    const updateSale = (request: HttpServerRequest.HttpServerRequest, sale: SimSale, cost: number) =>
      Effect.gen(function* () {
        const body = yield* Effect.orElseSucceed(request.json, () => undefined)
        if (typeof body !== "object" || body === null) return apiError(400, "invalid JSON body", bucketHeaders(cost))
        const b = body as {
          SaleNotes?: { InternalNote?: { note?: unknown }; PrintedNote?: { note?: unknown } }
          ShipTo?: { shipped?: unknown; shipNote?: unknown }
        }
        counters.puts++
        const internal = b.SaleNotes?.InternalNote?.note
        if (typeof internal === "string") sale.internalNote = internal
        const printed = b.SaleNotes?.PrintedNote?.note
        if (typeof printed === "string") sale.printedNote = printed
        if (b.ShipTo !== undefined && sale.shipTo !== undefined) {
          if (b.ShipTo.shipped !== undefined) sale.shipTo.shipped = String(b.ShipTo.shipped) === "true"
          if (typeof b.ShipTo.shipNote === "string") sale.shipTo.shipNote = b.ShipTo.shipNote
        }
        if (writeBumps) touch(sale, yield* now)
        return json({ Sale: renderSale(sale, new Set(["SaleNotes", "ShipTo"])) }, 200, bucketHeaders(cost))
      })

    const api = (request: HttpServerRequest.HttpServerRequest, url: URL) =>
      Effect.gen(function* () {
        const m = apiPath.exec(url.pathname)
        if (m === null || m[1] !== options.accountId) return apiError(404, "Not Found")
        const auth = request.headers.authorization ?? ""
        const token = accessTokens.get(auth.replace(/^Bearer\s+/i, ""))
        const nowMs = yield* now
        if (token === undefined || token.revoked || token.expiresAt <= nowMs) {
          counters.unauthorized++
          return json({ error: "access_denied", error_description: "The access token is invalid or has expired" }, 401)
        }
        const [, , resource, id] = m
        const relations = parseRelations(url)
        const isList = id === undefined
        const isWrite = request.method !== "GET"
        const cost = isWrite ? 10 : 1 + relationCost * relations.size * (isList ? 2 : 1)
        const charged = charge(nowMs, cost)
        if (!charged.ok) {
          counters.rateLimited++
          return apiError(429, "Rate limit exceeded", {
            "retry-after": String(charged.retryAfter),
            "x-ls-api-ratelimit-type": "bucket",
            ...bucketHeaders(cost)
          })
        }
        if (resource === "Quote") {
          if (id === undefined) {
            const list = [...quotes.values()].map(renderQuote)
            return json({ "@attributes": { next: "", previous: "" }, Quote: oneOrMany(list) }, 200, bucketHeaders(cost))
          }
          const q = quotes.get(Number(id))
          return q === undefined
            ? apiError(404, "Quote not found")
            : json({ Quote: renderQuote(q) }, 200, bucketHeaders(cost))
        }
        if (id === undefined) {
          return request.method === "GET" ? listSales(url, relations, cost) : apiError(405, "Method Not Allowed")
        }
        const sale = sales.get(Number(id))
        if (sale === undefined) return apiError(404, `Sale ${id} not found`, bucketHeaders(cost))
        if (request.method === "PUT") return yield* updateSale(request, sale, cost)
        if (request.method === "GET") return json({ Sale: renderSale(sale, relations) }, 200, bucketHeaders(cost))
        return apiError(405, "Method Not Allowed")
      })

    const app: HttpApp.Default = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://simulator.invalid")
      counters.requests++
      if (url.pathname === "/auth/oauth/authorize" && request.method === "GET") return yield* authorize(url)
      if (url.pathname === "/auth/oauth/token" && request.method === "POST") return yield* tokenEndpoint(request)
      if (url.pathname.startsWith("/API/")) {
        counters.apiRequests++
        const fault = yield* injector.next({ method: request.method, path: url.pathname })
        return yield* Faults.applyToServer(fault, api(request, url))
      }
      return apiError(404, "Not Found")
    })

    const control: Control = {
      accountId: options.accountId,
      addSale,
      resaveSale: (saleID) => withSale(saleID, (sale, nowMs) => touch(sale, nowMs)),
      completeSale: (saleID) =>
        withSale(saleID, (sale, nowMs) => {
          sale.completed = true
          sale.completeTime = seconds(nowMs)
          touch(sale, nowMs)
        }),
      voidSale: (saleID) =>
        withSale(saleID, (sale, nowMs) => {
          sale.voided = true
          sale.updatetime = seconds(nowMs)
          // Voiding is the one change that moves timeStamp on a completed Sale in this model.
          sale.timeStamp = sale.updatetime
        }),
      modifyQuote: (quoteID, change) =>
        Effect.flatMap(now, (nowMs) => {
          const quote = quotes.get(quoteID)
          const old = quote === undefined ? undefined : sales.get(quote.saleID)
          if (quote === undefined || old === undefined) return Effect.dieMessage(`Simulator: no quote ${quoteID}`)
          const at = seconds(nowMs)
          const saleID = ++ids.sale
          const copy: SimSale = {
            ...old,
            saleID,
            createTime: at,
            updatetime: at,
            timeStamp: at,
            ticketNumber: String(++ids.ticket),
            lines:
              change.lines === undefined
                ? old.lines.map((l) => ({ ...l, saleLineID: ++ids.line }))
                : makeLines(change.lines),
            shipTo: old.shipTo === undefined ? undefined : { ...old.shipTo }
          }
          sales.set(saleID, copy)
          quote.saleID = saleID
          if (change.notes !== undefined) quote.notes = change.notes
          // The superseded Sale is archived; its own updatetime moves too, so a pull sees it (and must skip it).
          old.archived = true
          touch(old, nowMs)
          return Effect.succeed(saleID)
        }),
      archiveQuote: (quoteID) =>
        Effect.flatMap(now, (nowMs) => {
          const quote = quotes.get(quoteID)
          const sale = quote === undefined ? undefined : sales.get(quote.saleID)
          if (quote === undefined || sale === undefined) return Effect.dieMessage(`Simulator: no quote ${quoteID}`)
          quote.archived = true
          sale.archived = true
          touch(sale, nowMs)
          return Effect.void
        }),
      revokeAccessTokens: Effect.sync(() => {
        for (const t of accessTokens.values()) t.revoked = true
      }),
      revokeGrant: Effect.sync(() => {
        for (const t of accessTokens.values()) t.revoked = true
        for (const t of refreshTokens.values()) t.revoked = true
      }),
      grant: (clientId = clients[0]?.clientId ?? defaultClient.clientId) =>
        Effect.map(now, (nowMs) => {
          counters.tokenGrants++
          return issueTokens(clientId, nowMs, "employee:all").refresh_token
        }),
      setFaults: (plan) => injector.setPlan({ ...plan, paths: ["/API/"] }),
      faultHistory: injector.history,
      stats: Effect.map(injector.history, (history) => ({
        ...counters,
        faultsInjected: history.filter((d) => d.fault !== undefined).length,
        bucketSize,
        dripRate
      })),
      sale: (saleID) =>
        Effect.sync(() => {
          const s = sales.get(saleID)
          return s === undefined
            ? undefined
            : {
                saleID: s.saleID,
                quoteID: s.quoteID,
                completed: s.completed,
                voided: s.voided,
                internalNote: s.internalNote,
                shipped: s.shipTo?.shipped,
                shipNote: s.shipTo?.shipNote,
                updatetime: s.updatetime
              }
        }),
      saleCount: Effect.sync(() => sales.size)
    }
    return { app, control }
  })

// ---------------------------------------------------------------------------------------------------------------
// Demo data
// ---------------------------------------------------------------------------------------------------------------

const firstNames = ["Ada", "Björn", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivan", "Jules", "Kofi"]
const lastNames = ["Lovelace", "Ørsted", "Durand", "Sokolov", "Kim", "Haddad", "Pereira", "Sato", "Petrov", "Verne"]
const cities = [
  { city: "Portland", stateCode: "OR", zip: "97205", countryCode: "US" },
  { city: "Montréal", stateCode: "QC", zip: "H2X 1Y4", countryCode: "CA" },
  { city: "Austin", stateCode: "TX", zip: "78701", countryCode: "US" },
  { city: "Burlington", stateCode: "VT", zip: "05401", countryCode: "US" }
]
const products = [
  { systemSku: "210000000101", customSku: "TEE-BLK-M", description: "T-shirt black M", unitPrice: "19.99" },
  { systemSku: "210000000102", customSku: "", description: "Mug & saucer", unitPrice: "12.5" },
  { systemSku: "210000000103", customSku: "CAP-RED", description: "Cap red", unitPrice: "15" },
  { systemSku: "210000000104", customSku: "BAG-TOTE", description: "Tote bag «café»", unitPrice: "24.00" },
  { systemSku: "210000000105", customSku: "", description: "Sticker pack", unitPrice: "3.25" }
]

export interface DemoOptions {
  readonly sales: number
  readonly seed?: number | undefined
  /** The seeded sales are spread over this many days before now. Default 7. */
  readonly days?: number | undefined
  /** The seeded history ends at this time (epoch ms); default now. Fixed values make runs comparable. */
  readonly until?: number | undefined
  /** Share of sales that are quotes. Default 0.2. */
  readonly quoteShare?: number | undefined
}

const demoSale = (prng: Faults.Prng, at: number, quote: boolean): SaleInput => {
  const person = (): PersonInput => {
    const place = prng.pick(cities)
    return {
      firstName: prng.pick(firstNames),
      lastName: prng.pick(lastNames),
      address: { address1: `${1 + prng.nextInt(999)} Main St`, ...place },
      email: `customer${prng.nextInt(100000)}@example.com`,
      phone: `555-01${String(prng.nextInt(100)).padStart(2, "0")}`
    }
  }
  const walkIn = prng.next() < 0.1
  const customer = walkIn ? undefined : person()
  const lineCount = 1 + prng.nextInt(4)
  return {
    at,
    customer,
    shipTo: customer !== undefined && prng.next() < 0.6 ? { ...person(), lastName: customer.lastName } : undefined,
    lines: Array.from({ length: lineCount }, () => {
      const p = prng.pick(products)
      return { ...p, quantity: 1 + prng.nextInt(3) }
    }),
    ...(quote ? { quote: { notes: "Ship when ready" } } : {})
  }
}

/** Seeds `sales` realistic Sales (walk-ins, ship-tos, quotes, unicode names) spread over the past days. */
export const seedDemo = (control: Control, options: DemoOptions): Effect.Effect<void> =>
  Effect.gen(function* () {
    const prng = Faults.makePrng(options.seed ?? 7)
    const nowMs = options.until ?? (yield* Clock.currentTimeMillis)
    const span = (options.days ?? 7) * 24 * 3600 * 1000
    const quoteShare = options.quoteShare ?? 0.2
    for (let i = 0; i < options.sales; i++) {
      const at = nowMs - span + Math.floor((span * i) / Math.max(1, options.sales))
      yield* control.addSale(demoSale(prng, at, prng.next() < quoteShare))
    }
  })

/**
 * Keeps the demo account alive: every `every` a new Sale, sometimes a re-save of an older one or a quote edit.
 * Runs until interrupted (the server's demo mode forks it).
 */
export const runDemoActivity = (
  control: Control,
  options: { readonly every: Duration.DurationInput; readonly seed?: number | undefined }
): Effect.Effect<never> => {
  const prng = Faults.makePrng(options.seed ?? 11)
  const step = Effect.gen(function* () {
    const roll = prng.next()
    const count = yield* control.saleCount
    if (roll < 0.15 && count > 0) {
      const target = 1001 + prng.nextInt(count)
      const view = yield* control.sale(target)
      if (view !== undefined) yield* control.resaveSale(target)
      return
    }
    yield* control.addSale(demoSale(prng, yield* Clock.currentTimeMillis, roll > 0.85))
  })
  return Effect.repeat(step, Schedule.spaced(Duration.decode(options.every))).pipe(Effect.zipRight(Effect.never))
}
