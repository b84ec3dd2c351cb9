import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AuthError } from './auth-error.ts';
import type { Principal } from './principal.ts';

/** What is stored about an API key. The key itself is never stored: only its SHA-256. */
export type ApiKeyRecord = {
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the whole key (`tg_…`), lowercase hex. */
  readonly hash: string;
  readonly scopes: readonly string[];
  readonly plan: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601; set once by revoke, never cleared. */
  readonly revokedAt?: string;
};

/**
 * Storage of API key records, looked up by hash. Implementations: `createFileApiKeyStore` (one JSON or
 * YAML file) and `createRedisApiKeyStore` (shared by every gateway instance).
 */
export interface ApiKeyStore {
  /** The record with this hash, revoked or not. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  insert(record: ApiKeyRecord): Promise<void>;
  /** Sets `revokedAt` unless already set; resolves to the stored record, or undefined for an unknown id. */
  revoke(id: string, revokedAt: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  close(): Promise<void>;
}

export interface CreateApiKeyInput {
  /** A label for people (“ci-bot”, “partner acme”). */
  name: string;
  /** @default [] */
  scopes?: readonly string[];
  plan: string;
}

export interface ApiKeyManagerOptions {
  store: ApiKeyStore;
}

export interface ApiKeyManager {
  /** Creates a key. `key` is returned this once and is stored nowhere; show it to the user and drop it. */
  createApiKey(input: CreateApiKeyInput): Promise<{ key: string; record: ApiKeyRecord }>;
  /** Revokes by record id; resolves to the record, or undefined when no key has this id. */
  revokeApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Resolves to an `apikey` principal (id = record id), or rejects with an `AuthError`. */
  verifyApiKey(key: string): Promise<Principal>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Closes the store. */
  close(): Promise<void>;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 43 base62 characters carry 256 bits. That entropy is also why a fast hash (SHA-256) is enough here:
// unlike passwords, these keys cannot be guessed, so a slow KDF would only cost latency per request.
const KEY_BODY_LENGTH = 43;
const KEY_PATTERN = /^tg_[0-9A-Za-z]{32,128}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Parses stored records (file or Redis). Internal to this folder. */
export const apiKeyRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  hash: z.string().regex(HASH_PATTERN, 'expected a lowercase hex SHA-256'),
  scopes: z.array(z.string()),
  plan: z.string().min(1),
  createdAt: z.string().min(1),
  revokedAt: z.string().min(1).optional(),
});

/** SHA-256 of a key, lowercase hex: the only form in which a key is stored or looked up. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: dropping larger bytes keeps every character equally likely (no modulo bias).
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

class Manager implements ApiKeyManager {
  #store: ApiKeyStore;

  constructor(options: ApiKeyManagerOptions) {
    this.#store = options.store;
  }

  async createApiKey(input: CreateApiKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (name.length === 0 || name.length > 200) throw new TypeError('apiKey.name: expected 1-200 characters');
    if (typeof input.plan !== 'string' || input.plan.length === 0)
      throw new TypeError('apiKey.plan: expected a plan name');
    const scopes = [...new Set(input.scopes ?? [])];
    if (scopes.some((s) => typeof s !== 'string' || !/^\S+$/.test(s))) {
      throw new TypeError('apiKey.scopes: expected scope names without spaces');
    }
    const key = `tg_${randomBase62(KEY_BODY_LENGTH)}`;
    const record: ApiKeyRecord = Object.freeze({
      id: randomUUID(),
      name,
      hash: hashApiKey(key),
      scopes: Object.freeze(scopes),
      plan: input.plan,
      createdAt: new Date().toISOString(),
    });
    await this.#store.insert(record);
    return { key, record };
  }

  revokeApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#store.revoke(id, new Date().toISOString());
  }

  async verifyApiKey(key: string): Promise<Principal> {
    if (typeof key !== 'string' || key.length === 0) throw new AuthError('missing', 'API key missing');
    if (!KEY_PATTERN.test(key)) throw new AuthError('malformed', 'malformed API key');
    const hash = hashApiKey(key);
    const record = await this.#store.findByHash(hash);
    // The lookup is by hash, so timing reveals nothing about the key. The constant-time re-check only
    // guards against a store answering with the wrong record.
    if (
      !record ||
      !HASH_PATTERN.test(record.hash) ||
      !timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))
    ) {
      throw new AuthError('unknown_api_key', 'unknown API key');
    }
    if (record.revokedAt !== undefined) throw new AuthError('revoked_api_key', 'API key revoked');
    return Object.freeze({
      id: record.id,
      kind: 'apikey',
      scopes: Object.freeze([...record.scopes]),
      plan: record.plan,
      claims: Object.freeze({ name: record.name }),
    });
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.#store.list();
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

/** Creates, revokes and verifies `x-api-key` keys (`tg_<base62>`) over a store. */
export function createApiKeyManager(options: ApiKeyManagerOptions): ApiKeyManager {
  return new Manager(options);
}
