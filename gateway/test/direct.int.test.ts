import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { freePort, startTestSubgraph, type TestSubgraph, tempFiles } from './helpers.ts';

// Direct execution (gateway/src/server/direct-execution.ts): an operation Apollo Server has prepared runs
// without its pipeline from its second request on. Each case here is sent twice: the first answer comes
// through Apollo Server, the second (for the cases the direct path takes) without it, and the two must
// be the same answer: status, content type, headers, body.

const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@listSize"])
  type Product @key(fields: "upc") { upc: String! name: String! boom: String }
  type Query {
    topProducts(first: Int = 5): [Product!]! @listSize(slicingArguments: ["first"])
  }
  type Mutation { rename(upc: String!, name: String!): Product }
`;
const INVENTORY = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { stock: Int }
`;

const products = Array.from({ length: 5 }, (_, i) => ({ upc: String(i + 1), name: `Product ${i + 1}` }));
const files = tempFiles('direct');
let subgraph: TestSubgraph;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  subgraph = await startTestSubgraph(PRODUCTS, {
    Query: { topProducts: (_: unknown, { first }: { first: number }) => products.slice(0, first) },
    Mutation: { rename: (_: unknown, { upc, name }: { upc: string; name: string }) => ({ upc, name }) },
    Product: {
      __resolveReference: (ref: { upc: string }) => products.find((p) => p.upc === ref.upc),
      boom: () => {
        throw new Error('boom');
      },
    },
  });
  const dead = `http://127.0.0.1:${await freePort()}/graphql`;
  const config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      subgraphs: [
        { name: 'products', replicas: [subgraph.url], schemaFile: files.write('products.graphql', PRODUCTS) },
        { name: 'inventory', replicas: [dead], schemaFile: files.write('inventory.graphql', INVENTORY) },
      ],
      cost: { mode: 'enforce', maxCost: 50 },
      ratelimit: {
        enabled: true,
        plans: {
          anonymous: { capacity: 1_000_000, restoreRate: 1_000 },
          free: { capacity: 1_000_000, restoreRate: 1_000 },
        },
      },
    },
  });
  gateway = await createGateway({ config });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await subgraph?.stop();
});

interface Request {
  query: string;
  variables?: unknown;
  operationName?: string;
  headers?: Record<string, string>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// what differs between two answers to the same request by design: the time, the trace, the budget left
const VOLATILE = /^(date|traceparent|ratelimit|ratelimit-policy|x-ratelimit-.*)$/;

async function send(init: { body: string; headers?: Record<string, string> }): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of res.headers) headers[name] = VOLATILE.test(name) ? '…' : value;
  const body = (await res.text()).replace(/"currentlyAvailable":\d+/g, '"currentlyAvailable":0');
  return { status: res.status, headers, body };
}

/** Sends the request twice; returns both answers and whether the second went the direct way. */
async function twice(request: Request) {
  const body = JSON.stringify({
    query: request.query,
    variables: request.variables,
    operationName: request.operationName,
  });
  const first = await send({ body, headers: request.headers });
  const before = gateway.directStats.direct;
  const second = await send({ body, headers: request.headers });
  return { first, second, direct: gateway.directStats.direct - before };
}

describe('direct execution of prepared operations', () => {
  it('answers a prepared query as Apollo Server does, without its pipeline', async () => {
    const before = gateway.directStats.direct;
    const { first, second, direct } = await twice({ query: '{ topProducts(first: 2) { upc name } }' });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).data).toEqual({ topProducts: products.slice(0, 2) });
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(first.body).extensions.cost.requestedQueryCost).toBe(2);
    expect(first.headers.ratelimit).toBeDefined();
    expect(direct).toBe(1);
    expect(second).toEqual(first);
    // the first request was Apollo Server's: nothing went direct before the document was known
    expect(gateway.directStats.direct - before).toBe(1);
  });

  it.each([
    ['a partial result with a subgraph error', { query: '{ topProducts(first: 1) { upc boom } }' }],
    [
      'the operation chosen by operationName',
      {
        query: 'query A { topProducts(first: 1) { upc } } query B { topProducts(first: 3) { name } }',
        operationName: 'B',
      },
    ],
    ['variables', { query: 'query($n: Int!) { topProducts(first: $n) { upc } }', variables: { n: 3 } }],
    [
      'a variable that does not coerce (400, BAD_USER_INPUT)',
      { query: 'query($n: Int!) { topProducts(first: $n) { name } }', variables: { n: 'x' } },
    ],
    ['a cost above the limit (400, COST_LIMIT_EXCEEDED)', { query: '{ topProducts(first: 60) { upc } }' }],
    ['every fetch failing (503, SUBGRAPH_UNAVAILABLE)', { query: '{ stock }' }],
    ['a mutation', { query: 'mutation { rename(upc: "1", name: "One") { upc name } }' }],
    [
      'application/graphql-response+json',
      {
        query: '{ topProducts(first: 1) { name } }',
        headers: { accept: 'application/graphql-response+json' },
      },
    ],
    [
      '@defer to a JSON-only client (merged)',
      { query: '{ topProducts(first: 2) { upc ... @defer { name } } }' },
    ],
  ])('goes direct with the same answer: %s', async (_, request) => {
    const { first, second, direct } = await twice(request);
    expect(direct).toBe(1);
    expect(second).toEqual(first);
  });

  it('answers what the direct path leaves to Apollo Server exactly as before', async () => {
    const cases: Request[] = [
      // an operationName the document does not define
      { query: 'query A { topProducts(first: 1) { upc } }', operationName: 'Nope' },
      // an Accept no JSON type satisfies: Apollo Server's 406
      { query: '{ topProducts(first: 1) { upc } }', headers: { accept: 'text/html' } },
      // a credential that fails: the context fails, Apollo Server answers
      { query: '{ topProducts(first: 1) { upc } }', headers: { 'x-api-key': 'not-a-key' } },
      // malformed bodies around a prepared document: Apollo Server's own 400s
      { query: '{ topProducts(first: 1) { upc } }', variables: '{"n": 1}' },
      { query: '{ topProducts(first: 1) { upc } }', operationName: 7 as unknown as string },
    ];
    const statuses: number[] = [];
    for (const request of cases) {
      const { first, second, direct } = await twice(request);
      expect(direct).toBe(0);
      expect(second).toEqual(first);
      statuses.push(first.status);
    }
    expect(statuses[0]).toBeGreaterThanOrEqual(400);
    expect(statuses[1]).toBe(406);
    expect(statuses[2]).toBe(401);
    expect(statuses.slice(3)).toEqual([400, 400]);
  });

  it('states the statuses and codes it kept', async () => {
    const code = async (query: string, variables?: unknown) => {
      const { second } = await twice({ query, variables });
      return [second.status, JSON.parse(second.body).errors?.[0]?.extensions?.code];
    };
    expect(await code('query($n: Int!) { topProducts(first: $n) { upc name } }', { n: 'x' })).toEqual([
      400,
      'BAD_REQUEST', // the executor's variable errors carry a code (docs/errors.md), which Apollo Server keeps
    ]);
    expect(await code('{ topProducts(first: 70) { upc } }')).toEqual([400, 'COST_LIMIT_EXCEEDED']);
    expect(await code('{ stock }')).toEqual([503, 'SUBGRAPH_UNAVAILABLE']);
  });
});

describe('direct execution across a supergraph reload', () => {
  it('validates a prepared document again against the new schema: a field the reload removed is refused', async () => {
    const schemaFile = files.write('reload-products.graphql', PRODUCTS);
    const configNow = () =>
      loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          supergraph: { pollIntervalMs: 100 },
          subgraphs: [{ name: 'products', replicas: [subgraph.url], schemaFile }],
        },
      });
    const reloading = await createGateway({ config: configNow(), reloadConfig: configNow });
    try {
      const at = await reloading.listen();
      const ask = async () => {
        const res = await fetch(at, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ topProducts(first: 1) { upc boom } }' }),
        });
        return {
          status: res.status,
          body: (await res.json()) as { errors?: { extensions?: { code?: string } }[] },
        };
      };
      await ask();
      const before = reloading.directStats.direct;
      expect((await ask()).status).toBe(200);
      expect(reloading.directStats.direct).toBe(before + 1);
      // the new supergraph has no Product.boom
      writeFileSync(schemaFile, PRODUCTS.replace(' boom: String', ''));
      const t0 = Date.now();
      let answer = await ask();
      while (answer.status === 200 && Date.now() - t0 < 10_000) {
        await new Promise((r) => setTimeout(r, 50));
        answer = await ask();
      }
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const after = reloading.directStats.direct;
      expect((await ask()).status).toBe(400);
      expect(reloading.directStats.direct).toBe(after); // never prepared against the new schema
    } finally {
      await reloading.close(100);
    }
  });
});
