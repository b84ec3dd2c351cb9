import { Redis } from 'ioredis';
import { RedisConnection } from '../redis/index.ts';
import { type Backend, type Deliver, type PubSubMechanism, within } from './backend.ts';
import { PubSubError } from './errors.ts';

const PUBLISH_TIMEOUT_MS = 2000;
const LISTEN_TIMEOUT_MS = 5000;

/**
 * Redis PUBLISH / PSUBSCRIBE on `<keyPrefix>:pubsub:<topic>`: a dedicated subscriber connection (ioredis
 * subscribes it again after a reconnect) and a publisher with a deadline. Messages published while a
 * replica's subscriber connection is down do not reach it (Redis pub/sub keeps nothing).
 */
export class RedisBackend implements Backend {
  readonly #prefix: string;
  readonly #sub: Redis;
  readonly #pub: RedisConnection;
  readonly #subscribed: Promise<unknown>;

  constructor(url: string, keyPrefix: string, deliver: Deliver, has: (topic: string) => boolean) {
    this.#prefix = `${keyPrefix}:pubsub:`;
    this.#sub = new Redis(url, {
      connectionName: 'tollgate-pubsub-subscriber',
      retryStrategy: (times) => Math.min(times * 50, 1000),
      // A subscriber connection sends nothing per request: queueing PSUBSCRIBE until it connects is fine.
      maxRetriesPerRequest: null,
    });
    this.#sub.on('error', () => {});
    this.#sub.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const topic = channel.slice(this.#prefix.length);
      if (!has(topic)) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch {
        return;
      }
      deliver(topic, payload);
    });
    this.#subscribed = this.#sub.psubscribe(`${escapeGlob(this.#prefix)}*`);
    this.#subscribed.catch(() => {});
    this.#pub = new RedisConnection({
      url,
      connectionName: 'tollgate-pubsub-publisher',
      connectTimeoutMs: 2000,
      socketTimeoutMs: 5000,
      // Leave this intact: a PUBLISH resent after a reconnect would deliver the event twice.
      resendAfterReconnect: false,
    });
  }

  async mechanism(): Promise<PubSubMechanism> {
    return 'redis';
  }

  listening(): Promise<void> {
    return within(
      this.#subscribed.then(() => undefined),
      LISTEN_TIMEOUT_MS,
      () => new PubSubError('PUBSUB_UNAVAILABLE', `redis: not subscribed within ${LISTEN_TIMEOUT_MS} ms`),
    );
  }

  async publish(topic: string, payloadJson: string): Promise<void> {
    await this.#pub.run('publish', () => this.#pub.client.publish(this.#prefix + topic, payloadJson), {
      timeoutMs: PUBLISH_TIMEOUT_MS,
      graceTurn: true,
      fail: (failure, what) =>
        new PubSubError('PUBSUB_UNAVAILABLE', `redis ${what} failed (${failure.kind})`, { cause: failure }),
    });
  }

  setActive(): void {}

  async close(): Promise<void> {
    this.#sub.disconnect();
    await this.#pub.close(500);
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
