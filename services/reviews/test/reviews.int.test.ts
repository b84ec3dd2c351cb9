import { seed } from '@tollgate/kit';
import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reviews from '../src/server.ts';

interface ReviewRow {
  id: string;
  product_upc: string;
  author_id: string;
  body: string;
  rating: number;
}

// Signed like the gateway signs, so addReview has a verified user to write as.
const SIGNING = { secret: 'reviews-test-signing-secret-0123456789' };
const user = (id: string) => ({ id, kind: 'user', scopes: [], plan: 'free' }) as const;

const REVIEW_FIELDS = 'id body rating author { id } product { upc }';
const ADD_REVIEW = `mutation ($upc: String!, $body: String!, $rating: Int!) {
  addReview(upc: $upc, body: $body, rating: $rating) { ${REVIEW_FIELDS} }
}`;

/** The GraphQL shape a row should come back as. */
const asReview = (r: ReviewRow) => ({
  id: r.id,
  body: r.body,
  rating: r.rating,
  author: { id: r.author_id },
  product: { upc: r.product_upc },
});

describe('reviews subgraph', () => {
  let t: TestSubgraph;

  beforeAll(async () => {
    t = await startTestSubgraph(reviews, { deps: { signing: SIGNING } });
  });
  afterAll(() => t?.close());

  const count = async () =>
    Number((await t.db.query<{ n: string }>('SELECT count(*) AS n FROM reviews.reviews'))[0]?.n);
  const rowsWhere = (column: 'product_upc' | 'author_id', keys: string[]) =>
    t.db.query<ReviewRow>(
      `SELECT id, product_upc, author_id, body, rating FROM reviews.reviews WHERE ${column} = ANY($1) ORDER BY id`,
      [keys],
    );

  it('seeds review i for product (i*7 % 250)+1 by user (i*13 % 100)+1', async () => {
    const rows = await t.db.query<ReviewRow>(
      "SELECT id, product_upc, author_id, body, rating FROM reviews.reviews WHERE id IN ('1', '1000') ORDER BY id",
    );
    expect(rows).toEqual([
      {
        id: '1',
        product_upc: '000008',
        author_id: '14',
        body: expect.stringMatching(/^Review 1\b/),
        rating: 2,
      },
      {
        id: '1000',
        product_upc: '000001',
        author_id: '1',
        body: expect.stringMatching(/^Review 1000\b/),
        rating: 1,
      },
    ]);
    expect(await count()).toBe(1000);
  });

  it('resolves Product.reviews for 5 or 50 products with one statement, ordered by id', async () => {
    const query = `query ($r: [_Any!]!) {
      _entities(representations: $r) { ... on Product { upc reviews { ${REVIEW_FIELDS} } } }
    }`;
    const run = async (n: number) => {
      const upcs = [...Array.from({ length: n - 1 }, (_, i) => String(n - i).padStart(6, '0')), '999999'];
      const before = t.db.statements;
      const res = await t.request(query, { r: upcs.map((upc) => ({ __typename: 'Product', upc })) });
      const statements = t.db.statements - before;
      const rows = await rowsWhere('product_upc', upcs);
      expect(rows.length).toBeGreaterThan(n);
      expect(res.body).toEqual({
        data: {
          _entities: upcs.map((upc) => ({
            upc,
            reviews: rows.filter((r) => r.product_upc === upc).map(asReview),
          })),
        },
      });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('resolves User.reviews for 5 or 50 users with one statement, ordered by id', async () => {
    const query = `query ($r: [_Any!]!) {
      _entities(representations: $r) { ... on User { id reviews { id body rating product { upc } } } }
    }`;
    const run = async (n: number) => {
      const ids = [...Array.from({ length: n - 1 }, (_, i) => String(i + 1)), 'nobody'];
      const before = t.db.statements;
      const res = await t.request(query, { r: ids.map((id) => ({ __typename: 'User', id })) });
      const statements = t.db.statements - before;
      const rows = await rowsWhere('author_id', ids);
      expect(res.body).toEqual({
        data: {
          _entities: ids.map((id) => ({
            id,
            reviews: rows
              .filter((r) => r.author_id === id)
              .map((r) => ({ id: r.id, body: r.body, rating: r.rating, product: { upc: r.product_upc } })),
          })),
        },
      });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('addReview writes exactly one row with one statement, as the signed user', async () => {
    const [{ max } = { max: '0' }] = await t.db.query<{ max: string }>(
      'SELECT max(id)::text AS max FROM reviews.reviews',
    );
    const rowsBefore = await count();
    const statementsBefore = t.db.statements;
    const res = await t.requestAs(user('77'), ADD_REVIEW, { upc: '000123', body: 'Sturdy.', rating: 4 });
    expect(t.db.statements - statementsBefore).toBe(1);
    expect(await count()).toBe(rowsBefore + 1);
    const review = res.body.data?.addReview as { id: string };
    // The sequence sits past the seeded ids, so the first insert takes the next id.
    expect(review.id).toBe(String(Number(max) + 1));
    const [row] = await t.db.query<ReviewRow>(
      'SELECT id, product_upc, author_id, body, rating FROM reviews.reviews WHERE id = $1',
      [review.id],
    );
    expect(row).toEqual({
      id: review.id,
      product_upc: '000123',
      author_id: '77',
      body: 'Sturdy.',
      rating: 4,
    });
    expect(res.body).toEqual({ data: { addReview: asReview(row!) } });
  });

  it('addReview refuses a caller that is not a user, and writes nothing', async () => {
    const before = await count();
    const anonymous = await t.request(ADD_REVIEW, { upc: '000001', body: 'ok', rating: 3 });
    const apiKey = await t.requestAs({ id: 'k1', kind: 'apikey', scopes: [], plan: 'free' }, ADD_REVIEW, {
      upc: '000001',
      body: 'ok',
      rating: 3,
    });
    for (const res of [anonymous, apiKey]) {
      expect(res.body.errors).toMatchObject([
        { path: ['addReview'], extensions: { code: 'UNAUTHENTICATED' } },
      ]);
    }
    expect(await count()).toBe(before);
  });

  it.each([
    ['rating 0', { rating: 0 }, 'rating must be an integer from 1 to 5, got 0'],
    ['rating 6', { rating: 6 }, 'rating must be an integer from 1 to 5, got 6'],
    ['an empty body', { body: '' }, 'body must not be blank'],
    ['a blank body', { body: '   ' }, 'body must not be blank'],
    [
      'a body over 2000 characters',
      { body: 'x'.repeat(2001) },
      'body must be at most 2000 characters, got 2001',
    ],
    ['a upc of letters', { upc: 'abc' }, 'upc must be 6 digits like "000001", got "abc"'],
    ['a upc of 7 digits', { upc: '0000001' }, 'upc must be 6 digits like "000001", got "0000001"'],
  ])(
    'addReview rejects %s with BAD_USER_INPUT naming the rule, and sends no SQL',
    async (_, change, problem) => {
      const before = await count();
      const statementsBefore = t.db.statements;
      const res = await t.requestAs(user('5'), ADD_REVIEW, {
        upc: '000001',
        body: 'ok',
        rating: 3,
        ...change,
      });
      expect(t.db.statements - statementsBefore).toBe(0);
      expect(res.body.data).toBeNull(); // addReview: Review! nulls the mutation's data
      expect(res.body.errors).toMatchObject([
        {
          message: `Invalid addReview input: ${problem}`,
          path: ['addReview'],
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ]);
      expect(await count()).toBe(before);
    },
  );

  it('addReview accepts a body of exactly 2000 characters', async () => {
    const body = `${'y'.repeat(1999)}!`;
    const res = await t.requestAs(user('6'), ADD_REVIEW, { upc: '000002', body, rating: 5 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.addReview).toMatchObject({ body, rating: 5, author: { id: '6' } });
  });

  it('declares author and product nullable: accounts and products may not know the ids', async () => {
    const res = await t.request(`{
      __type(name: "Review") { fields { name type { kind name ofType { name } } } }
    }`);
    const fields = (res.body.data!.__type as { fields: { name: string; type: unknown }[] }).fields;
    const typeOf = (name: string) => fields.find((f) => f.name === name)?.type;
    expect(typeOf('author')).toEqual({ kind: 'OBJECT', name: 'User', ofType: null });
    expect(typeOf('product')).toEqual({ kind: 'OBJECT', name: 'Product', ofType: null });
    // the reviews' own data stays non-null
    expect(typeOf('body')).toEqual({ kind: 'NON_NULL', name: null, ofType: { name: 'String' } });
  });

  it('seeding again does not duplicate reviews or move the sequence backwards', async () => {
    const before = await count();
    await seed(t.db, reviews.definition, 'small');
    expect(await count()).toBe(before);
    const res = await t.requestAs(user('5'), ADD_REVIEW, { upc: '000001', body: 'again', rating: 5 });
    const [{ max } = { max: '0' }] = await t.db.query<{ max: string }>(
      'SELECT max(id)::text AS max FROM reviews.reviews',
    );
    expect((res.body.data!.addReview as { id: string }).id).toBe(max);
  });

  it('has a Query type with only the Federation fields', async () => {
    const res = await t.request(
      '{ __schema { queryType { fields { name } } mutationType { name } } _service { sdl } }',
    );
    const schema = res.body.data?.__schema as {
      queryType: { fields: { name: string }[] };
      mutationType: { name: string };
    };
    expect(schema.queryType.fields.map((f) => f.name).sort()).toEqual(['_entities', '_service']);
    expect(schema.mutationType.name).toBe('Mutation');
    const sdl = (res.body.data!._service as { sdl: string }).sdl;
    expect(sdl).toContain('addReview');
  });

  it('counts the GraphQL requests it served in /health', async () => {
    const health = async () =>
      (await fetch(t.url.replace('/graphql', '/health'))).json() as Promise<{ requests: number }>;
    const before = await health();
    await t.request('{ _service { sdl } }');
    expect(await health()).toEqual({ status: 'ok', service: 'reviews', requests: before.requests + 1 });
  });
});
