import { LRUCache } from 'lru-cache';
import type { CacheStore, FillEntry } from './store.ts';

export interface MemoryStoreOptions {
  /** Entries kept before the least recently used is dropped. Tombstones are not counted. */
  maxEntries: number;
}

// Sweeping expired tombstones costs a scan, so only do it once the map has grown.
const SWEEP_AT = 1024;

/** The shared cache of one process: coherent only when this process is the service's only replica. */
export function createMemoryStore(options: MemoryStoreOptions): CacheStore {
  return new MemoryStore(options);
}

class MemoryStore implements CacheStore {
  readonly backend = 'memory';
  #values: LRUCache<string, string>;
  // Tombstones sit outside the LRU on purpose: an eviction under memory pressure must never let a read
  // that began before a write fill its old rows back in. Leave this split intact.
  #tombstones = new Map<string, { value: string; expiresAt: number }>();

  constructor(options: MemoryStoreOptions) {
    this.#values = new LRUCache({ max: options.maxEntries });
  }

  async get(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.#read(key));
  }

  async fill(entries: readonly FillEntry[]): Promise<void> {
    for (const entry of entries) {
      if (this.#read(entry.key) !== entry.expected) continue;
      this.#tombstones.delete(entry.key);
      this.#values.set(entry.key, entry.value, { ttl: entry.ttlSec * 1000 });
    }
  }

  async tombstone(keys: readonly string[], value: string, ttlSec: number): Promise<void> {
    const expiresAt = Date.now() + ttlSec * 1000;
    for (const key of keys) {
      this.#values.delete(key);
      this.#tombstones.set(key, { value, expiresAt });
    }
    if (this.#tombstones.size >= SWEEP_AT) this.#sweep();
  }

  async clear(prefix: string): Promise<void> {
    for (const key of [...this.#values.keys()]) if (key.startsWith(prefix)) this.#values.delete(key);
    for (const key of [...this.#tombstones.keys()]) if (key.startsWith(prefix)) this.#tombstones.delete(key);
  }

  async close(): Promise<void> {
    this.#values.clear();
    this.#tombstones.clear();
  }

  #read(key: string): string | null {
    const tombstone = this.#tombstones.get(key);
    if (tombstone) {
      if (tombstone.expiresAt > Date.now()) return tombstone.value;
      this.#tombstones.delete(key);
    }
    return this.#values.get(key) ?? null;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, t] of this.#tombstones) if (t.expiresAt <= now) this.#tombstones.delete(key);
  }
}
