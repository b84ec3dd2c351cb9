import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql, startTestSubgraph, type TestSubgraph } from './helpers.ts';

// Field authorization as Apollo Router does it: denied fields are removed before planning, so the subgraph
// never sees them, and each comes back null with an error at its path.
const ACCOUNTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes", "@authenticated"])
  type User @key(fields: "id") { id: ID! username: String! email: String @requiresScopes(scopes: [["read:email"]]) }
  type Query { me: User users: [User!]! }
  type Mutation { rename(username: String!): User @authenticated }
`;
const users = [
  { id: '1', username: 'alice', email: 'alice@example.com' },
  { id: '2', username: 'bob', email: 'bob@example.com' },
];
const SECRET = 'an-hs256-secret-for-tests-only-0123456789';
const token = (scopes: string[]) =>
  new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuer('test-issuer')
    .setAudience('tollgate')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));

let accounts: TestSubgraph;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  accounts = await startTestSubgraph(ACCOUNTS, {
    Query: { me: () => users[0], users: () => users },
    Mutation: { rename: (_: unknown, a: { username: string }) => ({ ...users[0], username: a.username }) },
    User: { __resolveReference: (r: { id: string }) => users.find((u) => u.id === r.id) },
  });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-authz-'));
  writeFileSync(join(dir, 'accounts.graphql'), ACCOUNTS);
  gateway = await createGateway({
    config: loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        ratelimit: { enabled: false },
        auth: { jwt: { hs256Secret: SECRET, issuer: 'test-issuer', audience: 'tollgate' } },
        subgraphs: [
          { name: 'accounts', replicas: [accounts.url], schemaFile: join(dir, 'accounts.graphql') },
        ],
      },
    }),
  });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await accounts?.stop();
});

describe('@requiresScopes and @authenticated', () => {
  it('answers me { username email } without read:email with email null, one FORBIDDEN at me.email, and never asks for email', async () => {
    accounts.received.length = 0;
    const res = await gql(url, '{ me { username email } }', {
      headers: { authorization: `Bearer ${await token([])}` },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ me: { username: 'alice', email: null } });
    expect(res.body.errors).toEqual([
      { message: 'Missing scope for User.email', path: ['me', 'email'], extensions: { code: 'FORBIDDEN' } },
    ]);
    expect(accounts.received.length).toBe(1);
    expect(accounts.received[0]).not.toContain('email');
  });

  it('serves the field with the scope, and does not reuse the plan of a less privileged caller', async () => {
    accounts.received.length = 0;
    const res = await gql(url, '{ me { username email } }', {
      headers: { authorization: `Bearer ${await token(['read:email'])}` },
    });
    expect(res.body.data).toEqual({ me: { username: 'alice', email: 'alice@example.com' } });
    expect(res.body.errors).toBeUndefined();
    expect(accounts.received[0]).toContain('email');
    // and back: the privileged plan must not leak to the next unprivileged caller
    accounts.received.length = 0;
    const again = await gql(url, '{ me { username email } }', {
      headers: { authorization: `Bearer ${await token([])}` },
    });
    expect(again.body.data).toEqual({ me: { username: 'alice', email: null } });
    expect(accounts.received[0]).not.toContain('email');
  });

  it('puts an error at every list index', async () => {
    const res = await gql(url, '{ users { id email } }', {
      headers: { authorization: `Bearer ${await token([])}` },
    });
    expect(res.body.data).toEqual({
      users: [
        { id: '1', email: null },
        { id: '2', email: null },
      ],
    });
    expect(res.body.errors?.map((e) => e.path)).toEqual([
      ['users', 0, 'email'],
      ['users', 1, 'email'],
    ]);
  });

  it('tells an anonymous caller to authenticate: 200 with the error at the path when something is left, 401 when nothing is', async () => {
    const partial = await gql(url, '{ users { id email } }');
    expect(partial.status).toBe(200);
    expect(partial.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    accounts.received.length = 0;
    const none = await gql(url, 'mutation { rename(username: "x") { id } }');
    expect(none.status).toBe(401);
    expect(none.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(accounts.received.length).toBe(0);
    const allowed = await gql(url, 'mutation { rename(username: "x") { username } }', {
      headers: { authorization: `Bearer ${await token([])}` },
    });
    expect(allowed.body.data).toEqual({ rename: { username: 'x' } });
    expect(allowed.body.errors).toBeUndefined();
  });

  it('answers 403 when an authenticated caller may see nothing of the operation', async () => {
    const res = await gql(url, '{ me { email } }', {
      headers: { authorization: `Bearer ${await token([])}` },
    });
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
