/**
 * Adapters are plugins: a store's configuration names its adapter by built-in id (`lightspeed`, `heartland`),
 * by package name or by absolute path. The package is loaded with a dynamic `import()` (web-standard, so this
 * package stays runtime-agnostic), must export an adapter descriptor as `adapter`, and the store's settings are
 * decoded with the descriptor's Schema. Every failure names the store, the package and, for settings, the field.
 */
import { AdapterDescriptor, type PosSource, type StoreSettings } from "@posbridge/core"
import { Effect, Either, type Layer, ParseResult, Redacted, Schema } from "effect"

export class AdapterConfigError extends Schema.TaggedError<AdapterConfigError>()("AdapterConfigError", {
  storeId: Schema.String,
  adapter: Schema.String,
  reason: Schema.Literal("not-found", "no-descriptor", "invalid-settings"),
  /** Field paths (e.g. `settings.accountId`) with what is wrong with each; empty unless invalid-settings. */
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
  detail: Schema.String
}) {
  override get message() {
    const where = `Store "${this.storeId}", adapter "${this.adapter}"`
    switch (this.reason) {
      case "not-found":
        return `${where}: the adapter package could not be loaded (${this.detail}).`
      case "no-descriptor":
        return `${where}: the package does not export an adapter descriptor as \`adapter\` (${this.detail}).`
      case "invalid-settings":
        return `${where}: invalid settings: ${this.issues.map((i) => `${i.path}: ${i.message}`).join("; ")}.`
    }
    return where
  }
}

export interface LoadedAdapter<R = never> {
  readonly store: StoreSettings.StoreSettings
  readonly descriptor: AdapterDescriptor.AdapterDescriptor
  /** The store's settings decoded with the adapter's Schema. */
  readonly settings: unknown
  /** The store's PosSource; `R` is what the server provides (an HttpClient, the TokenVault…). */
  readonly layer: Layer.Layer<PosSource.PosSource, PosSource.PosSourceError, R>
  readonly warnings: ReadonlyArray<StoreSettings.StoreWarning>
  /** Revealed secrets of this store (Redacted values in its settings), to scrub from error messages. */
  readonly secrets: ReadonlyArray<string>
}

/** How a module is imported; tests and other runtimes may swap it. Defaults to the platform's `import()`. */
export type Importer = (specifier: string) => Promise<unknown>

const defaultImporter: Importer = (specifier) => import(specifier)

const describe = (cause: unknown): string =>
  cause instanceof Error ? (cause.message.split("\n")[0] ?? cause.name) : String(cause)

/**
 * Resolves, imports and checks the store's adapter, then decodes its settings. `R` is what the server provides
 * to adapter layers (the built-ins' requirement, e.g. an HttpClient); an external adapter is trusted to need no
 * more than that, which its descriptor's type cannot prove at runtime.
 *
 * Package names resolve from the importer's location: the server should pass its own
 * `(specifier) => import(specifier)` so that adapters installed next to the server are found.
 */
export const load = <R = never>(
  store: StoreSettings.StoreSettings,
  // biome-ignore lint/suspicious/noExplicitAny: each adapter has its own settings type
  builtIns: Readonly<Record<string, AdapterDescriptor.AdapterDescriptor<any, R>>>,
  importer: Importer = defaultImporter
): Effect.Effect<LoadedAdapter<R>, AdapterConfigError> =>
  Effect.gen(function* () {
    const fail = (reason: AdapterConfigError["reason"], detail: string, issues: AdapterConfigError["issues"] = []) =>
      new AdapterConfigError({ storeId: store.id, adapter: store.adapter, reason, detail, issues })

    const builtIn = Object.hasOwn(builtIns, store.adapter) ? builtIns[store.adapter] : undefined
    // biome-ignore lint/suspicious/noExplicitAny: each adapter has its own settings type
    const descriptor: AdapterDescriptor.AdapterDescriptor<any, R> =
      builtIn ??
      (yield* Effect.tryPromise({
        try: () => importer(store.adapter),
        catch: (cause) => fail("not-found", describe(cause))
      }).pipe(
        Effect.flatMap((module) => {
          const exported = (module as { adapter?: unknown } | null)?.adapter
          return AdapterDescriptor.isAdapterDescriptor(exported)
            ? Effect.succeed(exported)
            : Effect.fail(
                fail(
                  "no-descriptor",
                  exported === undefined
                    ? "it has no export named `adapter`"
                    : "its `adapter` export is not a PosbridgeAdapter"
                )
              )
        })
      ))

    const decoded = Schema.decodeUnknownEither(descriptor.settingsSchema, { errors: "all" })(store.settings)
    if (Either.isLeft(decoded)) {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((issue) => ({
        path: ["settings", ...issue.path.map(String)].join("."),
        message: issue.message
      }))
      return yield* Effect.fail(fail("invalid-settings", "settings do not decode", issues))
    }
    const settings = decoded.right
    return {
      store,
      descriptor,
      settings,
      layer: descriptor.layer(store, settings),
      warnings: descriptor.warnings?.(store, settings) ?? [],
      secrets: [...collectSecrets(store.shipstation), ...collectSecrets(settings)]
    }
  })

/** Loads every store; a store that fails does not stop the others. */
export const loadAll = <R = never>(
  stores: ReadonlyArray<StoreSettings.StoreSettings>,
  // biome-ignore lint/suspicious/noExplicitAny: each adapter has its own settings type
  builtIns: Readonly<Record<string, AdapterDescriptor.AdapterDescriptor<any, R>>>,
  importer: Importer = defaultImporter
): Effect.Effect<{
  readonly loaded: ReadonlyArray<LoadedAdapter<R>>
  readonly errors: ReadonlyArray<AdapterConfigError>
}> =>
  Effect.partition(stores, (store) => load(store, builtIns, importer), { concurrency: 8 }).pipe(
    Effect.map(([errors, loaded]) => ({ loaded, errors }))
  )

/** Every revealed Redacted string inside a value (only non-trivial ones: scrubbing "a" would garble messages). */
export const collectSecrets = (value: unknown, found: Array<string> = [], depth = 0): Array<string> => {
  if (depth > 8 || value === null || typeof value !== "object") return found
  if (Redacted.isRedacted(value)) {
    const revealed = Redacted.value(value)
    if (typeof revealed === "string" && revealed.length >= 4) found.push(revealed)
    return found
  }
  for (const child of Array.isArray(value) ? value : Object.values(value)) collectSecrets(child, found, depth + 1)
  return found
}
