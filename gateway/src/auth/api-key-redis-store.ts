import { Redis } from 'ioredis';
import { type ApiKeyRecord, type ApiKeyStore, apiKeyRecordSchema } from './api-key.ts';

export interface RedisApiKeyStoreOptions {
  /**
   * An ioredis client, which the caller keeps and closes; or a Redis URL, for which the store opens
   * its own client and closes it in `close()`.
   */
  redis: Redis | string;
  /**
   * Key prefix: each record is the hash `<prefix><sha256>`, and `<prefix>ids` maps record id → sha256
   * (used by revoke and list; it cannot clash with a 64-hex-digit hash).
   * @default 'tollgate:apikey:'
   */
  prefix?: string;
}

// Revoke only an existing record, and only once: HSETNX alone would create a stray hash for a record
// deleted in between.
const REVOKE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1])
  return 1
end
return 0`;

class RedisStore implements ApiKeyStore {
  #redis: Redis;
  #owned: boolean;
  #prefix: string;

  constructor(options: RedisApiKeyStoreOptions) {
    this.#owned = typeof options.redis === 'string';
    // Own client: fail a command after one reconnect attempt rather than queue it for long; a request
    // whose key cannot be checked must fail, not hang. Not the stores' RedisConnection (@tollgate/kit/redis)
    // on purpose: a key check has no fallback to fail fast to, so it may wait for a connection in
    // progress (offline queue on) instead of failing at a deadline, and the caller may bring its client.
    this.#redis =
      typeof options.redis === 'string'
        ? new Redis(options.redis, { maxRetriesPerRequest: 1 })
        : options.redis;
    this.#prefix = options.prefix ?? 'tollgate:apikey:';
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return decode(await this.#redis.hgetall(this.#prefix + hash));
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    const fields: Record<string, string> = {
      id: record.id,
      name: record.name,
      hash: record.hash,
      scopes: JSON.stringify(record.scopes),
      plan: record.plan,
      createdAt: record.createdAt,
      ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }),
    };
    const results = await this.#redis
      .multi()
      .hset(this.#prefix + record.hash, fields)
      .hset(`${this.#prefix}ids`, record.id, record.hash)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('api key store: transaction aborted');
  }

  async revoke(id: string, revokedAt: string): Promise<ApiKeyRecord | undefined> {
    const hash = await this.#redis.hget(`${this.#prefix}ids`, id);
    if (!hash) return undefined;
    await this.#redis.eval(REVOKE_SCRIPT, 1, this.#prefix + hash, revokedAt);
    return this.findByHash(hash);
  }

  async list(): Promise<ApiKeyRecord[]> {
    const hashes = Object.values(await this.#redis.hgetall(`${this.#prefix}ids`));
    if (hashes.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const hash of hashes) pipeline.hgetall(this.#prefix + hash);
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, value]) => {
      if (err) throw err;
      const record = decode(value as Record<string, string>);
      return record ? [record] : [];
    });
  }

  async close(): Promise<void> {
    if (this.#owned && this.#redis.status !== 'end') await this.#redis.quit();
  }
}

function decode(fields: Record<string, string>): ApiKeyRecord | undefined {
  if (fields.id === undefined) return undefined;
  let scopes: unknown;
  try {
    scopes = JSON.parse(fields.scopes ?? '[]');
  } catch {
    scopes = undefined;
  }
  const parsed = apiKeyRecordSchema.safeParse({ ...fields, scopes });
  // A corrupt record is a store fault, not an unknown key: fail the request rather than answer 401.
  if (!parsed.success) throw new Error(`api key store: corrupt record ${fields.id}`);
  return Object.freeze({ ...parsed.data, scopes: Object.freeze(parsed.data.scopes) });
}

/** An API key store in Redis, shared by every gateway instance. */
export function createRedisApiKeyStore(options: RedisApiKeyStoreOptions): ApiKeyStore {
  return new RedisStore(options);
}
