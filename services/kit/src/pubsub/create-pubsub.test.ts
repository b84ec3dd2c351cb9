import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing.ts';
import { createPubSub, type PubSub, type PubSubOptions } from './index.ts';

// Two pub/subs stand for two replicas: a publish on one must reach the other's subscribers. Memory always;
// PostgreSQL on the embedded server (auto picks the outbox there) or DATABASE_URL (auto picks NOTIFY, and
// the outbox is checked too); Redis with REDIS_URL.
const REDIS_URL = process.env.REDIS_URL;
const HAS_PG = Boolean(process.env.DATABASE_URL);

const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.close()));
});

async function pair(
  kind: 'redis' | 'postgres',
  extra: Partial<PubSubOptions> = {},
): Promise<[PubSub, PubSub]> {
  if (kind === 'redis') {
    const keyPrefix = `tollgate-test-${randomBytes(6).toString('hex')}`;
    return [
      createPubSub({ redisUrl: REDIS_URL, keyPrefix }),
      createPubSub({ redisUrl: REDIS_URL, keyPrefix }),
    ];
  }
  const db = await createTestDatabase();
  databases.push(db);
  const options = { databaseUrl: db.url, pollIntervalMs: 50, ...extra };
  return [createPubSub(options), createPubSub(options)];
}

const cases: [string, boolean, () => Promise<[PubSub, PubSub]>, string][] = [
  ['redis', !REDIS_URL, () => pair('redis'), 'redis'],
  ['postgres, auto', false, () => pair('postgres'), HAS_PG ? 'postgres-notify' : 'postgres-outbox'],
  ['postgres, outbox', !HAS_PG, () => pair('postgres', { postgresMode: 'outbox' }), 'postgres-outbox'],
];

describe.each(cases)('pubsub across replicas: %s', (_, skip, make, mechanism) => {
  it.skipIf(skip)(
    'delivers a publish on one to the filtered subscribers of both, and no earlier one',
    { timeout: 30_000 },
    async () => {
      const [a, b] = await make();
      try {
        expect(await b.mechanism()).toBe(mechanism);
        await a.publish('before', { n: 0 });
        const onB = b.subscribe<{ n: number; upc: string }>('added');
        const onlyTwo = b.subscribe<{ n: number; upc: string }>('added', { filter: (p) => p.upc === '2' });
        const onA = a.subscribe<{ n: number; upc: string }>('added');
        await Promise.all([a.listening(), b.listening()]);
        await a.publish('added', { n: 1, upc: '1' });
        await a.publish('added', { n: 2, upc: '2' });
        // Above NOTIFY's 8000-byte limit: carried by reference to a row.
        const big = '👍'.repeat(2500);
        await a.publish('added', { n: 3, upc: '3', big });
        const read = async (it: AsyncIterator<{ n: number }>) => (await it.next()).value?.n;
        expect([await read(onB), await read(onB), await read(onB)]).toEqual([1, 2, 3]);
        expect([await read(onA), await read(onA), await read(onA)]).toEqual([1, 2, 3]);
        expect(await read(onlyTwo)).toBe(2);
        expect(b.subscriptions).toBe(2);
        await onB.return?.();
        expect(b.subscriptions).toBe(1);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );
});

describe('pubsub on an unreachable database', () => {
  it('rejects publish, listening and mechanism with PUBSUB_UNAVAILABLE', async () => {
    const ps = createPubSub({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', onError: () => {} });
    const unavailable = { name: 'PubSubError', code: 'PUBSUB_UNAVAILABLE' };
    await expect(ps.publish('t', {})).rejects.toMatchObject(unavailable);
    await expect(ps.listening()).rejects.toMatchObject(unavailable);
    await expect(ps.mechanism()).rejects.toMatchObject(unavailable);
    await ps.close();
  });
});

describe('pubsub in memory', () => {
  it('delivers a copy to this process only, and close() ends subscriptions', async () => {
    const ps = createPubSub();
    expect(await ps.mechanism()).toBe('memory');
    const it = ps.subscribe<{ n: number }>('t');
    const sent = { n: 1 };
    await ps.publish('t', sent);
    const got = await it.next();
    expect(got.value).toEqual({ n: 1 });
    expect(got.value).not.toBe(sent);
    await ps.close();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    await expect(ps.publish('t', {})).rejects.toMatchObject({ code: 'PUBSUB_CLOSED' });
  });

  it.each([
    [{ maxQueued: 0 }, RangeError],
    [{ pollIntervalMs: 1 }, RangeError],
    [{ postgresMode: 'listen' as never }, TypeError],
  ])('refuses %j', (options, type) => {
    expect(() => createPubSub(options)).toThrow(type);
  });

  it('refuses a bad topic and a payload JSON cannot carry', async () => {
    const ps = createPubSub();
    expect(() => ps.subscribe('a b')).toThrow(TypeError);
    await expect(ps.publish('t', undefined)).rejects.toThrow(TypeError);
    await ps.close();
  });
});
