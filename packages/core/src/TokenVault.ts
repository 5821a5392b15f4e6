/**
 * Per-store secret storage an adapter writes through (e.g. Lightspeed's rotating refresh token). The server
 * implements it on the order store, encrypted at rest. Writes are durable before they return.
 *
 * A rotating secret is written with `compareAndSet`: two processes (replicas during a failover, the OAuth
 * callback on another replica) may both read the same refresh token and both refresh. Only the one whose read is
 * still current may store its result; the other learns it lost and re-reads instead of overwriting a newer token
 * with one the POS may already have killed.
 */
import { Context, Effect, Option, Redacted, Ref } from "effect"

export interface TokenVaultService {
  readonly get: (storeId: string, name: string) => Effect.Effect<Option.Option<Redacted.Redacted<string>>>
  /** Writes unconditionally: for a value that supersedes whatever is stored (a fresh authorization). */
  readonly set: (storeId: string, name: string, value: Redacted.Redacted<string>) => Effect.Effect<void>
  /**
   * Writes `next` only if the stored value is still `expected` (`None`: only if nothing is stored yet), atomically
   * with respect to every other writer of the same vault, in any process. True when written; false when the
   * stored value is no longer `expected` (nothing was written: read it again).
   */
  readonly compareAndSet: (
    storeId: string,
    name: string,
    expected: Option.Option<Redacted.Redacted<string>>,
    next: Redacted.Redacted<string>
  ) => Effect.Effect<boolean>
}

export class TokenVault extends Context.Tag("@posbridge/core/TokenVault")<TokenVault, TokenVaultService>() {}

/** Whether two optional secrets hold the same value (never logs or returns either). */
export const sameValue = (
  a: Option.Option<Redacted.Redacted<string>>,
  b: Option.Option<Redacted.Redacted<string>>
): boolean =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) && Redacted.value(a.value) === Redacted.value(b.value)

/**
 * A vault in memory with the same contract (the demo's, the conformance runs', tests'): secrets live as long as
 * the process, which suits simulators that forget their tokens at every start anyway.
 */
export const makeMemory: Effect.Effect<TokenVaultService> = Effect.map(
  Ref.make(new Map<string, Redacted.Redacted<string>>()),
  (ref) => {
    const key = (storeId: string, name: string) => `${storeId}\u0000${name}`
    return TokenVault.of({
      get: (storeId, name) => Effect.map(Ref.get(ref), (m) => Option.fromNullable(m.get(key(storeId, name)))),
      set: (storeId, name, value) => Ref.update(ref, (m) => new Map(m).set(key(storeId, name), value)),
      compareAndSet: (storeId, name, expected, next) =>
        Ref.modify(ref, (m) =>
          sameValue(Option.fromNullable(m.get(key(storeId, name))), expected)
            ? [true, new Map(m).set(key(storeId, name), next)]
            : [false, m]
        )
    })
  }
)
