/**
 * Per-store secret storage an adapter writes through (e.g. Lightspeed's rotating refresh token). The server
 * implements it on the order store, encrypted at rest. `set` must be durable before it returns.
 */
import { Context, type Effect, type Option, type Redacted } from "effect"

export interface TokenVaultService {
  readonly get: (storeId: string, name: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>>
  readonly set: (storeId: string, name: string, value: Redacted.Redacted<string>) => Effect.Effect<void>
}

export class TokenVault extends Context.Tag("@posbridge/core/TokenVault")<TokenVault, TokenVaultService>() {}
