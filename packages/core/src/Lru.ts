/**
 * A map holding at most `capacity` entries, least recently used first: a lookup that finds an entry makes it
 * the most recent, and setting past the capacity drops the least recent. Capacity 0 keeps nothing. The
 * in-process caches of the store and the ShipStation route are these; what an entry is valid for is each
 * caller's own check.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>()

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (!oldest.done) this.entries.delete(oldest.value)
    }
  }
}
