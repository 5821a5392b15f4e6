import { Schema } from "effect"

/** A configured store's id; also the last path segment of its ShipStation URL (`/shipstation/{storeId}`). */
export const StoreId = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
    message: () =>
      "a store id is 1-63 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit"
  }),
  Schema.brand("StoreId")
)
export type StoreId = typeof StoreId.Type
