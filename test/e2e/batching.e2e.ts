import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createGateway, type Gateway, loadConfig } from '@tollgate/gateway';
import {
  type Cache,
  createCache,
  createDb,
  type Db,
  listServices,
  migrate,
  type Subgraph,
  type SubgraphDeps,
  seed,
} from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedSampleData, gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

interface Running {
  name: string;
  db: Db;
  cache: Cache;
  subgraph: Subgraph;
  url: string;
}

const REDIS_URL = process.env.REDIS_URL;
// One statement per entity type and level on a cold cache: topProducts + the products of the authors'
// reviews, the authors, stock, and the two review lists.
const COLD = { accounts: 1, inventory: 1, products: 2, reviews: 2 };
const NONE = { accounts: 0, inventory: 0, products: 0, reviews: 0 };

// The gateway over in-process replicas of every sample subgraph, each with its own counted `pg` pool and
// its own loader cache (Redis under a fresh prefix with REDIS_URL, in-process otherwise), so the SQL one
// federated request causes can be counted per subgraph at the driver, cold or warm.
describe(`batching and caching: SQL per request does not grow with list sizes (${REDIS_URL ? 'Redis' : 'in-process'} cache)`, () => {
  let database: TestDatabase;
  let running: Running[] = [];
  let gateway: Gateway;
  let url: string;
  const keyPrefix = `tollgate-test-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    const services = listServices().filter((s) =>
      ['accounts', 'products', 'inventory', 'reviews'].includes(s.name),
    );
    const admin = createDb(database.url, { max: 1 });
    for (const s of services) {
      await migrate(admin, s);
      await seed(admin, s, 'small');
    }
    await admin.close();
    running = await Promise.all(
      services.map(async (s) => {
        const mod = (await import(join(s.dir, 'src', 'server.ts'))) as {
          createSubgraph(deps: SubgraphDeps): Subgraph;
        };
        const db = createDb(database.url, { max: 4 });
        // A generous timeout: a cache call timing out on a loaded box falls back to SQL, which is right
        // but would add statements to a test that counts them (the timeout has its own tests).
        const cache = createCache({
          keyPrefix,
          timeoutMs: 1000,
          ...(REDIS_URL ? { redisUrl: REDIS_URL } : {}),
        });
        const subgraph = mod.createSubgraph({ db, cache });
        return { name: s.name, db, cache, subgraph, url: await subgraph.listen({ port: 0 }) };
      }),
    );
    gateway = await createGateway({
      config: loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          // Lists of 200 with nested lists cost far more than the default budget; this test is about SQL.
          cost: { mode: 'measure' },
          ratelimit: { enabled: false },
          subgraphs: services.map((s) => ({
            name: s.name,
            schemaFile: join(s.dir, 'schema.graphql'),
            replicas: [running.find((r) => r.name === s.name)!.url],
          })),
        },
      }),
    });
    url = await gateway.listen();
  });
  afterAll(async () => {
    await gateway?.close(100);
    for (const r of running) {
      await r.subgraph.close();
      await r.db.close();
    }
    await running[0]?.cache.clear();
    await Promise.all(running.map((r) => r.cache.close()));
    await database?.close();
  });

  const coldCaches = () => Promise.all(running.map((r) => r.cache.clear()));
  const statements = () => new Map(running.map((r) => [r.name, r.db.statements]));
  const since = (before: Map<string, number>) =>
    Object.fromEntries(running.map((r) => [r.name, r.db.statements - before.get(r.name)!]));

  const statementsFor = async (first: number) => {
    const before = statements();
    const { status, body } = await gql(url, SAMPLE_QUERY, { first });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const counts = since(before);
    expect(body.data).toEqual(await expectedSampleData(database.url, first));
    expect((body.data!.topProducts as unknown[]).length).toBe(first);
    return counts;
  };

  it('counts the same statements per subgraph for first: 5, 50 and 200 on a cold cache', async () => {
    for (const first of [5, 50, 200]) {
      await coldCaches();
      expect(await statementsFor(first), `first: ${first}`).toEqual(COLD);
    }
  });

  it('serves a repeated query with no SQL at all', async () => {
    await coldCaches();
    expect(await statementsFor(50)).toEqual(COLD);
    expect(await statementsFor(50)).toEqual(NONE);
    // A smaller list of the same entities: only the topProducts list itself is new.
    expect(await statementsFor(5)).toEqual({ ...NONE, products: 1 });
  });

  it('100 concurrent identical requests on a cold cache cost what one does', async () => {
    await coldCaches();
    const before = statements();
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => gql(url, SAMPLE_QUERY, { first: 5 })),
    );
    const counts = since(before);
    const expected = await expectedSampleData(database.url, 5);
    for (const { status, body } of responses) {
      expect(status).toBe(200);
      expect(body.data).toEqual(expected);
    }
    expect(counts).toEqual(COLD);
  });
});
