/**
 * The Lightspeed simulator as pos-testkit's `PosSimulator` (what `posbridge simulate lightspeed` serves): accounts
 * `1000`, `1001`, … each seeded like the server's demo (account 1000 exactly as the demo, the others from their
 * own seeds), the demo's merchant activity on every account, and the control API's actions in Lightspeed's terms.
 * A store's settings point `apiBaseUrl` at the simulator (its OAuth endpoints follow) with a refresh token granted
 * for the store's account.
 */
import { Faults, PosSimulator } from "@posbridge/pos-testkit"
import { Clock, Duration, Effect } from "effect"
import { demoSale, runDemoActivity, seedDemo } from "./internal/demo.js"
import * as Simulator from "./Simulator.js"

/** The demo's seeding and activity (apps/server's demo mode runs the same). */
export const demo = { sales: 60, seed: 7, days: 3, activitySeed: 11, every: Duration.seconds(20) } as const

const invalid = (message: string) => new PosSimulator.ControlError({ reason: "invalid", message })

const fields: PosSimulator.PosSimulator["fields"] = {
  invoices: [
    {
      name: "internalNote",
      description: "the Sale's internal note, as the merchant edits it",
      examples: ["Gift wrap"]
    },
    { name: "voided", description: "true: the merchant voids the Sale", examples: [true] }
  ],
  orders: [{ name: "notes", description: "the Quote's notes (a quote edit makes a new Sale)", examples: ["Rush"] }]
}

export const make = (options: PosSimulator.Options): Effect.Effect<PosSimulator.PosSimulator> =>
  Effect.gen(function* () {
    const ids = PosSimulator.accountIds(options.accounts ?? 1)
    const baseUrl = options.baseUrl.replace(/\/+$/, "")
    const sim = yield* Simulator.make({
      accountId: ids[0]!,
      accounts: ids.slice(1),
      apiBaseUrl: baseUrl,
      clock: options.clock,
      pullIdleMillis: options.pullIdleMillis
    })
    const { onClock, accountOf, logged, shared } = PosSimulator.frameOf(sim, options.clock)
    const seed = options.seed ?? demo.seed
    for (const [i, id] of ids.entries()) {
      yield* onClock(
        seedDemo(sim.account(id)!, { sales: options.documents ?? demo.sales, seed: seed + i, days: demo.days })
      )
    }
    const prng = Faults.makePrng(seed + 1000)

    /** The completed Sale an invoice is. */
    const invoice = (control: Simulator.AccountControl, ref: string) =>
      Effect.flatMap(control.sale(Number(ref)), (view) =>
        view?.completed === true
          ? Effect.succeed(view.saleID)
          : Effect.fail(PosSimulator.unknownDocument(control.accountId, "invoices", ref))
      )
    /** The Quote an order is. */
    const quote = (control: Simulator.AccountControl, ref: string) =>
      Effect.flatMap(control.quoteSale(Number(ref)), (saleID) =>
        saleID === undefined
          ? Effect.fail(PosSimulator.unknownDocument(control.accountId, "orders", ref))
          : Effect.succeed(Number(ref))
      )

    const simulator: PosSimulator.PosSimulator = {
      adapterId: "lightspeed",
      displayName: "Lightspeed Retail (R-Series)",
      ...shared,
      kinds: ["invoices", "orders"],
      fields,
      activity: onClock(
        Effect.all(
          ids.map((id, i) =>
            runDemoActivity(sim.account(id)!, { every: demo.every, seed: demo.activitySeed + (seed - demo.seed) + i })
          ),
          { concurrency: "unbounded", discard: true }
        ).pipe(Effect.zipRight(Effect.never))
      ),
      addDocument: (account, kind) =>
        logged(account, (control) =>
          Effect.flatMap(Clock.currentTimeMillis, (at) =>
            control.addSale(demoSale(prng, at, kind === "orders", { shippable: true }))
          )
        ),
      resave: (account, kind, ref) =>
        logged(account, (control) =>
          kind === "invoices"
            ? Effect.flatMap(invoice(control, ref), control.resaveSale)
            : Effect.flatMap(quote(control, ref), (quoteID) => control.modifyQuote(quoteID, {}))
        ),
      setField: (account, kind, ref, field, value) =>
        logged(account, (control) => {
          if (kind === "orders") {
            return field === "notes" && typeof value === "string"
              ? Effect.flatMap(quote(control, ref), (quoteID) => control.modifyQuote(quoteID, { notes: value }))
              : Effect.fail(invalid(`Orders (quotes) accept notes (text), not ${field} = ${JSON.stringify(value)}.`))
          }
          if (field === "internalNote" && typeof value === "string") {
            return Effect.flatMap(invoice(control, ref), (saleID) => control.editNotes(saleID, { internalNote: value }))
          }
          if (field === "voided" && value === true) return Effect.flatMap(invoice(control, ref), control.voidSale)
          return Effect.fail(
            invalid(
              `Invoices (Sales) accept internalNote (text) or voided (true), not ${field} = ${JSON.stringify(value)}.`
            )
          )
        }),
      storeSettings: (account, kind) =>
        Effect.flatMap(accountOf(account), (control) =>
          Effect.map(onClock(control.grant()), (refreshToken) => ({
            accountId: account,
            clientId: Simulator.defaultClient.clientId,
            clientSecret: Simulator.defaultClient.clientSecret,
            refreshToken,
            apiBaseUrl: baseUrl,
            documentKind: kind,
            currency: "USD"
          }))
        ),
      expireAccessTokens: (account) => Effect.flatMap(accountOf(account), (control) => control.revokeAccessTokens)
    }
    return simulator
  })

/** What the adapter's `testing` entry exports for `posbridge simulate lightspeed` and the conformance oracle. */
export const simulator: PosSimulator.Descriptor = { _tag: "PosbridgeSimulator", adapterId: "lightspeed", make }
