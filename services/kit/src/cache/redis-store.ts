import { Redis } from 'ioredis';
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
  #client: Redis;
  #timeoutMs: number;
  #closed = false;
  #lastError: unknown;
  #readyWait: Promise<void> | undefined;

  constructor(options: RedisStoreOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#client = new Redis(options.url, {
      // Leave the next three intact: a command queued while Redis is away, or retried, would hold a
      // request up, and a tombstone or fill replayed after a reconnect could land out of order.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // No ioredis commandTimeout: #run's deadline does that job, and unlike a plain timer it lets a reply
      // that is already on the socket win over event-loop lag. A hung connection (sent, heard nothing for
      // a second) is dropped and re-dialled instead, which also fails whatever it still had queued.
      socketTimeout: Math.max(options.timeoutMs * 20, 1000),
      connectTimeout: options.connectTimeoutMs,
      // Reconnect for ever, but notice a recovered Redis within about a second.
      retryStrategy: (times) => Math.min(times * 50, 1000),
      connectionName: 'tollgate-cache',
    });
    // Without a listener ioredis prints every connection error; the cache reports its own failures.
    this.#client.on('error', (err: unknown) => {
      this.#lastError = err;
    });
    this.#client.defineCommand('tollgateCasFill', { numberOfKeys: 1, lua: CAS_FILL_SCRIPT });
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    if (client.status === 'ready') {
      // QUIT lets sent fills finish; bounded, because a hung server would never answer it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(this.#timeoutMs, 100));
        }),
      ]);
      clearTimeout(timer);
    }
    client.disconnect();
  }

  // One deadline covers waiting for a connection in progress plus the round trip.
  async #run<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new CacheStoreError('CACHE_UNAVAILABLE', 'cache store is closed');
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    const attempt = this.#whenReady().then(() => {
      // The caller has gone to the database: a late fill or tombstone would race newer ones.
      if (timedOut) throw new CacheStoreError('CACHE_TIMEOUT', `cache ${what} abandoned after its deadline`);
      return op();
    });
    // The loser of the race below must not surface as an unhandled rejection.
    attempt.catch(() => undefined);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        // Timers run before I/O in each loop turn: on a busy loop the reply may already be waiting on the
        // socket. Give it that one turn, so event-loop lag is not blamed on Redis (and 100 concurrent
        // requests do not all fall through to the database at once).
        immediate = setImmediate(() =>
          reject(
            new CacheStoreError(
              'CACHE_TIMEOUT',
              `cache ${what}: Redis did not answer within ${this.#timeoutMs} ms`,
              {
                cause: this.#lastError,
              },
            ),
          ),
        );
      }, this.#timeoutMs);
    });
    try {
      return await Promise.race([attempt, deadline]);
    } catch (err) {
      if (err instanceof CacheStoreError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new CacheStoreError('CACHE_UNAVAILABLE', `cache ${what}: ${message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      clearImmediate(immediate);
    }
  }

  // Fails fast while ioredis knows Redis is down (reconnecting); waits only for a connection in progress.
  #whenReady(): Promise<void> {
    const client = this.#client;
    switch (client.status) {
      case 'ready':
        return Promise.resolve();
      case 'wait':
      case 'connecting':
      case 'connect':
        this.#readyWait ??= new Promise<void>((resolve, reject) => {
          const settle = (err?: Error) => {
            client.off('ready', onReady);
            client.off('close', onClose);
            client.off('end', onClose);
            this.#readyWait = undefined;
            if (err) reject(err);
            else resolve();
          };
          const onReady = () => settle();
          const onClose = () =>
            settle(
              new CacheStoreError('CACHE_UNAVAILABLE', 'Redis connection closed before it was ready', {
                cause: this.#lastError,
              }),
            );
          client.on('ready', onReady);
          client.on('close', onClose);
          client.on('end', onClose);
        });
        return this.#readyWait;
      default:
        return Promise.reject(
          new CacheStoreError('CACHE_UNAVAILABLE', `Redis unavailable (connection ${client.status})`, {
            cause: this.#lastError,
          }),
        );
    }
  }
}

function throwFirst(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('pipeline was discarded');
  for (const [err] of results) if (err) throw err;
}
