import { request as httpRequest } from 'node:http';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadUserInputError,
  createDb,
  createSubgraph,
  type Db,
  loadOne,
  type ServiceDefinition,
  type Subgraph,
  type SubgraphContext,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

const loaders = {
  itemById: loadOne<{ id: string; name: string }>({
    sql: 'SELECT id, name FROM kit_test.items WHERE id = ANY($1)',
    key: 'id',
  }),
  // the same rows through the shared cache (the subgraph's default: in-process, cold at start)
  cachedItemById: loadOne<{ id: string; name: string }>({
    sql: 'SELECT id, name FROM kit_test.items WHERE id = ANY($1)',
    key: 'id',
    cache: {},
  }),
};
type Context = SubgraphContext<typeof loaders>;

let release: (() => void) | undefined;

const definition: ServiceDefinition<typeof loaders> = {
  name: 'kit-test',
  dir: '.',
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    type Item @key(fields: "id") { id: ID! name: String! }
    type Query {
      whoami: String
      items(ids: [ID!]!): [Item]!
      cachedItems(ids: [ID!]!): [Item]!
      slow: String!
      fail(bad: Boolean!): String
    }
  `),
  resolvers: {
    Query: {
      whoami: (_: unknown, __: unknown, ctx: Context) => ctx.userId ?? null,
      items: (_: unknown, { ids }: { ids: string[] }, ctx: Context) => ctx.loaders.itemById.loadMany(ids),
      cachedItems: (_: unknown, { ids }: { ids: string[] }, ctx: Context) =>
        ctx.loaders.cachedItemById.loadMany(ids),
      // Holds the request open until the test calls release().
      slow: () => new Promise((resolve) => (release = () => resolve('done'))),
      fail: (_: unknown, { bad }: { bad: boolean }) => {
        if (bad) throw new BadUserInputError('bad input');
        throw new Error('secret internals');
      },
    },
    Item: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.itemById.load(ref.id),
    },
  },
};

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: Record<string, unknown> }[];
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

describe('createSubgraph', () => {
  let database: TestDatabase;
  let db: Db;
  let subgraph: Subgraph;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url);
    await db.query(`CREATE SCHEMA kit_test;
      CREATE TABLE kit_test.items (id text PRIMARY KEY, name text NOT NULL);
      INSERT INTO kit_test.items SELECT i::text, 'item ' || i FROM generate_series(1, 100) i;`);
    // Apollo reads NODE_ENV when it is constructed; development is where its defaults leak most.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      subgraph = createSubgraph(definition, { db, loaders });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    url = await subgraph.listen();
  });
  afterAll(async () => {
    await subgraph?.close();
    await db?.close();
    await database?.close();
  });

  it('listens on a free loopback port at /graphql', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(url).not.toContain(':0/');
  });

  it('serves GraphQL over POST and GET', async () => {
    const viaPost = await post(
      url,
      JSON.stringify({ query: '{ items(ids: ["2", "404", "1"]) { id name } }' }),
    );
    expect(viaPost.status).toBe(200);
    expect(viaPost.body).toEqual({
      data: { items: [{ id: '2', name: 'item 2' }, null, { id: '1', name: 'item 1' }] },
    });

    const viaGet = await fetch(`${url}?query=${encodeURIComponent('{ items(ids: ["3"]) { name } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await viaGet.json()).toEqual({ data: { items: [{ name: 'item 3' }] } });
  });

  it('resolves entities with one statement however many representations arrive', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id name } } }';
    const count = async (n: number) => {
      const r = Array.from({ length: n }, (_, i) => ({ __typename: 'Item', id: String(i + 1) }));
      const before = db.statements;
      const res = await post(url, JSON.stringify({ query, variables: { r } }));
      expect(res.body.data?._entities).toHaveLength(n);
      return db.statements - before;
    };
    expect(await count(5)).toBe(1);
    expect(await count(50)).toBe(1);
  });

  it('without signing, serves unsigned requests but lets no header name a user', async () => {
    const anonymous = await post(url, JSON.stringify({ query: '{ whoami }' }));
    const claimed = await post(url, JSON.stringify({ query: '{ whoami }' }), {
      'x-user-id': '42',
      'x-tollgate-principal': Buffer.from(
        JSON.stringify({ id: '42', kind: 'user', scopes: [], plan: 'free' }),
      ).toString('base64url'),
    });
    expect(subgraph.verifiesSignatures).toBe(false);
    expect(anonymous.body).toEqual({ data: { whoami: null } });
    expect(claimed.body).toEqual({ data: { whoami: null } });
  });

  it('keeps BAD_USER_INPUT and hides stack traces whatever NODE_ENV says', async () => {
    const bad = await post(url, JSON.stringify({ query: '{ fail(bad: true) }' }));
    expect(bad.body.errors).toMatchObject([{ message: 'bad input', extensions: { code: 'BAD_USER_INPUT' } }]);
    const internal = await post(url, JSON.stringify({ query: '{ fail(bad: false) }' }));
    const [error] = internal.body.errors ?? [];
    expect(error?.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error?.extensions).not.toHaveProperty('stacktrace');
  });

  it('answers malformed JSON with 400 and a GraphQL error body', async () => {
    const res = await post(url, '{"query": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    expect(res.body.errors?.[0]?.message).toMatch(/Malformed JSON/);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const big = JSON.stringify({ query: '{ whoami }', variables: { pad: 'x'.repeat(1024 * 1024) } });
    const res = await post(url, big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('refuses a chunked body over 1 MB with 413 even without a content-length', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 20; i++) req.write(chunk);
      req.end();
    });
    expect(status).toBe(413);
  });

  it('accepts a body just under 1 MB', async () => {
    const padding = 'x'.repeat(1024 * 1024 - 100);
    const res = await post(url, JSON.stringify({ query: '{ whoami }', variables: { padding } }));
    expect(res.status).toBe(200);
  });

  it('keeps connections alive for longer than a load balancer idles', async () => {
    const keepAlive = await new Promise<unknown>((resolve, reject) => {
      const req = httpRequest(
        url.replace('/graphql', '/health'),
        { headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          resolve(res.headers['keep-alive']);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(keepAlive).toBe('timeout=65');
  });

  it('reports health with the number of GraphQL requests served', async () => {
    const health = async () =>
      (await (await fetch(url.replace('/graphql', '/health'))).json()) as { requests: number };
    const before = await health();
    await post(url, JSON.stringify({ query: '{ whoami }' }));
    await post(url, JSON.stringify({ query: '{ whoami }' }));
    const after = await health();
    expect(after).toEqual({ status: 'ok', service: 'kit-test', requests: before.requests + 2 });
    expect(subgraph.requests).toBe(after.requests);
  });

  it('serves Prometheus metrics whose loader counters move by what a query loaded', async () => {
    const scrape = async () => {
      const res = await fetch(url.replace('/graphql', '/metrics'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = new Map<string, number>();
      for (const line of (await res.text()).split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
        expect(m, `not Prometheus text: ${line}`).not.toBeNull();
        samples.set(m![1]!, Number(m![2]));
      }
      return samples;
    };
    const labels = 'service="kit-test",loader="cachedItemById"';
    const before = await scrape();
    const query = JSON.stringify({ query: '{ cachedItems(ids: ["41", "42", "43"]) { id } }' });
    await post(url, query);
    await post(url, query);
    const after = await scrape();
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('subgraph_graphql_requests_total{service="kit-test"}')).toBe(2);
    expect(delta(`subgraph_loader_batches_total{${labels}}`)).toBe(2);
    // cold: three keys from one statement; warm: the same three from the shared cache, no statement
    expect(delta(`subgraph_loader_keys_total{${labels},source="database"}`)).toBe(3);
    expect(delta(`subgraph_loader_keys_total{${labels},source="cache"}`)).toBe(3);
    expect(delta(`subgraph_loader_statements_total{${labels}}`)).toBe(1);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
    // anything but GET or HEAD is refused, naming the method to use, and the replica keeps serving
    const wrong = await fetch(url.replace('/graphql', '/metrics'), { method: 'POST', body: '{}' });
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as Body).errors?.[0]?.message).toBe('Use GET /metrics');
    expect((await post(url, JSON.stringify({ query: '{ whoami }' }))).status).toBe(200);
  });

  it('answers unknown paths with 404', async () => {
    expect((await fetch(url.replace('/graphql', '/nope'))).status).toBe(404);
  });
});

describe('health', () => {
  it('is 503 when the database does not answer', async () => {
    // Port 1 on loopback refuses connections.
    const db = createDb('postgres://postgres@127.0.0.1:1/postgres');
    const subgraph = createSubgraph(definition, { db, loaders });
    const url = await subgraph.listen();
    try {
      const res = await fetch(url.replace('/graphql', '/health'));
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'unavailable', service: 'kit-test', requests: 0 });
    } finally {
      await subgraph.close();
      await db.close();
    }
  });
});

describe('close', () => {
  it('finishes in-flight requests, then stops accepting', async () => {
    const db = createDb('postgres://postgres@127.0.0.1:1/postgres');
    const subgraph = createSubgraph(definition, { db, loaders });
    const url = await subgraph.listen();
    try {
      const inFlight = post(url, JSON.stringify({ query: '{ slow }' }));
      await waitFor(() => release !== undefined);
      let closed = false;
      const closing = subgraph.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed).toBe(false);
      release?.();
      expect((await inFlight).body).toEqual({ data: { slow: 'done' } });
      await closing;
      await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
    } finally {
      await subgraph.close();
      await db.close();
    }
  });

  it('rejects listen() on a taken port and can still be closed', async () => {
    const db = createDb('postgres://postgres@127.0.0.1:1/postgres');
    const first = createSubgraph(definition, { db, loaders });
    const port = new URL(await first.listen()).port;
    const second = createSubgraph(definition, { db, loaders });
    try {
      await expect(second.listen({ port: Number(port) })).rejects.toThrow(/EADDRINUSE/);
      await second.close();
    } finally {
      await first.close();
      await db.close();
    }
  });

  it('can be closed without ever listening, and cannot listen twice', async () => {
    const db = createDb('postgres://postgres@127.0.0.1:1/postgres');
    await createSubgraph(definition, { db, loaders }).close();
    const subgraph = createSubgraph(definition, { db, loaders });
    await subgraph.listen();
    await expect(subgraph.listen()).rejects.toThrow(/already/);
    await subgraph.close();
    await db.close();
  });
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error('timed out waiting');
}
