import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ApiKeyManager, type ApiKeyStore, createApiKeyManager, hashApiKey } from './api-key.ts';
import { createFileApiKeyStore } from './api-key-file-store.ts';
import { createRedisApiKeyStore } from './api-key-redis-store.ts';
import { expectAuthError } from './test-support.ts';

type StoreFactory = {
  /** A store over the same data each call (a restart, or a second process). */
  open(): Promise<ApiKeyStore>;
  cleanup(): Promise<void>;
};

// One contract, run against every backend (envelop's store specs do the same).
function storeContract(name: string, setup: () => Promise<StoreFactory>): void {
  describe(name, () => {
    let factory: StoreFactory;
    let manager: ApiKeyManager;
    const extra: ApiKeyStore[] = [];

    beforeAll(async () => {
      factory = await setup();
    });
    afterAll(async () => {
      await factory.cleanup();
    });
    afterEach(async () => {
      await manager?.close();
      await Promise.all(extra.splice(0).map((s) => s.close()));
    });

    it('creates a key, returns it once, and verifies it', async () => {
      manager = createApiKeyManager({ store: await factory.open() });
      const { key, record } = await manager.createApiKey({
        name: 'ci-bot',
        scopes: ['read:reviews'],
        plan: 'pro',
      });
      expect(key).toMatch(/^tg_[0-9A-Za-z]{43}$/);
      expect(record).toMatchObject({
        name: 'ci-bot',
        scopes: ['read:reviews'],
        plan: 'pro',
        hash: hashApiKey(key),
      });
      expect(record.revokedAt).toBeUndefined();
      expect(JSON.stringify(record)).not.toContain(key.slice(3));
      const principal = await manager.verifyApiKey(key);
      expect(principal).toEqual({
        id: record.id,
        kind: 'apikey',
        scopes: ['read:reviews'],
        plan: 'pro',
        claims: { name: 'ci-bot' },
      });
      expect(Object.isFrozen(principal)).toBe(true);
      expect((await manager.listApiKeys()).map((r) => r.id)).toContain(record.id);
    });

    it('refuses unknown and malformed keys without echoing them', async () => {
      manager = createApiKeyManager({ store: await factory.open() });
      const unknown = `tg_${'A'.repeat(43)}`;
      await expectAuthError(manager.verifyApiKey(unknown), 'unknown_api_key', { token: unknown });
      for (const bad of [
        'tg_short',
        `sk_${'a'.repeat(43)}`,
        `tg_${'a'.repeat(42)}!`,
        `tg_${'a'.repeat(500)}`,
      ]) {
        await expectAuthError(manager.verifyApiKey(bad), 'malformed', { token: bad });
      }
      await expectAuthError(manager.verifyApiKey(''), 'missing');
    });

    it('revokes by id, once', async () => {
      manager = createApiKeyManager({ store: await factory.open() });
      const { key, record } = await manager.createApiKey({ name: 'to-revoke', plan: 'free' });
      const revoked = await manager.revokeApiKey(record.id);
      expect(revoked?.revokedAt).toEqual(expect.any(String));
      await expectAuthError(manager.verifyApiKey(key), 'revoked_api_key', { token: key });
      const again = await manager.revokeApiKey(record.id);
      expect(again?.revokedAt).toBe(revoked?.revokedAt);
      expect(await manager.revokeApiKey(randomUUID())).toBeUndefined();
    });

    it('keeps keys across a restart, and a second instance sees them', async () => {
      manager = createApiKeyManager({ store: await factory.open() });
      const { key, record } = await manager.createApiKey({
        name: 'durable',
        scopes: ['a', 'b'],
        plan: 'free',
      });
      const other = await factory.open();
      extra.push(other);
      await vi.waitFor(
        async () => expect(await other.findByHash(hashApiKey(key))).toMatchObject({ id: record.id }),
        {
          timeout: 3_000,
        },
      );
      const second = createApiKeyManager({ store: other });
      expect((await second.verifyApiKey(key)).id).toBe(record.id);
      await manager.revokeApiKey(record.id);
      await vi.waitFor(() => expectAuthError(second.verifyApiKey(key), 'revoked_api_key'), {
        timeout: 3_000,
      });
    });

    it('rejects bad input', async () => {
      manager = createApiKeyManager({ store: await factory.open() });
      await expect(manager.createApiKey({ name: ' ', plan: 'free' })).rejects.toThrow(TypeError);
      await expect(manager.createApiKey({ name: 'x', plan: '' })).rejects.toThrow(TypeError);
      await expect(manager.createApiKey({ name: 'x', plan: 'free', scopes: ['a b'] })).rejects.toThrow(
        TypeError,
      );
    });
  });
}

for (const ext of ['json', 'yaml']) {
  let dir: string;
  storeContract(`file store (${ext})`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-apikeys-'));
    const path = join(dir, `keys.${ext}`);
    return {
      open: () => createFileApiKeyStore({ path }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  });
}

describe('file store specifics', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-apikeys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes the plaintext key to disk, and the file is 0600', async () => {
    const path = join(dir, 'secret-check.json');
    const manager = createApiKeyManager({ store: await createFileApiKeyStore({ path }) });
    const { key, record } = await manager.createApiKey({ name: 'grep-me', plan: 'free' });
    await manager.revokeApiKey(record.id);
    await manager.createApiKey({ name: 'another', plan: 'free' });
    await manager.close();
    const text = await readFile(path, 'utf8');
    expect(text).toContain(record.hash);
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(3));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('reloads when another process edits the file, and keeps the last good records on a bad edit', async () => {
    const path = join(dir, 'reload.json');
    const errors: Error[] = [];
    const store = await createFileApiKeyStore({ path, onReloadError: (e) => errors.push(e) });
    const manager = createApiKeyManager({ store });
    const { key: first } = await manager.createApiKey({ name: 'first', plan: 'free' });

    // Another process (the key CLI) adds a key to the same file.
    const cli = createApiKeyManager({ store: await createFileApiKeyStore({ path, watch: false }) });
    const { key: second } = await cli.createApiKey({ name: 'second', plan: 'free' });
    await vi.waitFor(async () => expect((await manager.verifyApiKey(second)).kind).toBe('apikey'), {
      timeout: 3_000,
    });

    await writeFile(path, '{ not json');
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 3_000 });
    expect((await manager.verifyApiKey(first)).kind).toBe('apikey');
    // A write refuses to clobber a file it cannot read.
    await expect(manager.createApiKey({ name: 'third', plan: 'free' })).rejects.toThrow(/not valid JSON/);
    await manager.close();
    await cli.close();
  });

  it('serializes concurrent writes from one instance', async () => {
    const path = join(dir, 'concurrent.yaml');
    const manager = createApiKeyManager({ store: await createFileApiKeyStore({ path, watch: false }) });
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => manager.createApiKey({ name: `k${i}`, plan: 'free' })),
    );
    await manager.close();
    const reopened = createApiKeyManager({ store: await createFileApiKeyStore({ path, watch: false }) });
    expect(await reopened.listApiKeys()).toHaveLength(20);
    for (const { key } of created) expect((await reopened.verifyApiKey(key)).kind).toBe('apikey');
    await reopened.close();
  });

  it('refuses to start on an invalid file', async () => {
    const path = join(dir, 'invalid.json');
    await writeFile(
      path,
      JSON.stringify({
        keys: [{ id: 'x', name: 'x', hash: 'nothex', scopes: [], plan: 'p', createdAt: 'now' }],
      }),
    );
    await expect(createFileApiKeyStore({ path })).rejects.toThrow(/keys\.0\.hash/);
  });
});

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('redis store', () => {
  const prefix = `tollgate-test:${randomUUID()}:apikey:`;
  let client: Redis;

  storeContract('contract', async () => {
    client = new Redis(redisUrl ?? '', { maxRetriesPerRequest: 1 });
    return {
      // URL form: each store owns (and closes) its connection, like separate gateway instances.
      open: async () => createRedisApiKeyStore({ redis: redisUrl ?? '', prefix }),
      cleanup: async () => {
        const keys = await client.keys(`${prefix}*`);
        if (keys.length > 0) await client.del(...keys);
        await client.quit();
      },
    };
  });

  it('stores one hash per key hash under the prefix, with no plaintext key', async () => {
    const redis = new Redis(redisUrl ?? '', { maxRetriesPerRequest: 1 });
    const ownPrefix = `tollgate-test:${randomUUID()}:apikey:`;
    try {
      const manager = createApiKeyManager({ store: createRedisApiKeyStore({ redis, prefix: ownPrefix }) });
      const { key, record } = await manager.createApiKey({ name: 'redis', scopes: ['s'], plan: 'pro' });
      expect(await redis.hgetall(`${ownPrefix}${record.hash}`)).toMatchObject({
        id: record.id,
        hash: record.hash,
        scopes: '["s"]',
      });
      const keys = await redis.keys(`${ownPrefix}*`);
      expect(keys.sort()).toEqual([`${ownPrefix}${record.hash}`, `${ownPrefix}ids`].sort());
      for (const k of keys) {
        const dump = JSON.stringify(await redis.hgetall(k));
        expect(dump).not.toContain(key.slice(3));
      }
      await manager.close(); // a caller-owned client stays open
      expect(redis.status).toBe('ready');
      await redis.del(...keys);
    } finally {
      await redis.quit();
    }
  });
});
