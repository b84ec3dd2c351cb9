import { throttledErrorLog } from '../log/index.ts';
import type { Backend, PubSubMechanism } from './backend.ts';
import { assertTopic, encodePayload } from './envelope.ts';
import { PubSubError } from './errors.ts';
import { Hub } from './hub.ts';
import { MemoryBackend } from './memory-backend.ts';
import { PostgresBackend, type PostgresPubSubMode } from './postgres-backend.ts';
import { RedisBackend } from './redis-backend.ts';

export interface PubSubOptions {
  /**
   * Redis URL (`REDIS_URL`): every replica using the same URL and `keyPrefix` hears every publish.
   * Wins over `databaseUrl`.
   */
  redisUrl?: string;
  /**
   * First segment of the Redis channels (`<keyPrefix>:pubsub:<topic>`); give each stack sharing a Redis its own.
   * @default 'tollgate'
   */
  keyPrefix?: string;
  /**
   * PostgreSQL URL (`DATABASE_URL`), used when there is no `redisUrl`: every replica on the same database
   * hears every publish (LISTEN/NOTIFY, or the polled outbox table on the embedded server).
   */
  databaseUrl?: string;
  /**
   * How PostgreSQL carries messages: `notify` (LISTEN/NOTIFY), `outbox` (rows in
   * `public.tollgate_pubsub_events`, polled), or `auto`: NOTIFY when a probe sent at start comes back on
   * another connection within a second, the outbox otherwise (the embedded PGlite server runs every
   * connection on one session, so its notifications reach only the connection that sent them).
   * @default 'auto'
   */
  postgresMode?: PostgresPubSubMode;
  /**
   * How often the outbox is polled while this process has subscribers.
   * @default 150
   */
  pollIntervalMs?: number;
  /**
   * Payloads one subscription holds unread; when full the oldest is dropped.
   * @default 1000
   */
  maxQueued?: number;
  /**
   * Called with failures no caller sees (lost connections, failed polls, a filter that threw).
   * @default a console.error at most once every 10 s
   */
  onError?: (err: Error) => void;
}

export interface SubscribeOptions<T> {
  /** Only payloads it returns true for reach this subscription (and take room in its queue). */
  filter?: (payload: T) => boolean;
}

/** Topics, each a stream of JSON payloads, shared by every replica on the same backend. */
export interface PubSub {
  /** Open subscriptions in this process. */
  readonly subscriptions: number;
  /** The transport, once started. */
  mechanism(): Promise<PubSubMechanism>;
  /**
   * Sends `payload` (JSON-serialisable) to every subscriber of `topic` on every replica, this one included.
   * Rejects with `PubSubError` (`PUBSUB_UNAVAILABLE`, `PUBSUB_CLOSED`) when it could not be sent.
   */
  publish(topic: string, payload: unknown): Promise<void>;
  /**
   * The payloads published to `topic` from about now on, as a copy decoded from JSON (read-only: one
   * copy is shared by this process's subscribers). `return()` ends it and frees its place. A slow reader's
   * queue keeps the newest `maxQueued` payloads and drops older ones. Await `listening()` to know that
   * nothing published from then on can be missed.
   */
  subscribe<T = unknown>(topic: string, options?: SubscribeOptions<T>): AsyncIterableIterator<T>;
  /** Resolves once the backend delivers everything published from now on to the current subscriptions. */
  listening(): Promise<void>;
  /** Ends every subscription (after what it has queued) and closes the connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * A pub/sub on Redis when `redisUrl` is given, else on PostgreSQL when `databaseUrl` is, else in this
 * process only (a single replica, tests). Delivery is at most once: a replica whose connection is down
 * misses what is published meanwhile.
 */
export function createPubSub(options: PubSubOptions = {}): PubSub {
  return new BackedPubSub(options);
}

class BackedPubSub implements PubSub {
  readonly #hub: Hub;
  readonly #backend: Backend;
  #closed: Promise<void> | undefined;

  constructor(options: PubSubOptions) {
    const maxQueued = options.maxQueued ?? 1000;
    const pollIntervalMs = options.pollIntervalMs ?? 150;
    if (!Number.isInteger(maxQueued) || maxQueued < 1)
      throw new RangeError(`pubsub maxQueued must be a positive integer, got ${String(maxQueued)}`);
    if (!Number.isFinite(pollIntervalMs) || pollIntervalMs < 10)
      throw new RangeError(`pubsub pollIntervalMs must be at least 10, got ${String(pollIntervalMs)}`);
    const mode = options.postgresMode ?? 'auto';
    if (!['auto', 'notify', 'outbox'].includes(mode))
      throw new TypeError(`pubsub postgresMode must be auto, notify or outbox, got ${String(mode)}`);
    const onError = options.onError ?? throttledErrorLog('pubsub');
    this.#hub = new Hub({ maxQueued, onActive: (active) => this.#backend.setActive(active), onError });
    const deliver = (topic: string, payload: unknown) => this.#hub.deliver(topic, payload);
    const has = (topic: string) => this.#hub.has(topic);
    if (options.redisUrl) {
      this.#backend = new RedisBackend(options.redisUrl, options.keyPrefix ?? 'tollgate', deliver, has);
    } else if (options.databaseUrl) {
      this.#backend = new PostgresBackend({
        url: options.databaseUrl,
        mode,
        pollIntervalMs,
        deliver,
        has,
        onError,
      });
    } else {
      this.#backend = new MemoryBackend(deliver);
    }
  }

  get subscriptions(): number {
    return this.#hub.size;
  }

  mechanism(): Promise<PubSubMechanism> {
    return this.#backend.mechanism();
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    assertTopic(topic);
    const json = encodePayload(payload);
    if (this.#closed) throw new PubSubError('PUBSUB_CLOSED', 'pubsub is closed');
    await this.#backend.publish(topic, json);
  }

  subscribe<T = unknown>(topic: string, options: SubscribeOptions<T> = {}): AsyncIterableIterator<T> {
    assertTopic(topic);
    return this.#hub.subscribe<T>(topic, options);
  }

  listening(): Promise<void> {
    if (this.#closed) return Promise.reject(new PubSubError('PUBSUB_CLOSED', 'pubsub is closed'));
    return this.#backend.listening();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#hub.close();
      await this.#backend.close();
    })();
    return this.#closed;
  }
}
