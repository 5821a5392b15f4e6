/** The configured stores and their credentials. */
import { Context, type Effect, Schema } from "effect"
import type { StoreSettings } from "./StoreSettings.js"

export class UnknownStore extends Schema.TaggedError<UnknownStore>()("UnknownStore", { storeId: Schema.String }) {
  override get message() {
    return `There is no store "${this.storeId}" on this server.`
  }
}

export interface StoreDirectoryService {
  readonly list: Effect.Effect<ReadonlyArray<StoreSettings>>
  readonly get: (storeId: string) => Effect.Effect<StoreSettings, UnknownStore>
}

export class StoreDirectory extends Context.Tag("@posbridge/core/StoreDirectory")<
  StoreDirectory,
  StoreDirectoryService
>() {}
