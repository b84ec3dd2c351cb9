import type { Redis } from 'ioredis';
import { RedisConnection, type RedisDeadline } from '../redis/index.ts';
import { type CacheStore, CacheStoreError, type FillEntry } from './store.ts';

export interface RedisStoreOptions {
  /** e.g. `redis://127.0.0.1:6379/0` (`rediss://` for TLS). */
  url: string;
  /** Upper bound in ms of one call, including any wait for a connection in progress. */
  timeoutMs: number;
  /** TCP connect timeout in ms. */
  connectTimeoutMs: number;
}

// Replaces the entry only if it still holds what the reader saw (a tombstone): a write that landed
// while the reader was at the database leaves a different tombstone, and the stale fill is dropped.
const CAS_FILL_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
`;

type CasFill = (key: string, expected: string, value: string, ttlSec: number) => unknown;

/** The shared cache of every replica that uses the same Redis and key prefix. */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  return new RedisStore(options);
}

class RedisStore implements CacheStore {
  readonly backend = 'redis';
  #redis: RedisConnection;
  #client: Redis;
  #timeoutMs: number;
  #deadline: RedisDeadline;

  constructor(options: RedisStoreOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#redis = new RedisConnection({
      url: options.url,
      connectionName: 'tollgate-cache',
      // Leave this intact: a tombstone or fill replayed after a reconnect could land out of order.
      resendAfterReconnect: false,
      // No ioredis commandTimeout: the deadline below does that job, and unlike a plain timer it lets a
      // reply that is already on the socket win over event-loop lag. A hung connection (sent, heard nothing
      // for a second) is dropped and re-dialled instead, which also fails whatever it still had queued.
      socketTimeoutMs: Math.max(options.timeoutMs * 20, 1000),
      connectTimeoutMs: options.connectTimeoutMs,
    });
    this.#client = this.#redis.client;
    this.#client.defineCommand('tollgateCasFill', { numberOfKeys: 1, lua: CAS_FILL_SCRIPT });
    // The cache's failure rule: never fill stale data. A call that missed its deadline sends nothing
    // (the caller has gone to the database: a late fill or tombstone would race newer ones), and every
    // failure is a CacheStoreError the cache answers by reading the database instead.
    this.#deadline = {
      timeoutMs: options.timeoutMs,
      // Give a reply already on the socket one loop turn, so event-loop lag is not blamed on Redis (and
      // 100 concurrent requests do not all fall through to the database at once).
      graceTurn: true,
      fail: (failure, what) => {
        switch (failure.kind) {
          case 'deadline':
            return new CacheStoreError(
              'CACHE_TIMEOUT',
              `cache ${what}: Redis did not answer within ${this.#timeoutMs} ms`,
              { cause: failure.lastError },
            );
          case 'abandoned':
            return new CacheStoreError('CACHE_TIMEOUT', `cache ${what} abandoned after its deadline`);
          case 'down':
            return new CacheStoreError(
              'CACHE_UNAVAILABLE',
              `Redis unavailable (connection ${failure.status})`,
              {
                cause: failure.lastError,
              },
            );
          case 'lost':
            return new CacheStoreError('CACHE_UNAVAILABLE', 'Redis connection closed before it was ready', {
              cause: failure.lastError,
            });
          case 'command': {
            const err = failure.error;
            if (err instanceof CacheStoreError) return err;
            const message = err instanceof Error ? err.message : String(err);
            return new CacheStoreError('CACHE_UNAVAILABLE', `cache ${what}: ${message}`, { cause: err });
          }
        }
      },
    };
  }

  get(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#run('get', () => this.#client.mget(...keys));
  }

  async fill(entries: readonly FillEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#run('fill', async () => {
      const pipeline = this.#client.pipeline();
      for (const e of entries) {
        if (e.expected === null) pipeline.set(e.key, e.value, 'EX', e.ttlSec, 'NX');
        else
          (pipeline as unknown as { tollgateCasFill: CasFill }).tollgateCasFill(
            e.key,
            e.expected,
            e.value,
            e.ttlSec,
          );
      }
      throwFirst(await pipeline.exec());
    });
  }

  async tombstone(keys: readonly string[], value: string, ttlSec: number): Promise<void> {
    if (keys.length === 0) return;
    await this.#run('tombstone', async () => {
      const pipeline = this.#client.pipeline();
      for (const key of keys) pipeline.set(key, value, 'EX', ttlSec);
      throwFirst(await pipeline.exec());
    });
  }

  async clear(prefix: string): Promise<void> {
    // Escape glob characters so a prefix is matched literally.
    const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#client.scan(cursor, 'MATCH', match, 'COUNT', 500);
      if (keys.length > 0) await this.#client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  close(): Promise<void> {
    // QUIT lets sent fills finish.
    return this.#redis.close(Math.max(this.#timeoutMs, 100));
  }

  #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#redis.closed)
      return Promise.reject(new CacheStoreError('CACHE_UNAVAILABLE', 'cache store is closed'));
    return this.#redis.run(what, op, this.#deadline);
  }
}

function throwFirst(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('pipeline was discarded');
  for (const [err] of results) if (err) throw err;
}
