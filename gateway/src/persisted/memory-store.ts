import type { DocumentStore } from './store.ts';

export interface MemoryDocumentStoreOptions {
  /**
   * Bound on the texts and keys kept, in bytes (UTF-16: two per character); the least recently used go
   * first. A text larger than the bound is not kept.
   * @default 33554432 (32 MiB)
   */
  maxBytes?: number;
  /** Clock in ms, for tests. @default Date.now */
  now?: () => number;
}

export interface MemoryDocumentStore extends DocumentStore {
  /** Entries and bytes held now. */
  stats(): { entries: number; bytes: number };
}

interface Entry {
  value: string;
  bytes: number;
  expiresAt: number;
}

/** An in-process LRU of persisted query texts, bounded in bytes, honouring per-entry TTLs. */
export function createMemoryDocumentStore(options: MemoryDocumentStoreOptions = {}): MemoryDocumentStore {
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new RangeError('maxBytes must be a positive number');
  const now = options.now ?? Date.now;
  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const remove = (key: string) => {
    const e = entries.get(key);
    if (!e) return false;
    entries.delete(key);
    bytes -= e.bytes;
    return true;
  };
  return {
    async get(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      if (e.expiresAt <= now()) {
        remove(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, e);
      return e.value;
    },
    async set(key, value, setOptions) {
      remove(key);
      const size = (key.length + value.length) * 2;
      if (size > maxBytes) return;
      const ttl = setOptions?.ttl;
      entries.set(key, {
        value,
        bytes: size,
        expiresAt: ttl ? now() + ttl * 1000 : Number.POSITIVE_INFINITY,
      });
      bytes += size;
      for (const oldest of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
    async delete(key) {
      return remove(key);
    },
    stats: () => ({ entries: entries.size, bytes }),
  };
}
