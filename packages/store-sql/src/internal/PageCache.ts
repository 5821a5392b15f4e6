/**
 * Later pages already read, by (store, snapshot, offset, size), with the document generation they were read
 * at, least recently used first. While the store's generation is unchanged no document of it has changed
 * (migration 0002's triggers raise it in the same commit as any change, whoever writes it), so the page's
 * current content is what was read; any change raises the generation and the page is read again. An entry
 * holds the decoded orders (shared with the decode cache), never the stored JSON.
 */
import { Lru, type OrderStore } from "@posbridge/core"

type Members = ReadonlyArray<OrderStore.StoredOrder>

export const key = (storeId: string, snapshotId: string, offset: number, pageSize: number): string =>
  `${storeId}\u0000${snapshotId}\u0000${offset}\u0000${pageSize}`

/** `size` pages at most (default 64); 0 keeps none. */
export const make = (size: number | undefined) => {
  const pages = new Lru.Lru<string, { readonly generation: number; readonly members: Members }>(Math.max(0, size ?? 64))
  return {
    /** The page's members if it was kept at exactly this generation. */
    get: (key: string, generation: number): Members | undefined => {
      const kept = pages.get(key)
      return kept !== undefined && kept.generation === generation ? kept.members : undefined
    },
    set: (key: string, generation: number, members: Members): void => {
      pages.set(key, { generation, members })
    }
  }
}
