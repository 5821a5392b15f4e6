/**
 * What a Heartland fixture's `settings` holds and how it is run, shared by the recorder and the replay test:
 * the store, the adapter settings (token redacted), and the action (a pull from an optional cursor, or a write-back
 * of a ship notice). `expected` is the adapter's output in JSON: the emitted documents (encoded core Orders) and
 * the final cursor, the write-back summary, or the error.
 */
import type { HttpClient } from "@effect/platform"
import { Order, type PosSource, ShipNotice, StoreId } from "@posbridge/core"
import { Chunk, DateTime, Effect, Option, Schema, Stream } from "effect"
import * as HeartlandSource from "../src/HeartlandSource.js"
import * as Settings from "../src/Settings.js"

export const FixtureSettings = Schema.Struct({
  store: Schema.Struct({ id: StoreId.StoreId, documentKind: Schema.Literal("orders", "invoices") }),
  heartland: Schema.Unknown,
  action: Schema.Union(
    Schema.Struct({
      _tag: Schema.Literal("pull"),
      since: Schema.String,
      cursor: Schema.optional(Schema.String)
    }),
    Schema.Struct({ _tag: Schema.Literal("writeBack"), notice: ShipNotice.ShipNotice })
  )
})
export type FixtureSettings = typeof FixtureSettings.Type
export type FixtureSettingsEncoded = typeof FixtureSettings.Encoded

export type Outcome =
  | {
      readonly documents: ReadonlyArray<{ readonly order: Order.OrderEncoded; readonly exclude?: string }>
      readonly cursor: string | null
    }
  | { readonly summary: string }
  | { readonly error: { readonly kind: string; readonly message: string } }

/** Runs the fixture's action against whatever HttpClient is provided; failures become an `error` outcome. */
export const run = (encoded: unknown): Effect.Effect<Outcome, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const input = yield* Schema.decodeUnknown(FixtureSettings)(encoded).pipe(Effect.orDie)
    // The recorded token is redacted; replay matches any Authorization header.
    const heartland = yield* Schema.decodeUnknown(Settings.HeartlandSettings)({
      ...(input.heartland as object),
      apiToken: "replayed-token"
    }).pipe(Effect.orDie)
    const source = yield* HeartlandSource.make(input.store, heartland)
    const action = input.action
    const outcome: Effect.Effect<Outcome, PosSource.PosSourceError> =
      action._tag === "pull"
        ? Effect.map(
            Stream.runCollect(
              source.pull(Option.fromNullable(action.cursor), { since: DateTime.unsafeMake(action.since) })
            ),
            (batches): Outcome => {
              const all = Chunk.toReadonlyArray(batches)
              return {
                documents: all.flatMap((b) =>
                  b.documents.map((d) =>
                    d.exclude === undefined
                      ? { order: Order.encode(d.order) }
                      : { order: Order.encode(d.order), exclude: d.exclude }
                  )
                ),
                cursor: all.at(-1)?.cursor ?? null
              }
            }
          )
        : Effect.map(source.recordShipment(action.notice, Option.none()), (r) => ({ summary: r.summary }))
    return yield* Effect.catchTag(outcome, "PosSourceError", (e) =>
      Effect.succeed({ error: { kind: e.kind, message: e.message } })
    )
  })
