import { rmSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { expectedSampleData, gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

// Reviews hold ids owned by other subgraphs. A review whose author accounts does not know, or whose
// product products does not know, must cost that one field (Review.author, Review.product are
// nullable), never the whole sample query.
describe('the sample subgraphs degrade one field at a time', () => {
  let db: TestDatabase | undefined;
  let stack: Stack;

  beforeAll(async () => {
    if (process.env.DATABASE_URL) db = await createTestDatabase();
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      databaseUrl: db?.url,
      dataDir: 'memory',
      replicas: 1,
      stateDir: `${process.cwd()}/.tollgate/e2e-degrade-${process.pid}`,
      // With REDIS_URL (inherited by the replicas) the loader cache is shared with other tests' stacks:
      // a prefix of its own keeps it cold, so the rows written below are read, not another run's lists.
      env: { SUBGRAPH_CACHE_PREFIX: `tollgate-e2e-degrade-${process.pid}-${Date.now()}` },
    });
    // Written straight to the table before any query, so no replica has cached the lists yet:
    // a review of product 000001 by user "ghost" (accounts has no such user), and a review by
    // user 1 of product 999999 (products has no such product).
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO reviews.reviews (product_upc, author_id, body, rating)
         VALUES ('000001', 'ghost', 'By nobody accounts knows.', 3),
                ('999999', '1', 'Of nothing products knows.', 4)`,
      );
    } finally {
      await client.end();
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await db?.close();
    if (stack) rmSync(stack.stateDir, { recursive: true, force: true });
  });

  it('answers the sample query with the unknown author and product null, and everything else', async () => {
    const { status, body } = await gql(stack.url, SAMPLE_QUERY, { first: 5 });
    expect(status).toBe(200);
    const expected = (await expectedSampleData(stack.databaseUrl, 5)) as {
      topProducts: { upc: string; reviews: { body: string; author: unknown }[] }[];
    };
    expect(body.data).toEqual(expected);
    // the fixture really has the nulls in it: this test is not passing on data that has none
    const first = expected.topProducts[0]!;
    expect(first.upc).toBe('000001');
    expect(first.reviews.find((r) => r.body === 'By nobody accounts knows.')?.author).toBeNull();
    expect(JSON.stringify(expected)).toContain('"product":null');
    expect(expected.topProducts).toHaveLength(5);
    // each null is explained in `errors` at its path (GraphQL spec, "Handling Field Errors"): the unknown
    // user's username (String!) is what is missing, so the error is there and the null stops at author
    const at = first.reviews.findIndex((r) => r.body === 'By nobody accounts knows.');
    const paths = (body.errors ?? []).map((e) => [JSON.stringify(e.path), e.extensions?.code]);
    expect(paths).toContainEqual([
      JSON.stringify(['topProducts', 0, 'reviews', at, 'author', 'username']),
      'SUBGRAPH_INVALID_RESPONSE',
    ]);
    expect(body.errors?.every((e) => e.extensions?.code === 'SUBGRAPH_INVALID_RESPONSE')).toBe(true);
  });
});
