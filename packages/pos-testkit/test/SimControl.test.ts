import { HttpClient, HttpClientRequest, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ChangeLog, PosSimulator, Pulls, SimControl, SimServer } from "../src/index.js"

/** A POS of one kind of document, enough to drive the control API. */
const fakePos = (): PosSimulator.PosSimulator => {
  const changes = ChangeLog.make()
  const docs = new Map<string, number>()
  let now = 1_000
  let next = 1
  const save = (account: string, ref: string, what: string) =>
    Effect.sync(() => {
      now += 1_000
      docs.set(`${account}/${ref}`, now)
      return [changes.record({ account, kind: "orders", ref, at: now, posModifiedAt: now, what })]
    })
  const known = (account: string, ref: string) =>
    account !== "1000"
      ? Effect.fail(PosSimulator.unknownAccount(account, ["1000"]))
      : docs.has(`${account}/${ref}`)
        ? Effect.void
        : Effect.fail(PosSimulator.unknownDocument(account, "orders", ref))
  return {
    adapterId: "fake",
    displayName: "Fake POS",
    app: Effect.succeed(HttpServerResponse.text("the POS API")),
    accounts: ["1000"],
    kinds: ["orders"],
    fields: { orders: [{ name: "note", description: "a note", examples: ["hi"] }] },
    changes,
    pulls: Pulls.make(),
    now: Effect.sync(() => now),
    activity: Effect.never,
    addDocument: (account, kind) =>
      account !== "1000"
        ? Effect.fail(PosSimulator.unknownAccount(account, ["1000"]))
        : kind === "orders"
          ? save(account, String(next++), "created")
          : Effect.fail(new PosSimulator.ControlError({ reason: "unsupported", message: "no invoices here" })),
    resave: (account, _kind, ref) => Effect.zipRight(known(account, ref), save(account, ref, "re-saved")),
    setField: (account, _kind, ref, field, value) =>
      field === "note"
        ? Effect.zipRight(known(account, ref), save(account, ref, `edited ${value}`))
        : Effect.fail(new PosSimulator.ControlError({ reason: "invalid", message: `no field ${field}` })),
    storeSettings: (account) => Effect.succeed({ baseUrl: `http://fake.sim/${account}` })
  }
}

const withControl = <A, E>(f: (client: SimControl.Client) => Effect.Effect<A, E, HttpClient.HttpClient>) =>
  Effect.gen(function* () {
    const pos = fakePos()
    const http = yield* SimServer.makeClient(SimControl.app(pos))
    return yield* Effect.flatMap(SimControl.makeClient("http://fake.sim"), f).pipe(
      Effect.provide(Layer.succeed(HttpClient.HttpClient, http))
    )
  })

describe("SimControl", () => {
  it.effect("adds, re-saves and edits documents and reads them back from the change log", () =>
    withControl((control) =>
      Effect.gen(function* () {
        const described = yield* control.describe
        expect(described).toMatchObject({ adapter: "fake", accounts: ["1000"], kinds: ["orders"], lastChange: 0 })
        const [added] = yield* control.addDocument("1000", "orders")
        expect(added).toMatchObject({ seq: 1, ref: "1", version: 1, what: "created" })
        yield* control.resave("1000", "orders", "1")
        yield* control.setField("1000", "orders", "1", "note", "gift")
        const all = yield* control.changes()
        expect(all.last).toBe(3)
        expect(all.changes.map((c) => [c.ref, c.version, c.what])).toEqual([
          ["1", 1, "created"],
          ["1", 2, "re-saved"],
          ["1", 3, "edited gift"]
        ])
        expect((yield* control.changes({ since: 2 })).changes.map((c) => c.seq)).toEqual([3])
        expect(yield* control.storeSettings("1000", "orders")).toEqual({ baseUrl: "http://fake.sim/1000" })
      })
    )
  )

  it.effect("answers what it cannot do with the reason and a sentence, and leaves the POS API to the POS", () =>
    withControl((control) =>
      Effect.gen(function* () {
        const errors = yield* Effect.all(
          [
            control.resave("1000", "orders", "99"),
            control.resave("2000", "orders", "1"),
            control.addDocument("1000", "invoices"),
            control.setField("1000", "orders", "1", "colour", "red"),
            control.expireAccessTokens("1000")
          ].map((e) => Effect.flip(e))
        )
        expect(errors.map((e) => e.reason)).toEqual([
          "unknown-document",
          "unknown-account",
          "unsupported",
          "invalid",
          "unsupported"
        ])
        expect(errors[0]?.message).toBe('Account 1000 has no orders document "99".')
        const http = yield* HttpClient.HttpClient
        const pos = yield* http.execute(HttpClientRequest.get("http://fake.sim/api/orders"))
        expect(yield* pos.text).toBe("the POS API")
        const bad = yield* http.execute(HttpClientRequest.get("http://fake.sim/control/changes?since=x"))
        expect(bad.status).toBe(400)
        expect(yield* bad.json).toEqual({ error: "invalid", message: 'since must be a whole number, got "x".' })
      })
    )
  )
})
