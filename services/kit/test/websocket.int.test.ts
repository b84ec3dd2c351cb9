import { parse } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
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

// Subscriptions over WebSocket on a kit subgraph: the principal of a signed upgrade is the context of
// every operation on that connection, and a `Subscription` resolver ({ subscribe, resolve }) fits the
// kit's Resolvers type as written.
const SECRET = 'kit-websocket-int-test-secret-0123456789';
const alice: ForwardedPrincipal = { id: 'alice', kind: 'user', scopes: ['read:email'], plan: 'standard' };

const definition: ServiceDefinition = {
  name: 'kit-ws',
  dir: '.',
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
    type Caller { id: ID! kind: String! userId: ID }
    type Query { ok: Boolean }
    type Subscription { callers(times: Int!): Caller }
  `),
  resolvers: {
    Subscription: {
      callers: {
        subscribe: async function* (_: unknown, { times }: { times: number }, ctx: SubgraphContext) {
          for (let i = 0; i < times; i++) yield ctx;
        },
        resolve: (ctx: SubgraphContext) =>
          ctx.principal
            ? { id: ctx.principal.id, kind: ctx.principal.kind, userId: ctx.userId ?? null }
            : null,
      },
    },
  },
};

const signedAs = (principal: ForwardedPrincipal | null) =>
  class SignedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: signRequest(principal, '', { secret: SECRET }) });
    }
  };

async function collect(url: string, impl: unknown): Promise<unknown[]> {
  const client = createClient({ url, webSocketImpl: impl, retryAttempts: 0 });
  const out: unknown[] = [];
  try {
    for await (const result of client.iterate({
      query: 'subscription { callers(times: 2) { id kind userId } }',
    })) {
      out.push(result);
    }
  } finally {
    await client.dispose();
  }
  return out;
}

let database: TestDatabase;
let db: Db;
const subgraphs: Subgraph[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
});
afterAll(async () => {
  await Promise.all(subgraphs.map((s) => s.close()));
  await db?.close();
  await database?.close();
});

const start = async (signing: boolean) => {
  const subgraph = createSubgraph(definition, { db, ...(signing ? { signing: { secret: SECRET } } : {}) });
  subgraphs.push(subgraph);
  return (await subgraph.listen()).replace(/^http/, 'ws');
};

describe('createSubgraph: subscriptions over WebSocket', () => {
  it('gives every operation the principal its upgrade was signed for', async () => {
    const url = await start(true);
    const asAlice = { data: { callers: { id: 'alice', kind: 'user', userId: 'alice' } } };
    expect(await collect(url, signedAs(alice))).toEqual([asAlice, asAlice]);
    const key = { ...alice, id: 'key-1', kind: 'apikey' as const };
    expect(await collect(url, signedAs(key))).toEqual([
      { data: { callers: { id: 'key-1', kind: 'apikey', userId: null } } },
      { data: { callers: { id: 'key-1', kind: 'apikey', userId: null } } },
    ]);
    expect(await collect(url, signedAs(null))).toEqual([
      { data: { callers: null } },
      { data: { callers: null } },
    ]);
  });

  it('serves subscriptions only: a query or mutation over the socket is an error, not run', async () => {
    const url = await start(true);
    const client = createClient({ url, webSocketImpl: signedAs(alice), retryAttempts: 0 });
    try {
      const results: unknown[] = [];
      const errors: unknown[] = [];
      await new Promise<void>((resolve) => {
        client.subscribe(
          { query: '{ ok }' },
          {
            next: (r) => results.push(r),
            error: (e) => {
              errors.push(e);
              resolve();
            },
            complete: resolve,
          },
        );
      });
      expect(results).toEqual([]);
      expect(errors).toEqual([
        [
          expect.objectContaining({
            message: expect.stringMatching(/Only subscriptions/),
            extensions: { code: 'BAD_REQUEST' },
          }),
        ],
      ]);
    } finally {
      await client.dispose();
    }
  });

  it('without signing, accepts unsigned upgrades and ignores a principal header', async () => {
    const url = await start(false);
    class Claiming extends WebSocket {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols, {
          headers: { 'x-tollgate-principal': Buffer.from(JSON.stringify(alice)).toString('base64url') },
        });
      }
    }
    expect(await collect(url, Claiming)).toEqual([{ data: { callers: null } }, { data: { callers: null } }]);
  });
});
