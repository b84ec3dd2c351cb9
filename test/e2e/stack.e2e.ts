import { rmSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevSigningKey, signDevToken } from '../../gateway/src/auth/index.ts';
import { DEV_AUDIENCE, DEV_ISSUER, devKeysDir } from '../../scripts/dev-auth.ts';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { expectedSampleData, gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

// The whole stack as `npm start` runs it (separate processes: database, 2 replicas per subgraph,
// gateway), on the embedded database, or on a fresh database of the real server when DATABASE_URL is set.
describe(`the federated stack (${process.env.DATABASE_URL ? 'real PostgreSQL' : 'embedded PostgreSQL'})`, () => {
  let db: TestDatabase | undefined;
  let stack: Stack;

  beforeAll(async () => {
    if (process.env.DATABASE_URL) db = await createTestDatabase();
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db?.url,
      dataDir: 'memory',
      stateDir: `${process.cwd()}/.tollgate/e2e-${process.pid}`,
      // these tests are about federation, not budgets: give the anonymous caller room
      gatewayConfig: {
        ratelimit: {
          plans: {
            anonymous: { capacity: 1_000_000, restoreRate: 100_000 },
            free: { capacity: 1000, restoreRate: 50 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.close();
    // this run's own state folder: its signing secret and dev keys are of no use to anyone later
    if (stack) rmSync(stack.stateDir, { recursive: true, force: true });
  });

  it('answers the sample query with the data the database holds', async () => {
    for (const first of [5, 8]) {
      // 8 costs 888, under the default maximum of 1000
      const { status, body } = await gql(stack.url, SAMPLE_QUERY, { first });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data).toEqual(await expectedSampleData(stack.databaseUrl, first));
      expect((body.data!.topProducts as unknown[]).length).toBe(first);
    }
  });

  it('spreads traffic over both replicas of every subgraph', async () => {
    await Promise.all(Array.from({ length: 8 }, () => gql(stack.url, SAMPLE_QUERY, { first: 3 })));
    const counts = new Map<string, number[]>();
    for (const r of stack.replicas) {
      const health = (await (await fetch(r.url.replace('/graphql', '/health'))).json()) as {
        requests: number;
      };
      counts.set(r.service, [...(counts.get(r.service) ?? []), health.requests]);
    }
    // every subgraph the sample query reaches (a checkout may hold scaffolded services it does not)
    const reached = ['accounts', 'inventory', 'products', 'reviews'];
    expect([...counts.keys()]).toEqual(expect.arrayContaining(reached));
    for (const service of reached) {
      const perReplica = counts.get(service)!;
      expect(perReplica.length, service).toBe(2);
      for (const n of perReplica) expect(n, `${service} ${perReplica}`).toBeGreaterThan(0);
    }
  });

  it('addReview writes exactly one row and the next query sees it', async () => {
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      const count = async () =>
        Number((await client.query('SELECT count(*) FROM reviews.reviews')).rows[0].count);
      const before = await count();
      const body = `e2e review ${Date.now()}`;
      // addReview needs a signed-in user: a token from the stack's dev key, as `npm run token` makes
      const key = await loadDevSigningKey(devKeysDir(stack.stateDir));
      const token = await signDevToken({ sub: '3' }, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key });
      const mutation =
        'mutation($upc: String!, $body: String!) { addReview(upc: $upc, body: $body, rating: 4) { id body rating product { upc name } author { id } } }';
      const anonymous = await gql(stack.url, mutation, { upc: '000002', body });
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(await count()).toBe(before);
      const res = await gql(
        stack.url,
        mutation,
        { upc: '000002', body },
        { authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      const review = res.body.data!.addReview as {
        id: string;
        body: string;
        product: { upc: string; name: string };
      };
      expect(review).toMatchObject({ body, rating: 4, product: { upc: '000002' }, author: { id: '3' } });
      expect(await count()).toBe(before + 1);
      const row = (
        await client.query('SELECT product_upc, author_id, body, rating FROM reviews.reviews WHERE id = $1', [
          review.id,
        ])
      ).rows[0];
      expect(row).toEqual({ product_upc: '000002', author_id: '3', body, rating: 4 });

      const after = await gql(stack.url, '{ product(upc: "000002") { reviews { id body } } }');
      expect(
        (after.body.data!.product as { reviews: { id: string; body: string }[] }).reviews,
      ).toContainEqual({ id: review.id, body });
    } finally {
      await client.end();
    }
  });

  it('replicas serve only the gateway: a direct unsigned request gets 401', async () => {
    for (const replica of stack.replicas) {
      const res = await fetch(replica.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': '1' },
        body: '{"query":"{ _service { sdl } }"}',
      });
      expect(res.status, replica.url).toBe(401);
      expect(
        ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
      ).toBe('UNAUTHENTICATED');
    }
  });

  it('answers bad input with 400 and keeps serving', async () => {
    const malformed = await fetch(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":',
    });
    expect(malformed.status).toBe(400);
    const invalid = await gql(stack.url, '{ topProducts { price { cents } } }');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const badArg = await gql(stack.url, '{ topProducts(first: -1) { upc } }');
    expect(badArg.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const ok = await gql(stack.url, '{ topProducts(first: 1) { upc } }');
    expect(ok.status).toBe(200);
  });

  it('reports ready, and names a replica that went down', async () => {
    const ready = await fetch(stack.url.replace('/graphql', '/health/ready'));
    expect(ready.status).toBe(200);
    const victim = stack.replicas.find((r) => r.service === 'inventory')!;
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;
    // queries keep working through the other replica
    for (let i = 0; i < 4; i++) {
      const res = await gql(stack.url, '{ topProducts(first: 2) { upc inStock } }');
      expect(res.body.errors).toBeUndefined();
    }
    // the pool's health checks and outlier detection take the replica out within a few check intervals
    const t0 = Date.now();
    let down: string[] = [];
    while (Date.now() - t0 < 15_000) {
      down = ((await (await fetch(`${stack.adminUrl}/health/ready`)).json()) as { down: string[] }).down;
      if (down.includes(`inventory ${victim.url}`)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(down).toContain(`inventory ${victim.url}`);
    console.log(`killed replica reported down after ${Date.now() - t0} ms`);
  });
});
