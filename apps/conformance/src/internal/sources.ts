/** An adapter's PosSource built from its descriptor over a given HttpClient, with tokens kept in memory. */
import * as HttpClient from "@effect/platform/HttpClient"
import { type AdapterDescriptor, PosSource, type StoreSettings, TokenVault } from "@posbridge/core"
import { Effect, Layer, type Scope } from "effect"

/** A TokenVault in memory (a run's rotated refresh tokens live as long as the run). */
export const memoryVault = TokenVault.makeMemory

/** The store's PosSource from `descriptor`, talking through `client`; scoped like the adapter's layer. */
export const build = (
  descriptor: AdapterDescriptor.AdapterDescriptor,
  store: StoreSettings.StoreSettings,
  adapterSettings: unknown,
  client: HttpClient.HttpClient
): Effect.Effect<PosSource.PosSourceService, PosSource.PosSourceError, Scope.Scope> =>
  Effect.gen(function* () {
    const vault = yield* memoryVault
    // External adapters are trusted to need no more than the built-ins: an HttpClient and the TokenVault.
    const layer = descriptor.layer(store, adapterSettings) as Layer.Layer<
      PosSource.PosSource,
      PosSource.PosSourceError,
      HttpClient.HttpClient | TokenVault.TokenVault
    >
    const context = yield* Layer.build(layer).pipe(
      Effect.provideService(HttpClient.HttpClient, client),
      Effect.provideService(TokenVault.TokenVault, vault)
    )
    return yield* PosSource.PosSource.pipe(Effect.provide(context))
  })
