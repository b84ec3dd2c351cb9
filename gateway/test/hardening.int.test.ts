import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Production (NODE_ENV=production, i.e. development off) answers no introspection and gives no field
// suggestions; development does both. CSRF prevention is on in both.
const files = tempFiles('hardening');
let products: TestSubgraph;
let reviews: TestSubgraph;
const gateways: Gateway[] = [];
let production: string;
let development: string;

async function start(env: Record<string, string>, extra: Record<string, unknown> = {}) {
  const gateway = await createGateway({
    config: loadConfig({
      env,
      base: {
        server: { port: 0, host: '127.0.0.1', ...extra },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: files.write('p.graphql', PRODUCTS_SDL) },
          { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', REVIEWS_SDL) },
        ],
      },
    }),
  });
  gateways.push(gateway);
  return gateway.listen();
}

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
  production = await start({ NODE_ENV: 'production' });
  development = await start({ NODE_ENV: 'development' });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([products?.stop(), reviews?.stop()]);
});

const schemaQuery = '{ __schema { queryType { fields { name } } } }';
const typeQuery = '{ __type(name: "Product") { fields { name } } }';
const typo = '{ topProducts { nam } }';

describe('introspection', () => {
  it('is refused in production with 400 GRAPHQL_VALIDATION_FAILED, before any subgraph is called', async () => {
    const before = products.received.length;
    for (const query of [schemaQuery, typeQuery]) {
      const res = await gql(production, query);
      expect(res.status).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(res.body.errors?.[0]?.message).toMatch(/introspection is not allowed/);
    }
    expect(products.received.length).toBe(before);
    // __typename is not introspection
    expect((await gql(production, '{ __typename }')).body).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('is answered in development', async () => {
    const res = await gql(development, schemaQuery);
    expect(res.status).toBe(200);
    const fields = (res.body.data as { __schema: { queryType: { fields: { name: string }[] } } }).__schema
      .queryType.fields;
    expect(fields.map((f) => f.name)).toContain('topProducts');
    expect((await gql(development, typeQuery)).body.data).toEqual({
      __type: { fields: [{ name: 'upc' }, { name: 'name' }, { name: 'price' }, { name: 'reviews' }] },
    });
  });

  it('follows server.introspection when it is set, whatever NODE_ENV says', () => {
    const on = loadConfig({ env: { NODE_ENV: 'production', GATEWAY_SERVER_INTROSPECTION: 'true' } });
    expect(on.server.introspection).toBe(true);
    expect(on.development).toBe(false);
    expect(loadConfig({ env: {} }).server.introspection).toBeUndefined(); // then development decides: off
  });
});

describe('field suggestions', () => {
  it('are left out of production validation errors', async () => {
    const res = await gql(production, typo);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.body.errors?.[0]?.message).toBe('Cannot query field "nam" on type "Product".');
    expect(JSON.stringify(res.body)).not.toMatch(/Did you mean/);
  });

  it('are given in development', async () => {
    const res = await gql(development, typo);
    expect(res.body.errors?.[0]?.message).toMatch(/Did you mean "name"\?/);
  });
});

describe('CSRF prevention', () => {
  it('refuses simple requests a browser could send cross-site, and serves the others', async () => {
    const textPlain = await fetch(production, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(textPlain.status).toBe(400);
    expect(await textPlain.text()).toMatch(/CSRF/);
    const get = `${production}?query=${encodeURIComponent('{ __typename }')}`;
    const simpleGet = await fetch(get);
    expect(simpleGet.status).toBe(400);
    const preflighted = await fetch(get, { headers: { 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    expect(await preflighted.json()).toMatchObject({ data: { __typename: 'Query' } });
  });
});
