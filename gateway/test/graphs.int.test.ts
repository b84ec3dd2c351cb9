import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PROTOCOLS, subscribe } from '../../test/fixtures/subscribe.ts';
import { createGraphsGateway, type GraphsGateway, loadConfig } from '../src/index.ts';
import { startWsSubgraph, type WsSubgraph } from './fixtures/ws-subgraph.ts';
import {
  gql,
  killGateways,
  PRODUCTS_SDL,
  productsResolvers,
  spawnGateway,
  startTestSubgraph,
  type TestSubgraph,
  tempFiles,
} from './helpers.ts';

// Several graphs in one gateway (`graphs`, docs/graphs.md): two supergraphs on two paths, each over its
// own subgraphs, with budgets that are never shared, in process and over Redis (REDIS_URL).

const PARTNERS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Partner @key(fields: "id") { id: ID! name: String! contact: Contact }
  type Contact { email: String! }
  type Query { partners: [Partner!]! slowPartner: Partner! }
  type Subscription { partnerJoined: Partner! partnerTicks: Int! }
`;
const partnersResolvers = {
  Query: {
    partners: () => [{ id: 'p1', name: 'Acme', contact: { email: 'a@acme.test' } }],
    slowPartner: () => new Promise((r) => setTimeout(() => r({ id: 'slow', name: 'Slow' }), 300)),
  },
  Subscription: {
    partnerTicks: {
      async *subscribe() {
        yield { partnerTicks: 1 };
        await new Promise(() => {}); // open until the client or the gateway ends it
      },
    },
    partnerJoined: {
      async *subscribe() {
        for (const name of ['Beta', 'Gamma']) yield { partnerJoined: { id: name.toLowerCase(), name } };
      },
    },
  },
};

const files = tempFiles('graphs');
let products: TestSubgraph;
let partners: WsSubgraph;
const gateways: GraphsGateway[] = [];

beforeAll(async () => {
  [products, partners] = await Promise.all([
    startTestSubgraph(PRODUCTS_SDL, productsResolvers),
    startWsSubgraph(PARTNERS_SDL, partnersResolvers),
  ]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([products?.stop(), partners?.stop()]);
});

const TOP = '{ topProducts(first: 2) { upc name } }';
const PARTNERS = '{ partners { id name } }';

/** Graph `graphql` on /graphql over products; graph `partner-graphql` on /partner/graphql over partners. */
async function start(top: Record<string, unknown> = {}, partner: Record<string, unknown> = {}) {
  const config = loadConfig({
    env: {},
    base: {
      server: { port: 0, host: '127.0.0.1' },
      health: { probeTimeoutMs: 500 },
      ...top,
      graphs: [
        {
          path: '/graphql',
          subgraphs: [
            {
              name: 'products',
              replicas: [products.url],
              schemaFile: files.write('products.graphql', PRODUCTS_SDL),
            },
          ],
        },
        {
          path: '/partner/graphql',
          subgraphs: [
            {
              name: 'partners',
              replicas: [partners.url],
              schemaFile: files.write('partners.graphql', PARTNERS_SDL),
            },
          ],
          ...partner,
        },
      ],
    },
  });
  const gateway = await createGraphsGateway({ config });
  gateways.push(gateway);
  await gateway.listen();
  const [main, other] = gateway.urls as [string, string];
  return { gateway, main, partner: other, base: main.replace(/\/graphql$/, ''), admin: gateway.adminUrl! };
}

/** Anonymous budgets of `capacity` points that do not refill during a test. */
const tiny = (capacity: number) => ({
  plans: { anonymous: { capacity, restoreRate: 0.001 }, free: { capacity, restoreRate: 0.001 } },
});

describe('two graphs on two paths', () => {
  let g: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    g = await start({}, { limits: { maxDepth: 2 } });
  });

  it('answer from their own supergraphs: a field of one is a validation error on the other', async () => {
    const a = await gql(g.main, TOP);
    expect(a.status).toBe(200);
    expect(a.body.data).toEqual({
      topProducts: [
        { upc: '1', name: 'Product 1' },
        { upc: '2', name: 'Product 2' },
      ],
    });
    const b = await gql(g.partner, PARTNERS);
    expect(b.status).toBe(200);
    expect(b.body.data).toEqual({ partners: [{ id: 'p1', name: 'Acme' }] });

    const crossedA = await gql(g.main, PARTNERS);
    expect(crossedA.status).toBe(400);
    expect(crossedA.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const crossedB = await gql(g.partner, TOP);
    expect(crossedB.status).toBe(400);
    expect(crossedB.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    // the products subgraph heard only its own graph's operations
    expect(products.received.some((q) => q.includes('topProducts'))).toBe(true);
    expect(products.received.some((q) => q.includes('partners'))).toBe(false);
  });

  it("apply each graph's own limits (maxDepth 2 on the partner graph only)", async () => {
    const deep = await gql(g.partner, '{ partners { contact { email } } }');
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', limit: 'depth' });
    const sameDepthOnMain = await gql(g.main, '{ topProducts(first: 1) { upc } }');
    expect(sameDepthOnMain.status).toBe(200);
  });

  it('serve each graph its IDE, and 404 a path that is no graph', async () => {
    const page = await fetch(g.partner, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/partner/graphql/ide/graphiql.min.js');
    const asset = await fetch(`${g.base}/partner/graphql/ide/graphiql.min.css`);
    expect(asset.status).toBe(200);
    const missing = await fetch(`${g.base}/other/graphql`, { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('/graphql, /partner/graphql');
  });

  it('report readiness per graph, and metrics of every graph labelled by graph', async () => {
    const live = await fetch(`${g.base}/health/live`);
    expect(live.status).toBe(200);
    // the public port: the state only; the admin listener: the report
    const pub = await fetch(`${g.base}/health/ready`);
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual({ status: 'ready' });
    for (const path of ['/metrics', '/admin/pool'])
      expect((await fetch(`${g.base}${path}`)).status, path).toBe(404);
    const ready = await fetch(`${g.admin}/health/ready`);
    expect(ready.status).toBe(200);
    const report = (await ready.json()) as {
      state: string;
      graphs: Record<string, { path: string; ready: boolean; subgraphs: Record<string, unknown> }>;
    };
    expect(report.state).toBe('ready');
    expect(Object.keys(report.graphs)).toEqual(['graphql', 'partner-graphql']);
    expect(report.graphs['partner-graphql']).toMatchObject({ path: '/partner/graphql', ready: true });
    expect(Object.keys(report.graphs['partner-graphql']!.subgraphs)).toEqual(['partners']);
    expect(Object.keys(report.graphs.graphql!.subgraphs)).toEqual(['products']);

    await gql(g.partner, PARTNERS);
    const text = await (await fetch(`${g.admin}/metrics`)).text();
    expect(text).toMatch(
      /gateway_pool_fetches_total\{subgraph="partners",result="ok",graph="partner-graphql"\} \d+/,
    );
    expect(text).toMatch(/gateway_pool_fetches_total\{subgraph="products",result="ok",graph="graphql"\} \d+/);
    expect(text).toMatch(/gateway_requests_total\{operation="-",status="200",graph="partner-graphql"\} \d+/);
    // process-wide series once, with no graph label
    expect(text.match(/^# HELP gateway_requests_total /gm)).toHaveLength(1);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
  });

  it.each(PROTOCOLS)('serve subscriptions over %s on the graph of the path', async (protocol) => {
    const held = subscribe(protocol, g.partner, 'subscription { partnerJoined { name } }');
    try {
      expect(await held.waitFor(1)).toEqual({ data: { partnerJoined: { name: 'Beta' } } });
      expect(await held.waitFor(2)).toEqual({ data: { partnerJoined: { name: 'Gamma' } } });
    } finally {
      await held.close();
    }
    // the other graph has no such field (it has no subscriptions at all): refused, no event
    const crossed = subscribe(protocol, g.main, 'subscription { partnerJoined { name } }');
    try {
      await crossed.ended;
      expect(crossed.events.some((e) => e.data)).toBe(false);
      const refused = crossed.events.some((e) => e.errors?.length) || (crossed.closeCode() ?? 0) >= 400;
      expect(refused, JSON.stringify(crossed.events)).toBe(true);
    } finally {
      await crossed.close();
    }
  });

  it('take a WebSocket on a graph path to that graph, and refuse other paths', async () => {
    const acked = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`${g.partner.replace('http', 'ws')}`, 'graphql-transport-ws');
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
      ws.once('message', (m) => {
        ws.close();
        resolve(JSON.parse(String(m)).type);
      });
      ws.once('error', reject);
    });
    expect(acked).toBe('connection_ack');
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${g.base.replace('http', 'ws')}/nowhere`, 'graphql-transport-ws');
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      ws.once('error', () => resolve(undefined));
    });
    expect(status).toBe(404);
  });
});

/** Drains graph A's budget to 429, then checks graph B still answers the same principal, and A stays spent. */
async function budgetsApart(g: Awaited<ReturnType<typeof start>>) {
  let spent = 0;
  let last = 200;
  while (last !== 429 && spent < 50) {
    last = (await gql(g.main, TOP)).status;
    spent++;
  }
  expect(last).toBe(429);
  expect(spent).toBeGreaterThan(1); // the budget admitted something before it ran out
  for (let i = 0; i < 3; i++) expect((await gql(g.partner, PARTNERS)).status).toBe(200);
  expect((await gql(g.main, TOP)).status).toBe(429);
}

describe('budgets per graph', () => {
  it('a budget spent on one graph is not charged to the other (in-process store)', async () => {
    const g = await start({ ratelimit: tiny(12) });
    await budgetsApart(g);
  });

  it("a graph's own plans set its own budget sizes", async () => {
    const g = await start({ ratelimit: tiny(1000) }, { ratelimit: tiny(3) });
    let admitted = 0;
    for (let i = 0; i < 10; i++) if ((await gql(g.partner, PARTNERS)).status === 200) admitted++;
    expect(admitted).toBeLessThan(10);
    for (let i = 0; i < 10; i++) expect((await gql(g.main, TOP)).status).toBe(200);
  });
});

const redisUrl = process.env.REDIS_URL;
describe.skipIf(!redisUrl)('budgets per graph over Redis (REDIS_URL)', () => {
  it('one Redis serves both graphs without sharing a bucket: keys are namespaced by graph', async () => {
    const keyPrefix = `tollgate:test:graphs:${process.pid}:${Date.now()}:`;
    const g = await start({ redis: { url: redisUrl }, ratelimit: { ...tiny(12), keyPrefix } });
    await budgetsApart(g);
    const redis = new Redis(redisUrl!);
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      expect(keys.some((k) => k.startsWith(`${keyPrefix}graph:graphql:`))).toBe(true);
      expect(keys.some((k) => k.startsWith(`${keyPrefix}graph:partner-graphql:`))).toBe(true);
      expect(keys.every((k) => /^.*graph:(graphql|partner-graphql):/.test(k))).toBe(true);
    } finally {
      await redis.quit();
    }
  });
});

describe('each graph reloads on its own', () => {
  it('a changed subgraph schema swaps the supergraph of its graph only', async () => {
    const schemaFile = files.write('partners-reload.graphql', PARTNERS_SDL);
    const g = await start(
      {},
      {
        supergraph: { watch: true, pollIntervalMs: 100 },
        subgraphs: [{ name: 'partners', replicas: [partners.url], schemaFile }],
      },
    );
    const SINCE = '{ partners { id since } }';
    expect((await gql(g.partner, SINCE)).status).toBe(400);
    files.write(
      'partners-reload.graphql',
      PARTNERS_SDL.replace('contact: Contact }', 'contact: Contact since: Int }'),
    );
    const deadline = Date.now() + 10_000;
    let status = 400;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await gql(g.partner, SINCE)).status;
    }
    expect(status).toBe(200);
    const report = await g.gateway.readiness();
    expect(report.graphs['partner-graphql']!.supergraph.reloads).toBeGreaterThanOrEqual(1);
    expect(report.graphs.graphql!.supergraph.reloads).toBe(0);
    expect((await gql(g.main, SINCE)).status).toBe(400);
  });
});

describe('tollgate serve with graphs in its config file', () => {
  afterAll(() => killGateways());
  it('starts one process serving both graphs and names every URL on its ready line', async () => {
    const config = files.write(
      'graphs.yaml',
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'telemetry: { enabled: false, accessLog: false }',
        'log: { level: silent }',
        'graphs:',
        '  - path: /graphql',
        `    subgraphs: [{ name: products, replicas: ["${products.url}"], schemaFile: products.graphql }]`,
        '  - path: /partner/graphql',
        `    subgraphs: [{ name: partners, replicas: ["${partners.url}"], schemaFile: partners.graphql }]`,
      ].join('\n'),
    );
    files.write('products.graphql', PRODUCTS_SDL);
    files.write('partners.graphql', PARTNERS_SDL);
    const child = spawnGateway(['--config', config]);
    let stdout = '';
    child.child.stdout!.on('data', (d: Buffer) => (stdout += d));
    const main = await child.ready;
    expect(main).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const partner = main.replace(/\/graphql$/, '/partner/graphql');
    expect(stdout).toContain(`gateway ready at ${main} (also ${partner})`);
    expect((await gql(main, TOP)).status).toBe(200);
    expect((await gql(partner, PARTNERS)).body.data).toEqual({ partners: [{ id: 'p1', name: 'Acme' }] });
    expect((await gql(partner, TOP)).status).toBe(400);
    child.child.kill('SIGTERM');
    expect((await child.exit).code).toBe(0);
  });
});

describe('closing a gateway of several graphs', () => {
  it('finishes requests in flight, ends open subscriptions, then stops listening', async () => {
    const g = await start();
    gateways.splice(gateways.indexOf(g.gateway), 1);
    const held = subscribe('ws', g.partner, 'subscription { partnerTicks }');
    await held.waitFor(1);
    const inFlight = gql(g.partner, '{ slowPartner { name } }');
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await g.gateway.close(5_000);
    // drained once the slow request was done, not after the whole grace period
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await inFlight).body.data).toEqual({ slowPartner: { name: 'Slow' } });
    await held.ended;
    expect(held.closeCode()).toBe(1001);
    await expect(fetch(`${g.base}/health/live`)).rejects.toThrow();
  });
});
