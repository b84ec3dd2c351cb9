import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signRequest } from '@tollgate/kit';
import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as accounts from '../../services/accounts/src/server.ts';
import * as reviews from '../../services/reviews/src/server.ts';
import { loadDevSigningKey, signDevToken } from '../src/auth/index.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql } from './helpers.ts';

// Real subgraphs (services/kit) started with a signing secret: a direct request is refused unless the
// gateway signed it, and through a gateway holding the same secret they serve, seeing the caller.
const SECRET = 'subgraph-signing-int-test-secret-0123456789';
const signing = { secret: SECRET };
const dir = mkdtempSync(join(tmpdir(), 'tollgate-signing-'));
const alice = { id: '42', kind: 'user', scopes: [], plan: 'free' } as const;

let accountsSg: TestSubgraph;
let reviewsSg: TestSubgraph;
let gateway: Gateway;
let url: string;
let token: (sub: string) => Promise<string>;

beforeAll(async () => {
  [accountsSg, reviewsSg] = await Promise.all([
    startTestSubgraph(accounts, { deps: { signing } }),
    startTestSubgraph(reviews, { deps: { signing } }),
  ]);
  const key = await loadDevSigningKey(join(dir, 'dev-keys'));
  token = (sub) =>
    signDevToken({ sub, scopes: ['read:email'] }, { issuer: 'tollgate-dev', audience: 'tollgate', key });
  const config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      // no schemaFile: the gateway asks each replica for `_service { sdl }`, and must sign that too
      subgraphs: [
        { name: 'accounts', replicas: [accountsSg.url] },
        { name: 'reviews', replicas: [reviewsSg.url] },
      ],
      auth: { jwt: { jwksFile: key.jwksFile, issuer: 'tollgate-dev', audience: 'tollgate', typ: 'at+jwt' } },
      ratelimit: { enabled: false },
    },
    env: { TOLLGATE_SIGNING_SECRET: SECRET },
  });
  gateway = await createGateway({ config });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await Promise.all([accountsSg?.close(), reviewsSg?.close()]);
});

describe('a subgraph replica with a signing secret, asked directly', () => {
  const ME = JSON.stringify({ query: '{ me { id username } }' });
  const post = async (headers: Record<string, string>, body = ME) => {
    const res = await fetch(accountsSg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return {
      status: res.status,
      body: (await res.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] },
    };
  };

  it('answers 401 without a signature', async () => {
    const res = await post({ 'x-user-id': '42' });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(res.body.data).toBeUndefined();
  });

  it('answers 403 to a forged signature', async () => {
    const res = await post(signRequest(alice, ME, { secret: 'a-guessed-secret-that-is-long-enough-0000' }));
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
  });

  it('answers 403 to a replay older than the window', async () => {
    const captured = signRequest(alice, ME, { secret: SECRET, timestamp: Date.now() - 60_000 });
    const res = await post(captured);
    expect(res.status).toBe(403);
  });

  it('serves a correctly signed request, as the signed user', async () => {
    const res = await post(signRequest(alice, ME, { secret: SECRET }));
    expect(res).toEqual({ status: 200, body: { data: { me: { id: '42', username: 'user42' } } } });
  });
});

describe('the same replicas through a gateway holding the secret', () => {
  it('serves, and the subgraph sees the principal', async () => {
    const res = await gql(url, '{ me { id username } }', {
      headers: { authorization: `Bearer ${await token('42')}` },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ data: { me: { id: '42', username: 'user42' } } });
  });

  it('forwards anonymous callers as anonymous: me is null', async () => {
    const res = await gql(url, '{ me { id } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ me: null });
  });

  it('writes a review as the token’s subject', async () => {
    const res = await gql(
      url,
      'mutation { addReview(upc: "000001", body: "Signed.", rating: 5) { body author { id username } } }',
      {
        headers: { authorization: `Bearer ${await token('7')}` },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ addReview: { body: 'Signed.', author: { id: '7', username: 'user7' } } });
    const [row] = await reviewsSg.db.query<{ author_id: string }>(
      "SELECT author_id FROM reviews.reviews WHERE body = 'Signed.'",
    );
    expect(row?.author_id).toBe('7');
  });
});

describe('a gateway whose secret the subgraphs do not share', () => {
  it('does not start: the subgraphs refuse its `_service { sdl }` requests', async () => {
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [{ name: 'accounts', replicas: [accountsSg.url] }],
        ratelimit: { enabled: false },
      },
      env: { TOLLGATE_SIGNING_SECRET: 'another-secret-entirely-0123456789abcdef' },
    });
    await expect(createGateway({ config })).rejects.toMatchObject({
      code: 'SUPERGRAPH_UNAVAILABLE',
      message: expect.stringMatching(/answered 403/),
    });
  });
});
