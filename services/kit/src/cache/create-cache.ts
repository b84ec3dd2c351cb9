import { randomUUID } from 'node:crypto';
import { throttledErrorLog } from '../log/index.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRedisStore } from './redis-store.ts';
import type { CacheStore, FillEntry } from './store.ts';

export interface CacheOptions {
  /**
   * Redis URL (`REDIS_URL`). With it every replica that uses the same URL and `keyPrefix` shares one
   * cache and sees the others' invalidations; without it the cache is an LRU in this process, which is
   * only coherent when this process is the service's only replica.
   * @default undefined (in-process LRU)
   */
  redisUrl?: string;
  /**
   * First segment of every key: `<keyPrefix>:<service>:<type>:<hash>:<key>`.
   * @default 'tollgate'
   */
  keyPrefix?: string;
  /**
   * Entries the in-process LRU keeps (ignored with Redis).
   * @default 10_000
   */
  maxEntries?: number;
  /**
   * Upper bound in ms of one Redis call. After it the batch reads the database as if the cache were empty,
   * so a slow or absent Redis costs each batch at most this much.
   * @default 50
   */
  timeoutMs?: number;
  /**
   * Redis TCP connect timeout in ms.
   * @default 1000
   */
  connectTimeoutMs?: number;
  /**
   * How long an invalidated key stays marked (seconds). A read that began before the write and takes
   * longer than half of this does not fill the cache, so keep it well above a slow query.
   * @default 5
   */
  tombstoneSec?: number;
  /**
   * Told about failed cache calls (the request goes on from the database).
   * @default at most one line on stderr every 10 s
   */
  onError?: (err: Error) => void;
}

/** One load from the source for the keys the cache could not answer. */
export interface ReadThroughRequest<V> {
  /** `<service>:<type>:<hash>`, so entries of different loaders and code versions never meet. */
  namespace: string;
  keys: readonly string[];
  ttlSec: number;
  /** Loads the keys at these positions from the source, one value per position, in order. */
  fetch(positions: readonly number[]): Promise<V[]>;
}

export interface ReadThroughResult<V> {
  /** One value per key, in key order. */
  values: V[];
  /** Keys answered from the cache. */
  hits: number;
  /** Keys answered by another request's database read in flight (single-flight). */
  joined: number;
  /** Keys this call read from the source. */
  fetched: number;
  /** The cache could not be asked (down, slow, or a failed invalidation pending); the source answered. */
  bypassed: boolean;
}

/**
 * The read-through cache one replica's loaders share. Create one per process (or per in-process replica
 * in tests) and close it after the subgraph.
 */
export interface Cache {
  readonly backend: 'memory' | 'redis';
  readonly keyPrefix: string;
  /** Answers keys from the cache, joins reads in flight for the same keys, and loads the rest once. */
  readThrough<V>(request: ReadThroughRequest<V>): Promise<ReadThroughResult<V>>;
  /**
   * Marks keys as changed after a write has committed. Resolves once no reader of any replica can get
   * the old value from the cache; resolves `false` (never rejects) when the cache could not be told, in
   * which case this replica bypasses those keys and retries until their TTL has passed.
   */
  invalidate(namespace: string, keys: readonly string[], ttlSec: number): Promise<boolean>;
  /** Deletes every entry under `keyPrefix` (tests, or a manual flush). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** A shared read-through cache: Redis when `redisUrl` is given, an in-process LRU otherwise. */
export function createCache(options: CacheOptions = {}): Cache {
  return new SharedCache(options);
}

/** The same cache over a given store (tests: stores that fail or stall on cue). Not exported by the kit. */
export function createCacheWithStore(store: CacheStore, options: Omit<CacheOptions, 'redisUrl'> = {}): Cache {
  return new SharedCache(options, store);
}

interface Flight {
  key: string;
  /** When its statement was sent; its snapshot is no older than this. */
  startedAt: number;
  /** What the reader saw in the cache: `null` nothing, a tombstone, or `undefined` when it could not look. */
  seen: string | null | undefined;
  value: Promise<unknown>;
}

// Values and tombstones share a key; the first character tells them apart.
const VALUE = 'v';
const TOMBSTONE = 't';
const RETRY_MS = 500;

class SharedCache implements Cache {
  readonly backend: 'memory' | 'redis';
  readonly keyPrefix: string;
  #store: CacheStore;
  #tombstoneMs: number;
  #onError: (err: Error) => void;
  // Reads in flight by key (single-flight). Who may join which is decided in #joinable.
  #flights = new Map<string, Flight[]>();
  // Invalidations the cache did not take, by key, with when their last pre-write entry has expired.
  #pending = new Map<string, number>();
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CacheOptions, store?: CacheStore) {
    this.keyPrefix = nonEmpty(options.keyPrefix ?? 'tollgate', 'keyPrefix');
    const tombstoneSec = positiveInteger(options.tombstoneSec ?? 5, 'tombstoneSec');
    this.#tombstoneMs = tombstoneSec * 1000;
    const timeoutMs = positiveInteger(options.timeoutMs ?? 50, 'timeoutMs');
    this.#store =
      store ??
      (options.redisUrl
        ? createRedisStore({
            url: options.redisUrl,
            timeoutMs,
            connectTimeoutMs: positiveInteger(options.connectTimeoutMs ?? 1000, 'connectTimeoutMs'),
          })
        : createMemoryStore({ maxEntries: positiveInteger(options.maxEntries ?? 10_000, 'maxEntries') }));
    this.backend = this.#store.backend;
    this.#onError = options.onError ?? throttledErrorLog('loader cache', ' (answering from the database)');
  }

  async readThrough<V>({
    namespace,
    keys,
    ttlSec,
    fetch,
  }: ReadThroughRequest<V>): Promise<ReadThroughResult<V>> {
    const askedAt = performance.now();
    const cacheKeys = keys.map((k) => this.#key(namespace, k));
    const pending = this.#pending.size > 0 && cacheKeys.some((k) => this.#pending.has(k));
    // Without the cache's view (down, slow, or a failed invalidation pending) nothing is filled, and
    // only reads that began after this one are joined: their snapshot is newer than any write this
    // request could have been told about.
    const seen = pending ? undefined : await this.#get(cacheKeys);

    const values = new Array<V>(keys.length);
    const joins: Promise<void>[] = [];
    const misses: number[] = [];
    let hits = 0;
    for (let i = 0; i < keys.length; i++) {
      const raw = seen === undefined ? undefined : (seen[i] ?? null);
      if (raw?.startsWith(VALUE)) {
        try {
          values[i] = JSON.parse(raw.slice(1)) as V;
          hits++;
          continue;
        } catch {
          // An unreadable entry is a miss; the fill below replaces it (it expects exactly this raw value).
        }
      }
      const flight = this.#joinable(cacheKeys[i]!, raw, askedAt);
      if (flight) {
        joins.push(
          (flight.value as Promise<V>).then((v) => {
            values[i] = v;
          }),
        );
      } else {
        misses.push(i);
      }
    }

    if (misses.length > 0) {
      const startedAt = performance.now();
      const loaded = fetch(misses);
      const mine = misses.map((i, j): Flight => {
        const flight: Flight = {
          key: cacheKeys[i]!,
          startedAt,
          seen: seen === undefined ? undefined : (seen[i] ?? null),
          value: loaded.then((vs) => vs[j]),
        };
        // Joiners attach their own handlers; this one only keeps an unjoined failure from being unhandled.
        flight.value.catch(() => undefined);
        const list = this.#flights.get(flight.key);
        if (list) list.push(flight);
        else this.#flights.set(flight.key, [flight]);
        return flight;
      });
      let loadedValues: V[];
      try {
        loadedValues = await loaded;
      } catch (err) {
        this.#land(mine);
        throw err;
      }
      misses.forEach((i, j) => {
        values[i] = loadedValues[j] as V;
      });
      // Leave this guard intact: a read older than half the tombstone's life may predate a write whose
      // tombstone has already expired, and filling it would resurrect pre-write rows.
      if (seen !== undefined && performance.now() - startedAt < this.#tombstoneMs / 2) {
        const entries: FillEntry[] = misses.map((i, j) => ({
          key: cacheKeys[i]!,
          value: VALUE + JSON.stringify(loadedValues[j] ?? null),
          expected: seen[i] ?? null,
          ttlSec,
        }));
        // Not awaited: the answer is ready. The flights stay joinable until the fill has landed, so a
        // concurrent request that missed just before it joins this read instead of sending its own.
        this.#store
          .fill(entries)
          .catch((err: unknown) => this.#report(err))
          .finally(() => this.#land(mine));
      } else {
        this.#land(mine);
      }
    }
    await Promise.all(joins);
    return { values, hits, joined: joins.length, fetched: misses.length, bypassed: seen === undefined };
  }

  async invalidate(namespace: string, keys: readonly string[], ttlSec: number): Promise<boolean> {
    const cacheKeys = [...new Set(keys.map((k) => this.#key(namespace, k)))];
    // Later readers would not join these reads anyway (they see the new tombstone, not what these saw);
    // dropping them now also covers a tombstone that fails to land.
    for (const key of cacheKeys) this.#flights.delete(key);
    try {
      await this.#store.tombstone(cacheKeys, TOMBSTONE + randomUUID(), this.#tombstoneMs / 1000);
      return true;
    } catch (err) {
      this.#report(err);
      // Entries filled before the write live at most ttlSec more; until then keep telling the cache.
      const until = Date.now() + ttlSec * 1000;
      for (const key of cacheKeys) this.#pending.set(key, Math.max(until, this.#pending.get(key) ?? 0));
      this.#scheduleRetry();
      return false;
    }
  }

  clear(): Promise<void> {
    return this.#store.clear(`${this.keyPrefix}:`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#store.close();
  }

  #key(namespace: string, key: string): string {
    return `${this.keyPrefix}:${namespace}:${key}`;
  }

  async #get(keys: readonly string[]): Promise<(string | null)[] | undefined> {
    try {
      return await this.#store.get(keys);
    } catch (err) {
      this.#report(err);
      return undefined;
    }
  }

  /**
   * A read in flight this one may share. Leave both rules intact, they are what keeps single-flight
   * from serving pre-write rows: a read that saw the same thing in the cache (nothing, or the same
   * tombstone) saw no write land since, and a read that began after this one asked cannot be older
   * than any write this request could know of.
   */
  #joinable(key: string, seen: string | null | undefined, askedAt: number): Flight | undefined {
    const list = this.#flights.get(key);
    if (!list) return undefined;
    const now = performance.now();
    return list.find(
      (f) =>
        f.startedAt >= askedAt ||
        (seen !== undefined && f.seen === seen && now - f.startedAt < this.#tombstoneMs / 2),
    );
  }

  // Forgets flights once their fill has landed (or failed).
  #land(flights: readonly Flight[]): void {
    for (const flight of flights) {
      const list = this.#flights.get(flight.key);
      const at = list?.indexOf(flight) ?? -1;
      if (at < 0) continue;
      list!.splice(at, 1);
      if (list!.length === 0) this.#flights.delete(flight.key);
    }
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#retry();
    }, RETRY_MS);
    // A replica shutting down must not wait for a cache that is gone.
    this.#retryTimer.unref();
  }

  async #retry(): Promise<void> {
    const now = Date.now();
    for (const [key, until] of this.#pending) if (until <= now) this.#pending.delete(key);
    const keys = [...this.#pending.keys()];
    if (keys.length === 0) return;
    try {
      await this.#store.tombstone(keys, TOMBSTONE + randomUUID(), this.#tombstoneMs / 1000);
      for (const key of keys) this.#pending.delete(key);
    } catch {
      // Still down; the first failure was reported.
    }
    if (this.#pending.size > 0) this.#scheduleRetry();
  }

  #report(err: unknown): void {
    try {
      this.#onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // A failing reporter must not fail the request either.
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`cache ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function nonEmpty(value: string, name: string): string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`cache ${name} must be a non-empty string`);
  return value;
}
