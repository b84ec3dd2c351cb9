import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDb,
  createSubgraph,
  type Db,
  type ForwardedPrincipal,
  type ServiceDefinition,
  type Subgraph,
  type SubgraphContext,
  signRequest,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

// A subgraph started with a signing secret, over real HTTP: it serves only what the gateway signed.
const SECRET = 'kit-signing-int-test-secret-0123456789';
const alice: ForwardedPrincipal = { id: 'alice', kind: 'user', scopes: ['read:email'], plan: 'standard' };

const definition: ServiceDefinition = {
  name: 'kit-signing',
  dir: '.',
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    type Caller { id: ID! kind: String! scopes: [String!]! plan: String! }
    type Query { caller: Caller userId: ID gatewayHeaders: String }
  `),
  resolvers: {
    Query: {
      caller: (_: unknown, __: unknown, ctx: SubgraphContext) => ctx.principal ?? null,
      userId: (_: unknown, __: unknown, ctx: SubgraphContext) => ctx.userId ?? null,
      gatewayHeaders: (_: unknown, __: unknown, ctx: SubgraphContext) => JSON.stringify(ctx.gatewayHeaders),
    },
  },
};

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: Record<string, unknown> }[];
}

const QUERY = JSON.stringify({ query: '{ caller { id kind scopes plan } userId }' });

let database: TestDatabase;
let db: Db;
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
});
afterAll(async () => {
  await db?.close();
  await database?.close();
});

describe('createSubgraph({ signing })', () => {
  let subgraph: Subgraph;
  let url: string;

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as Body };
  };

  beforeAll(async () => {
    subgraph = createSubgraph(definition, { db, signing: { secret: SECRET } });
    url = await subgraph.listen();
  });
  afterAll(() => subgraph?.close());

  it('serves a correctly signed request with the principal in the context', async () => {
    expect(subgraph.verifiesSignatures).toBe(true);
    const res = await post(QUERY, signRequest(alice, QUERY, { secret: SECRET }));
    expect(res).toEqual({ status: 200, body: { data: { caller: alice, userId: 'alice' } } });
    const apiKey = { ...alice, id: 'key-1', kind: 'apikey' as const };
    const asKey = await post(QUERY, signRequest(apiKey, QUERY, { secret: SECRET }));
    expect(asKey.body).toEqual({ data: { caller: apiKey, userId: null } });
    const nobody = await post(QUERY, signRequest(null, QUERY, { secret: SECRET }));
    expect(nobody.body).toEqual({ data: { caller: null, userId: null } });
  });

  it("gives resolvers the header rules' headers the gateway signed, and no other", async () => {
    const body = JSON.stringify({ query: '{ gatewayHeaders }' });
    const added = { 'x-tenant': 'acme' };
    const signed = signRequest(alice, body, { secret: SECRET, headers: added });
    const res = await post(body, { ...signed, ...added, 'x-unsigned': 'mallory' });
    expect(res).toEqual({ status: 200, body: { data: { gatewayHeaders: '{"x-tenant":"acme"}' } } });
    const v1 = await post(body, { ...signRequest(alice, body, { secret: SECRET }), 'x-tenant': 'acme' });
    expect(v1.body).toEqual({ data: { gatewayHeaders: '{}' } });
    const tampered = await post(body, { ...signed, 'x-tenant': 'globex' });
    expect(tampered.status).toBe(403);
    expect(tampered.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', reason: 'SIGNATURE_INVALID' });
  });

  it('answers 401 UNAUTHENTICATED to a request without a signature', async () => {
    const before = subgraph.requests;
    const res = await post(QUERY, { 'x-user-id': 'alice' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      errors: [
        {
          message: expect.stringMatching(/signature missing/),
          extensions: { code: 'UNAUTHENTICATED', reason: 'SIGNATURE_MISSING' },
        },
      ],
    });
    expect(subgraph.requests).toBe(before);
  });

  it('answers 403 FORBIDDEN to a forged signature', async () => {
    const forged = signRequest(alice, QUERY, { secret: `${SECRET}-guess` });
    const res = await post(QUERY, forged);
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]).toEqual({
      message: 'bad request signature',
      extensions: { code: 'FORBIDDEN', reason: 'SIGNATURE_INVALID' },
    });
    // a genuine signature does not carry over to another body or another principal
    const genuine = signRequest(alice, QUERY, { secret: SECRET });
    const otherBody = await post(JSON.stringify({ query: '{ userId }' }), genuine);
    const otherPrincipal = await post(QUERY, {
      ...genuine,
      'x-tollgate-principal': Buffer.from(JSON.stringify({ ...alice, id: 'mallory' })).toString('base64url'),
    });
    expect([otherBody.status, otherPrincipal.status]).toEqual([403, 403]);
  });

  it('answers 403 to a replay older than the window, and to a timestamp too far ahead', async () => {
    const old = await post(
      QUERY,
      signRequest(alice, QUERY, { secret: SECRET, timestamp: Date.now() - 31_000 }),
    );
    expect(old.status).toBe(403);
    expect(old.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/outside the 30000 ms window/),
      extensions: { reason: 'SIGNATURE_STALE' },
    });
    const ahead = await post(
      QUERY,
      signRequest(alice, QUERY, { secret: SECRET, timestamp: Date.now() + 31_000 }),
    );
    expect(ahead.status).toBe(403);
  });

  it('refuses GET even when signed: the signature does not cover the query string', async () => {
    const headers = signRequest(alice, '', { secret: SECRET });
    const res = await fetch(`${url}?query=${encodeURIComponent('{ userId }')}`, {
      headers: { ...headers, 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('keeps GET /health and the pool probe open, and nothing else', async () => {
    const health = await fetch(url.replace('/graphql', '/health'));
    expect(health.status).toBe(200);
    const probe = await post('{"query":"{ __typename }"}');
    expect(probe).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
    for (const body of [
      '{"query":"{ __typename userId }"}',
      '{"query":"{ __typename }","variables":{"a":1}}',
      '{"query":"query { __typename }"}',
    ]) {
      expect((await post(body)).status, body).toBe(401);
    }
  });

  it('refuses a short secret at construction', () => {
    expect(() => createSubgraph(definition, { db, signing: { secret: 'short' } })).toThrow(
      /at least 32 characters/,
    );
  });
});

describe('createSubgraph without signing', () => {
  it('says once, at startup, that signatures are off', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const started: Subgraph[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = createSubgraph(definition, { db });
        started.push(s);
        await s.listen();
      }
      const lines = spy.mock.calls
        .map((args) => String(args[0]))
        .filter((l) => l.includes('signatures are off'));
      // this file's first unsigned subgraph: exactly one line for two startups
      expect(lines).toHaveLength(1);
    } finally {
      spy.mockRestore();
      await Promise.all(started.map((s) => s.close()));
    }
  });
});
