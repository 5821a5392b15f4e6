/**
 * The __NAME__ simulator as pos-testkit's `PosSimulator`: what `posbridge simulate` serves and what
 * `pnpm conformance` checks against the adapter (the change log must name documents as the adapter does). Accounts
 * `1000`, `1001`, … each seeded with a few orders, a new order every 30 seconds on each, and the control API's
 * actions in this POS's terms. A store's settings point at `{baseUrl}/{account}` with the simulator's token.
 */
import { PosSimulator } from "@posbridge/pos-testkit"
import { Duration, Effect, Schedule } from "effect"
import * as Simulator from "./Simulator.js"

export const token = "sim-token"

/** The `n`th order rung up: shippable, so posbridge serves it. */
const demoOrder = (n: number): Simulator.OrderInput => ({
  number: `EX-${n}`,
  customer: { code: `C-${n}`, name: "Ada Lovelace" },
  shipTo: {
    name: "Ada Lovelace",
    address1: `${n} Main St`,
    city: "Portland",
    state: "OR",
    postalCode: "97205",
    country: "US"
  },
  lines: [{ sku: "MUG-1", name: "Mug", qty: 1 + (n % 3), price: "12.00" }],
  total: `${12 * (1 + (n % 3))}.00`
})

const fields: PosSimulator.PosSimulator["fields"] = {
  orders: [{ name: "total", description: "the order total, a decimal", examples: ["42.00", "17.50"] }]
}

export const make = (options: PosSimulator.Options): Effect.Effect<PosSimulator.PosSimulator> =>
  Effect.gen(function* () {
    const ids = PosSimulator.accountIds(options.accounts ?? 1)
    const sim = yield* Simulator.make({ token, accounts: ids, pullIdleMillis: options.pullIdleMillis })
    const { onClock, accountOf, logged, shared } = PosSimulator.frameOf(sim, options.clock)
    let rung = 0
    const ringUp = (control: Simulator.Control) => control.addOrder(demoOrder(++rung))
    for (const id of ids) for (let i = 0; i < 3; i++) yield* onClock(ringUp(sim.account(id)!))

    /** Runs `change` on the account's order `ref`, if it has one. */
    const onOrder = (account: string, ref: string, change: (control: Simulator.Control) => Effect.Effect<void>) =>
      logged(account, (control) =>
        Effect.flatMap(control.hasOrder(ref), (has) =>
          has ? change(control) : Effect.fail(PosSimulator.unknownDocument(account, "orders", ref))
        )
      )

    const simulator: PosSimulator.PosSimulator = {
      adapterId: "__NAME__",
      displayName: "__NAME__",
      ...shared,
      kinds: ["orders"],
      fields,
      activity: onClock(
        Effect.forEach(ids, (id) => ringUp(sim.account(id)!), { discard: true }).pipe(
          Effect.repeat(Schedule.spaced(Duration.seconds(30))),
          Effect.zipRight(Effect.never)
        )
      ),
      addDocument: (account) => logged(account, ringUp),
      resave: (account, _kind, ref) => onOrder(account, ref, (control) => control.updateOrder(ref)),
      setField: (account, _kind, ref, field, value) =>
        field === "total" && typeof value === "string" && /^\d+(\.\d{1,2})?$/.test(value)
          ? onOrder(account, ref, (control) => control.updateOrder(ref, { total: value }))
          : Effect.fail(
              new PosSimulator.ControlError({
                reason: "invalid",
                message: `Orders accept total (a decimal), not ${field}.`
              })
            ),
      storeSettings: (account) =>
        Effect.map(accountOf(account), () => ({
          baseUrl: `${options.baseUrl.replace(/\/+$/, "")}/${account}`,
          apiToken: token
        }))
    }
    return simulator
  })

/** What this package's `testing` entry exports for `posbridge simulate` and the conformance oracle. */
export const simulator: PosSimulator.Descriptor = { _tag: "PosbridgeSimulator", adapterId: "__NAME__", make }
