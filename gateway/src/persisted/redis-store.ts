import { RedisConnection, type RedisDeadline, type RedisFailure } from '@tollgate/kit/redis';
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
  const redis = new RedisConnection({
    url: options.url,
    connectionName: 'tollgate-persisted-queries',
    // A document SET again after a reconnect stores the same text under the same hash: harmless.
    resendAfterReconnect: true,
    connectTimeoutMs: 1_000,
    socketTimeoutMs: 1_000,
  });
  const client = redis.client;
  // The persisted queries' failure rule: a lookup that waits is worse than a miss. Every failure
  // (Redis down, no answer within timeoutMs, an error reply) is PERSISTED_STORE_UNAVAILABLE, which the
  // tiered store answers from memory and reports per call.
  const deadline: RedisDeadline = {
    timeoutMs,
    graceTurn: false,
    fail: (failure, what) => new StoreUnavailableError(`persisted queries ${what}: ${reason(failure)}`),
  };
  const reason = (failure: RedisFailure): string => {
    switch (failure.kind) {
      case 'down':
        return `Redis connection is ${failure.status}`;
      case 'lost':
        return 'Redis connection closed';
      case 'abandoned':
        return 'abandoned after its deadline';
      case 'deadline':
        return `no answer within ${timeoutMs} ms`;
      case 'command':
        return (failure.error as Error).message;
    }
  };
  const bounded = <T>(what: string, run: () => Promise<T>): Promise<T> => redis.run(what, run, deadline);
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
    close: () => redis.close(200),
  };
}
