/**
 * Where shared cache entries live: one in-process LRU or one Redis. Both hold opaque strings; the
 * read-through logic in `create-cache.ts` decides what they mean (a `v` value or a `t` tombstone).
 */
export interface CacheStore {
  readonly backend: 'memory' | 'redis';
  /** The raw entry of every key, `null` where there is none, in one round trip (`MGET`). */
  get(keys: readonly string[]): Promise<(string | null)[]>;
  /**
   * Writes each entry only if its key still holds `expected` (`null`: nothing), in one pipelined round
   * trip. The compare is what keeps a read that began before a write from filling after it.
   */
  fill(entries: readonly FillEntry[]): Promise<void>;
  /** Overwrites every key with `value` for `ttlSec` seconds, whatever it held. */
  tombstone(keys: readonly string[], value: string, ttlSec: number): Promise<void>;
  /** Removes every key that starts with `prefix` (tests and operators; not on the request path). */
  clear(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export interface FillEntry {
  key: string;
  value: string;
  /** What the reader saw before it went to the database; the fill is dropped if that changed. */
  expected: string | null;
  ttlSec: number;
}

/** A store call that failed or ran out of time; the caller falls back to the database. */
export class CacheStoreError extends Error {
  readonly code: 'CACHE_UNAVAILABLE' | 'CACHE_TIMEOUT';

  constructor(code: 'CACHE_UNAVAILABLE' | 'CACHE_TIMEOUT', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheStoreError';
    this.code = code;
  }
}
