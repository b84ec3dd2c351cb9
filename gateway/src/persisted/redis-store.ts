import { Redis } from 'ioredis';
import type { DocumentStore } from './store.ts';

export interface RedisDocumentStoreOptions {
  /** Connection URL, e.g. `redis://127.0.0.1:6379/0`. */
  url: string;
  /** @default 'tollgate:pq:' */
  keyPrefix?: string;
  /**
   * Upper bound of one command in ms, a wait for the connection included; after it the call rejects
   * (`PERSISTED_STORE_UNAVAILABLE`) and the tiered store answers from memory.
   * @default 50
   */
  timeoutMs?: number;
}

export interface RedisDocumentStore extends DocumentStore {
  close(): Promise<void>;
}

/** Stable code of a Redis call that failed or timed out. */
export const PERSISTED_STORE_UNAVAILABLE = 'PERSISTED_STORE_UNAVAILABLE';

class StoreUnavailableError extends Error {
  readonly code = PERSISTED_STORE_UNAVAILABLE;
}

/** Persisted query texts in Redis (`SET key text EX ttl`), shared by every gateway instance. */
export function createRedisDocumentStore(options: RedisDocumentStoreOptions): RedisDocumentStore {
  const prefix = options.keyPrefix ?? 'tollgate:pq:';
  const timeoutMs = options.timeoutMs ?? 50;
  const client = new Redis(options.url, {
    // Fail fast while disconnected rather than queue: a lookup that waits is worse than a miss.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1_000,
    socketTimeout: 1_000,
    retryStrategy: (times) => Math.min(times * 50, 1_000),
    connectionName: 'tollgate-persisted-queries',
  });
  client.on('error', () => {}); // reported per call by the tiered store
  // Waits for a connection in progress (the first calls after start); fails fast while Redis is known down.
  const whenReady = (): Promise<void> => {
    if (client.status === 'ready') return Promise.resolve();
    if (client.status !== 'wait' && client.status !== 'connecting' && client.status !== 'connect')
      return Promise.reject(new Error(`Redis connection is ${client.status}`));
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        client.off('ready', onReady);
        client.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onClose = () => settle(new Error('Redis connection closed'));
      client.once('ready', onReady);
      client.once('close', onClose);
    });
  };
  const bounded = <T>(what: string, run: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    return Promise.race([
      whenReady()
        .then(() => {
          if (late) throw new Error('abandoned after its deadline');
          return run();
        })
        .catch((error: unknown) => {
          throw new StoreUnavailableError(`persisted queries ${what}: ${(error as Error).message}`);
        }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          late = true;
          reject(new StoreUnavailableError(`persisted queries ${what}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  return {
    async get(key) {
      const value = await bounded('get', () => client.get(prefix + key));
      return value ?? undefined;
    },
    async set(key, value, setOptions) {
      const ttl = setOptions?.ttl;
      await bounded('set', () =>
        ttl ? client.set(prefix + key, value, 'EX', Math.ceil(ttl)) : client.set(prefix + key, value),
      );
    },
    async delete(key) {
      return (await bounded('delete', () => client.del(prefix + key))) > 0;
    },
    async close() {
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 200).unref()),
      ]);
      client.disconnect();
    },
  };
}
