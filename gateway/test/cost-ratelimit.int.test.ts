import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import {
  gql,
  productsResolvers,
  reviewsResolvers,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Subgraphs annotated for cost: topProducts slices on `first`, Product.reviews is assumed to hold 5.
const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@listSize", "@cost"])
  type Product @key(fields: "upc") { upc: String! name: String! price: Int! }
  type Query { topProducts(first: Int = 5): [Product!]! @listSize(slicingArguments: ["first"]) }
`;
const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@listSize"])
  type Product @key(fields: "upc") { upc: String! reviews: [Review!] @listSize(assumedSize: 5) }
  type Review { id: ID! body: String! }
`;

const files = tempFiles('cost');
const file = files.write;

let products: TestSubgraph;
let reviews: TestSubgraph;
const gateways: Gateway[] = [];

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startTestSubgraph(PRODUCTS, productsResolvers),
    startTestSubgraph(REVIEWS, reviewsResolvers),
  ]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([products?.stop(), reviews?.stop()]);
});

async function start(overrides: Record<string, unknown>): Promise<string> {
  const config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      subgraphs: [
        { name: 'products', replicas: [products.url], schemaFile: file('products.graphql', PRODUCTS) },
        { name: 'reviews', replicas: [reviews.url], schemaFile: file('reviews.graphql', REVIEWS) },
      ],
      ...overrides,
    },
  });
  const gateway = await createGateway({ config });
  gateways.push(gateway);
  return gateway.listen();
}

const plan = (capacity: number, restoreRate: number) => ({
  plans: { anonymous: { capacity, restoreRate }, free: { capacity, restoreRate } },
});
const TEN = '{ topProducts(first: 10) { upc } }'; // 10 × Product(1) = 10, and all 10 come back

describe('cost limit', () => {
  it('rejects an operation above the maximum before any subgraph is called', async () => {
    const url = await start({ cost: { maxCost: 50 } });
    const before = products.received.length;
    const res = await gql(url, '{ topProducts(first: 60) { upc } }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'COST_LIMIT_EXCEEDED',
      cost: { requestedQueryCost: 60, maximumCost: 50 },
    });
    expect(res.body.data).toBeUndefined();
    expect(products.received.length).toBe(before);
    const under = await gql(url, '{ topProducts(first: 50) { upc } }');
    expect(under.status).toBe(200);
  });

  it('reports requested and actual cost on every response, and charges only the actual cost', async () => {
    const url = await start({ ratelimit: plan(100, 0.001) });
    // estimated 4 × (1 + 5 × 1) = 24; the reviews lists hold 1 each, so actual = 4 × (1 + 1) = 8
    const res = await gql(url, '{ topProducts(first: 4) { upc reviews { body } } }');
    expect(res.status).toBe(200);
    expect((res.body as { extensions?: unknown }).extensions).toEqual({
      cost: {
        requestedQueryCost: 24,
        actualQueryCost: 8,
        throttleStatus: { maximumAvailable: 100, currentlyAvailable: 92, restoreRate: 0.001 },
      },
    });
    expect(res.headers.get('ratelimit-policy')).toMatch(/^"anonymous";q=100;w=\d+/);
    expect(res.headers.get('ratelimit')).toMatch(/^"anonymous";r=92;t=\d+$/);
    const next = await gql(url, TEN);
    expect(
      (next.body as { extensions: { cost: { throttleStatus: { currentlyAvailable: number } } } }).extensions
        .cost.throttleStatus.currentlyAvailable,
    ).toBe(82);
  });

  it('measure mode reports but never rejects', async () => {
    const url = await start({ cost: { maxCost: 5, mode: 'measure' }, ratelimit: plan(10, 0.001) });
    for (let i = 0; i < 3; i++) {
      const res = await gql(url, TEN);
      expect(res.status).toBe(200);
      expect(
        (res.body as { extensions: { cost: { requestedQueryCost: number } } }).extensions.cost
          .requestedQueryCost,
      ).toBe(10);
    }
  });
});

describe('cost mode off', () => {
  it('neither limits nor reports cost', async () => {
    const url = await start({ cost: { maxCost: 5, mode: 'off' }, ratelimit: { enabled: false } });
    const res = await gql(url, TEN);
    expect(res.status).toBe(200);
    expect(res.body.data?.topProducts).toHaveLength(10);
    expect((res.body as { extensions?: unknown }).extensions).toBeUndefined();
  });
});

describe('budget per client (T-R1 through the gateway)', () => {
  it('admits until the budget is spent, answers 429 with Retry-After, and admits again after that wait', async () => {
    const url = await start({ ratelimit: plan(100, 10) });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await gql(url, TEN)).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const before = products.received.length;
    const denied = await gql(url, TEN);
    expect(denied.status).toBe(429);
    expect(products.received.length).toBe(before); // a refused request reaches no subgraph
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(denied.headers.get('retry-after'));
    expect(retryAfter).toBe(1); // 10 points at 10 points/s
    expect(denied.headers.get('ratelimit')).toMatch(/;r=\d+;t=1$/);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
    expect((await gql(url, TEN)).status).toBe(200);
  });

  it('refuses a query bigger than the whole plan without a Retry-After', async () => {
    const url = await start({ ratelimit: plan(5, 1) });
    const res = await gql(url, TEN);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.body.errors?.[0]?.message).toMatch(/exceeds the anonymous plan's whole budget of 5/);
  });
});

// A federation that never heard of @cost or @listSize: posts → comments → author → posts, three nested lists.
const POSTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { posts: [Post!]! }
  type Post @key(fields: "id") { id: ID! title: String! comments: [Comment!]! }
  type Comment { id: ID! body: String! author: User! }
  type User @key(fields: "id") { id: ID! }
`;
const PEOPLE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type User @key(fields: "id") { id: ID! name: String! posts: [Post!]! }
  type Post @key(fields: "id") { id: ID! }
`;
const postIds = ['p1', 'p2', 'p3'];
const postsResolvers = {
  Query: { posts: () => postIds.map((id) => ({ id })) },
  Post: {
    __resolveReference: (ref: { id: string }) => ref,
    title: (p: { id: string }) => `Post ${p.id}`,
    comments: (p: { id: string }) =>
      [1, 2].map((n) => ({ id: `${p.id}c${n}`, body: `Comment ${n} on ${p.id}`, author: { id: `u${n}` } })),
  },
};
const peopleResolvers = {
  User: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id, name: `User ${ref.id}` }),
    posts: () => postIds.map((id) => ({ id })),
  },
};
const THREE_LISTS = '{ posts { title comments { body author { name posts { title } } } } }';

describe('default cost settings on a supergraph without cost directives', () => {
  let posts: TestSubgraph;
  let people: TestSubgraph;
  beforeAll(async () => {
    [posts, people] = await Promise.all([
      startTestSubgraph(POSTS, postsResolvers),
      startTestSubgraph(PEOPLE, peopleResolvers),
    ]);
  });
  afterAll(async () => {
    await Promise.all([posts?.stop(), people?.stop()]);
  });

  async function startPlain(overrides: Record<string, unknown>): Promise<string> {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [
          { name: 'posts', replicas: [posts.url], schemaFile: file('posts.graphql', POSTS) },
          { name: 'people', replicas: [people.url], schemaFile: file('people.graphql', PEOPLE) },
        ],
        ...overrides,
      },
    });
    const gateway = await createGateway({ config });
    gateways.push(gateway);
    return gateway.listen();
  }

  it('answers three nested lists with 200 twice in a row: no COST_LIMIT_EXCEEDED, no RATE_LIMITED', async () => {
    const url = await startPlain({}); // default cost and ratelimit sections: enforce, maxCost 1000, budget 1000
    for (let i = 0; i < 2; i++) {
      const res = await gql(url, THREE_LISTS);
      expect(res.body.errors).toBeUndefined();
      expect(res.status).toBe(200);
      const data = res.body.data as { posts: { comments: { author: { posts: unknown[] } }[] }[] };
      expect(data.posts).toHaveLength(3);
      expect(data.posts[0]!.comments[1]!.author).toEqual({
        name: 'User u2',
        posts: [{ title: 'Post p1' }, { title: 'Post p2' }, { title: 'Post p3' }],
      });
      // one list item per level: 1 × (1 + 1 × (1 + 1 + 1 × 1)) = 4; the actual cost counts what came back
      expect((res.body as { extensions?: { cost?: unknown } }).extensions?.cost).toMatchObject({
        requestedQueryCost: 4,
        actualQueryCost: 3 * (1 + 2 * (1 + 1 + 3 * 1)),
      });
    }
  });

  it('at 10 items per list, the old default, the same query was refused (1210 > 1000)', async () => {
    const url = await startPlain({ cost: { directiveFreeListSize: 10 } });
    const res = await gql(url, THREE_LISTS);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'COST_LIMIT_EXCEEDED',
      cost: { requestedQueryCost: 1210, maximumCost: 1000 },
    });
  });
});

const redisUrl = process.env.REDIS_URL;
describe.skipIf(!redisUrl)('Redis store shared by gateway instances', () => {
  it('200 concurrent requests against one budget admit exactly what it allows, across two instances', async () => {
    const prefix = `tollgate:test:${process.pid}:${Date.now()}:`;
    // A generous Redis timeout: this test is about one budget shared atomically, and on a loaded machine a
    // 50 ms call can time out, which (failureMode open) admits from each instance's local fallback instead.
    const common = {
      redis: { url: redisUrl },
      ratelimit: { ...plan(1000, 0.001), keyPrefix: prefix, redisTimeoutMs: 5_000 },
    };
    const [a, b] = await Promise.all([start(common), start(common)]);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => gql(i % 2 ? a : b, TEN)));
    const admitted = results.filter((r) => r.status === 200).length;
    const limited = results.filter((r) => r.status === 429).length;
    expect(admitted).toBe(100); // 1000 points / 10 per query; the restore rate adds nothing in this window
    expect(limited).toBe(100);
  });
});

/** A TCP server that accepts connections and never answers: a hung Redis. */
async function blackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('Redis trouble', () => {
  it('fails open within the timeout when Redis hangs, and closed with 503 when so configured', async () => {
    const hole = await blackHole();
    try {
      const open = await start({
        redis: { url: hole.url },
        ratelimit: { ...plan(100, 10), failureMode: 'open' },
      });
      const t0 = Date.now();
      const ok = await gql(open, TEN);
      expect(ok.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2_000);
      // the local fallback still caps a burst: 100 points / 10 per query
      const burst = await Promise.all(Array.from({ length: 15 }, () => gql(open, TEN)));
      expect(burst.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(5);

      const closed = await start({
        redis: { url: hole.url },
        ratelimit: { ...plan(100, 10), failureMode: 'closed' },
      });
      const t1 = Date.now();
      const refused = await gql(closed, TEN);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(Date.now() - t1).toBeLessThan(2_000);
    } finally {
      await hole.close();
    }
  });

  const hasRedisServer = (() => {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasRedisServer)('keeps serving when Redis is stopped mid-test (fail open)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const redis: ChildProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        redis.stdout!.on('data', (d: Buffer) => d.toString().includes('Ready to accept') && resolve());
        redis.once('exit', () => reject(new Error('redis-server exited')));
      });
      const url = await start({
        redis: { url: `redis://127.0.0.1:${port}` },
        ratelimit: { ...plan(100000, 1000), failureMode: 'open' },
      });
      expect((await gql(url, TEN)).status).toBe(200);
      redis.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 5; i++) {
        const t0 = Date.now();
        const res = await gql(url, TEN);
        expect(res.status).toBe(200);
        expect(Date.now() - t0).toBeLessThan(2_000);
      }
    } finally {
      redis.kill('SIGKILL');
    }
  });
});
