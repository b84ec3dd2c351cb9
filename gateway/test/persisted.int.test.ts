import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  PRODUCTS_SDL,
  productsResolvers,
  REVIEWS_SDL,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Persisted queries over HTTP: Apollo's APQ protocol (in process, over Redis when REDIS_URL is set, and
// with Redis dead), and trusted documents (only the operations of a manifest run).
const redisUrl = process.env.REDIS_URL;
const files = tempFiles('persisted');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const pq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

const TOP_UPCS = 'query TopUpcs { topProducts(first: 2) { upc } }';
const TOP_NAMES = 'query TopNames($n: Int) { topProducts(first: $n) { name } }';
const manifest = files.write(
  'manifest.json',
  JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [
      { id: 'top-upcs', body: TOP_UPCS, name: 'TopUpcs', type: 'query' },
      { id: sha(TOP_NAMES), body: TOP_NAMES, name: 'TopNames', type: 'query' },
    ],
  }),
);

let products: TestSubgraph;
let reviews: TestSubgraph;
const gateways: Gateway[] = [];

async function start(extra: Record<string, unknown>): Promise<string> {
  const gateway = await createGateway({
    config: loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        subgraphs: [
          { name: 'products', replicas: [products.url], schemaFile: files.write('p.graphql', PRODUCTS_SDL) },
          { name: 'reviews', replicas: [reviews.url], schemaFile: files.write('r.graphql', REVIEWS_SDL) },
        ],
        ...extra,
      },
    }),
  });
  gateways.push(gateway);
  return gateway.listen();
}

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}
async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}
async function get(url: string, params: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${url}?${new URLSearchParams(params)}`, {
    headers: { 'apollo-require-preflight': 'true' },
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}
const code = (a: Answer) => a.body.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startTestSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([products?.stop(), reviews?.stop()]);
});

/** Register, hit, not found: the APQ round trip an Apollo client makes. */
async function apqRoundTrip(register: string, hit: string = register) {
  const query = `{ topProducts(first: 1) { upc name } } # ${Math.random()}`;
  const hash = sha(query);
  const miss = await post(hit, { extensions: pq(hash) });
  expect(miss.status).toBe(200);
  expect(code(miss)).toBe('PERSISTED_QUERY_NOT_FOUND');
  expect(miss.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');

  const registered = await post(register, { query, extensions: pq(hash) });
  expect(registered.body).toMatchObject({ data: { topProducts: [{ upc: '1', name: 'Product 1' }] } });

  const before = products.received.length;
  const byHash = await post(hit, { extensions: pq(hash) });
  expect(byHash.status).toBe(200);
  expect(byHash.body).toMatchObject({ data: { topProducts: [{ upc: '1', name: 'Product 1' }] } });
  expect(byHash.body.errors).toBeUndefined();
  expect(products.received.length).toBe(before + 1);
  return hash;
}

describe('automatic persisted queries, in process', () => {
  let url: string;
  beforeAll(async () => {
    url = await start({});
  });

  it('registers a query with its hash, then runs the hash alone; an unknown hash is not found', async () => {
    const hash = await apqRoundTrip(url);
    // the same hash by GET, as CDNs cache it
    const viaGet = await get(url, { extensions: JSON.stringify(pq(hash)) });
    expect(viaGet.body).toMatchObject({ data: { topProducts: [{ upc: '1' }] } });
  });

  it('refuses a hash that is not the SHA-256 of the query sent with it', async () => {
    const res = await post(url, { query: '{ topProducts { upc } }', extensions: pq(sha('{ other }')) });
    expect(res.status).toBe(400);
    expect(code(res)).toBe('BAD_REQUEST');
    expect(res.body.errors?.[0]?.message).toBe('provided sha does not match query');
  });

  it('does not register a query that fails validation', async () => {
    const bad = '{ topProducts { nope } }';
    expect(code(await post(url, { query: bad, extensions: pq(sha(bad)) }))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(code(await post(url, { extensions: pq(sha(bad)) }))).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('answers PERSISTED_QUERY_NOT_SUPPORTED when turned off', async () => {
    const off = await start({ persistedQueries: { apq: false } });
    const res = await post(off, { extensions: pq(sha('{ topProducts { upc } }')) });
    expect(res.status).toBe(200);
    expect(code(res)).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });
});

describe('automatic persisted queries with Redis unreachable', () => {
  it('degrades to the in-process store: misses ask for the text, registered hashes still hit, all fast', async () => {
    const url = await start({ redis: { url: 'redis://127.0.0.1:9' } });
    const t0 = performance.now();
    await apqRoundTrip(url);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});

describe.skipIf(!redisUrl)('automatic persisted queries over Redis (REDIS_URL)', () => {
  const keyPrefix = `tollgate:test:pq:${process.pid}:${Date.now()}:`;
  let a: string;
  let b: string;
  let redis: Redis;
  beforeAll(async () => {
    const config = { redis: { url: redisUrl }, persistedQueries: { keyPrefix, redisTimeoutMs: 500 } };
    [a, b] = await Promise.all([start(config), start(config)]);
    redis = new Redis(redisUrl!);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a hash registered on one gateway instance is served by another, from Redis, with the TTL set', async () => {
    const hash = await apqRoundTrip(a, b);
    const key = `${keyPrefix}apq:${hash}`;
    expect(await redis.get(key)).toMatch(/^\{ topProducts\(first: 1\) \{ upc name \} \}/);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });
});

describe('trusted documents', () => {
  let url: string;
  beforeAll(async () => {
    url = await start({ persistedQueries: { trustedDocuments: { manifest } } });
  });

  it('runs a manifest operation by its id in extensions.persistedQuery, by documentId and by GET', async () => {
    const byExtension = await post(url, { extensions: pq('top-upcs') });
    expect(byExtension.status).toBe(200);
    expect(byExtension.body).toMatchObject({ data: { topProducts: [{ upc: '1' }, { upc: '2' }] } });
    const byDocumentId = await post(url, { documentId: sha(TOP_NAMES), variables: { n: 1 } });
    expect(byDocumentId.body).toMatchObject({ data: { topProducts: [{ name: 'Product 1' }] } });
    const byGet = await get(url, { documentId: 'top-upcs' });
    expect(byGet.body).toMatchObject({ data: { topProducts: [{ upc: '1' }, { upc: '2' }] } });
  });

  it('runs the exact text of a manifest operation sent as a free-form query', async () => {
    const res = await post(url, { query: TOP_NAMES, variables: { n: 2 } });
    expect(res.body).toMatchObject({ data: { topProducts: [{ name: 'Product 1' }, { name: 'Product 2' }] } });
  });

  it('refuses any other operation with 400 PERSISTED_QUERY_NOT_IN_LIST, calling no subgraph', async () => {
    const before = products.received.length;
    for (const body of [
      { query: '{ topProducts(first: 10) { upc name price } }' },
      { query: 'query TopUpcs { topProducts(first: 10) { upc } }', operationName: 'TopUpcs' },
      { query: '{ __typename }' },
      { query: 'not even graphql {' },
    ]) {
      const res = await post(url, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(code(res)).toBe('PERSISTED_QUERY_NOT_IN_LIST');
      expect(res.body.data).toBeUndefined();
    }
    expect(products.received.length).toBe(before);
  });

  it('answers an unknown id PERSISTED_QUERY_NOT_FOUND, and a known id sent with another text 400', async () => {
    const unknown = await post(url, { documentId: 'no-such-id' });
    expect(unknown.status).toBe(200);
    expect(code(unknown)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const hijack = await post(url, { query: '{ topProducts { price } }', extensions: pq('top-upcs') });
    expect(hijack.status).toBe(400);
    expect(code(hijack)).toBe('BAD_REQUEST');
  });

  it('serves a changed manifest without a restart, and keeps the serving list when the new file is unusable', async () => {
    const listOf = (ops: { id: string; body: string }[]) =>
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: ops.map((o) => ({ ...o, type: 'query' })),
      });
    const PRICES = 'query Prices { topProducts(first: 1) { price } }';
    const path = files.write('hot-manifest.json', listOf([{ id: 'top-upcs', body: TOP_UPCS }]));
    const hot = await start({
      persistedQueries: { trustedDocuments: { manifest: path, pollIntervalMs: 100 } },
    });
    const prices = () => post(hot, { query: PRICES });
    const until = async (what: string, ok: () => Promise<boolean>) => {
      const deadline = Date.now() + 5_000;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`not within 5 s: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    expect(code(await prices())).toBe('PERSISTED_QUERY_NOT_IN_LIST');

    // a deploy adds an operation: it runs without a restart, and the old one still does
    const added = Date.now();
    files.write(
      'hot-manifest.json',
      listOf([
        { id: 'top-upcs', body: TOP_UPCS },
        { id: 'prices', body: PRICES },
      ]),
    );
    await until('the added operation runs', async () => (await prices()).status === 200);
    console.log(`manifest change served after ${Date.now() - added} ms`);
    expect((await prices()).body).toMatchObject({ data: { topProducts: [{ price: 100 }] } });
    expect((await post(hot, { documentId: 'top-upcs' })).status).toBe(200);

    // a broken manifest is refused: the list serving stays, as it was
    files.write('hot-manifest.json', '{"format": "apollo-persisted-query-manifest", "operations": [');
    await new Promise((r) => setTimeout(r, 400));
    expect((await prices()).status).toBe(200);
    expect(code(await post(hot, { query: '{ topProducts(first: 1) { upc } }' }))).toBe(
      'PERSISTED_QUERY_NOT_IN_LIST',
    );

    // an operation removed from the list is refused again
    files.write('hot-manifest.json', listOf([{ id: 'top-upcs', body: TOP_UPCS }]));
    await until('the removed operation is refused', async () => (await prices()).status === 400);
    expect(code(await prices())).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('audit mode runs unlisted operations', async () => {
    const audit = await start({ persistedQueries: { trustedDocuments: { manifest, mode: 'audit' } } });
    const res = await post(audit, { query: '{ topProducts(first: 1) { price } }' });
    expect(res.body).toMatchObject({ data: { topProducts: [{ price: 100 }] } });
  });
});
