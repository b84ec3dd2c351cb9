import { join } from 'node:path';
import { createGateway, type Gateway, loadConfig } from '@tollgate/gateway';
import { createDb, type Db, listServices, migrate, seed, type Subgraph } from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedSampleData, gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

interface Running {
  name: string;
  db: Db;
  subgraph: Subgraph;
  url: string;
}

// The gateway over in-process replicas of every sample subgraph, each with its own counted `pg` pool,
// so the SQL statements one federated request causes can be counted per subgraph at the driver.
describe('batching: SQL statements per request do not grow with list sizes', () => {
  let database: TestDatabase;
  let running: Running[] = [];
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const services = listServices().filter((s) => ['accounts', 'products', 'inventory', 'reviews'].includes(s.name));
    const admin = createDb(database.url, { max: 1 });
    for (const s of services) {
      await migrate(admin, s);
      await seed(admin, s, 'small');
    }
    await admin.close();
    running = await Promise.all(
      services.map(async (s) => {
        const mod = (await import(join(s.dir, 'src', 'server.ts'))) as { createSubgraph(o: { db: Db }): Subgraph };
        const db = createDb(database.url, { max: 4 });
        const subgraph = mod.createSubgraph({ db });
        return { name: s.name, db, subgraph, url: await subgraph.listen({ port: 0 }) };
      }),
    );
    gateway = await createGateway({
      config: loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          ratelimit: { enabled: false },
          cost: { maxCost: 1_000_000 },
          subgraphs: services.map((s) => ({ name: s.name, schemaFile: join(s.dir, 'schema.graphql'), replicas: [running.find((r) => r.name === s.name)!.url] })),
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
    await database?.close();
  });

  const statementsFor = async (first: number) => {
    const before = new Map(running.map((r) => [r.name, r.db.statements]));
    const { status, body } = await gql(url, SAMPLE_QUERY, { first });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual(await expectedSampleData(database.url, first));
    return Object.fromEntries(running.map((r) => [r.name, r.db.statements - before.get(r.name)!]));
  };

  it('counts the same statements per subgraph for first: 5 and first: 50', async () => {
    const five = await statementsFor(5);
    const fifty = await statementsFor(50);
    expect(fifty).toEqual(five);
    // and the counts are the batched ones: one query per entity type and level
    for (const n of Object.values(five)) expect(n).toBeGreaterThan(0);
    expect(five).toEqual({ accounts: 1, inventory: 1, products: 2, reviews: 2 });
  });
});
