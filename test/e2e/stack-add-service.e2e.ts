import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createService } from '../../scripts/service-new.ts';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { gql } from '../fixtures/sample-query.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// `npm run service:new` while `npm start` runs: the launcher migrates, seeds and starts the new service,
// and the gateway's supergraph watch composes it in, without a restart. The services folder is a temp
// copy (links to two samples) under the repo, so module resolution works and services/ stays untouched.
describe('a service added to a running stack', () => {
  const dir = join(ROOT, '.tollgate', `add-service-${process.pid}`);
  let db: TestDatabase | undefined;
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is queryable through the gateway within seconds, and earlier queries keep working', async () => {
    const servicesDir = join(dir, 'services');
    mkdirSync(servicesDir, { recursive: true });
    for (const name of ['products', 'kit'])
      symlinkSync(join(ROOT, 'services', name), join(servicesDir, name));
    if (process.env.DATABASE_URL) db = await createTestDatabase();
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      replicas: 1,
      databaseUrl: db?.url,
      dataDir: 'memory',
      stateDir: join(dir, 'state'),
      servicesDir,
      watchIntervalMs: 500,
      gatewayConfig: { supergraph: { pollIntervalMs: 500 }, ratelimit: { enabled: false } },
    });
    expect((await gql(stack.url, '{ topProducts(first: 1) { upc } }')).status).toBe(200);

    const t0 = Date.now();
    createService({ name: 'gift-cards', servicesDir, format: false });
    let res = await gql(stack.url, '{ __typename }');
    let fields: string[] = [];
    while (Date.now() - t0 < 60_000) {
      const schema = await gql(stack.url, '{ __schema { queryType { fields { name } } } }');
      fields = (
        (schema.body.data as { __schema: { queryType: { fields: { name: string }[] } } }).__schema.queryType
          .fields ?? []
      ).map((f) => f.name);
      if (fields.some((f) => f.toLowerCase().includes('gift'))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const added = Date.now() - t0;
    const giftField = fields.find((f) => f.toLowerCase().includes('gift'));
    expect(giftField, `query fields: ${fields.join(', ')}`).toBeDefined();
    res = await gql(stack.url, `{ ${giftField} { __typename } }`);
    expect(res.body.errors).toBeUndefined();
    expect((await gql(stack.url, '{ topProducts(first: 1) { upc } }')).status).toBe(200);
    console.log(`new service queryable ${added} ms after it was scaffolded`);
  });
});
