import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type ForwardedPrincipal, verifySignedRequest } from '@tollgate/kit';
import { parse } from 'graphql';
import { type CryptoKey, exportSPKI, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyManager, createFileApiKeyStore } from '../src/auth/index.ts';
import {
  AUDIENCE,
  createTestKey,
  ISSUER,
  nowSec,
  startTestServer,
  type TestKey,
  type TestServer,
} from '../src/auth/test-support.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql, PRODUCTS_SDL, productsResolvers, REVIEWS_SDL, reviewsResolvers, tempFiles } from './helpers.ts';

// Authentication through a real gateway over HTTP: JWTs from a JWKS served by a local HTTP server, API
// keys from the file `npm run apikey:new` writes, and subgraphs that verify the gateway's signature and
// record everything they receive.

const ROOT = new URL('../..', import.meta.url).pathname;
const SECRET = 'auth-int-test-signing-secret-0123456789';
const CAPACITY = { anonymous: 100, standard: 500 };
const files = tempFiles('auth');
const { dir } = files;
const keyFile = join(dir, 'state', 'api-keys.json');
const sdlFile = (name: string, sdl: string) => files.write(`${name}.graphql`, sdl);

type Received = {
  headers: IncomingHttpHeaders;
  query: string;
  principal: ForwardedPrincipal | null | 'unsigned';
};
type RecordingSubgraph = { url: string; received: Received[]; close(): Promise<void> };

/** An in-process subgraph behind a raw HTTP server: records headers, body and the verified principal. */
async function startRecordingSubgraph(sdl: string, resolvers: object): Promise<RecordingSubgraph> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers: resolvers as never }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const received: Received[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as { query?: string }) : undefined;
    let principal: Received['principal'];
    try {
      principal = verifySignedRequest(req.headers, raw, { secret: SECRET });
    } catch {
      principal = 'unsigned';
    }
    // The pool's health probe is not traffic.
    if (body?.query !== '{ __typename }')
      received.push({ headers: req.headers, query: body?.query ?? '', principal });
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: '', body },
      context: async () => ({}),
    });
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.statusCode = response.status ?? 200;
    res.end(response.body.kind === 'complete' ? response.body.string : '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    async close() {
      server.closeAllConnections();
      server.close();
      await apollo.stop();
    },
  };
}

type LogLine = { level: string; message: string; fields?: Record<string, unknown> };

let jwks: TestServer;
let attacker: TestServer;
let deadJwks: TestServer;
let key: TestKey;
let products: RecordingSubgraph;
let reviews: RecordingSubgraph;
const logs: LogLine[] = [];
const gateways: Gateway[] = [];
let url: string;
let deadUrl: string;

async function startGateway(jwksUrl: string): Promise<string> {
  const config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      subgraphs: [
        { name: 'products', replicas: [products.url], schemaFile: sdlFile('products', PRODUCTS_SDL) },
        { name: 'reviews', replicas: [reviews.url], schemaFile: sdlFile('reviews', REVIEWS_SDL) },
      ],
      auth: {
        anonymous: { enabled: true, plan: 'anonymous' },
        jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' },
        apiKeys: { file: keyFile },
        // these tests send many bad credentials from one address on purpose: the failed-authentication
        // throttle (trust.int.test.ts) would answer them 429 instead of the 401 under test
        failureThrottle: { capacity: 0 },
        // and each refusal's warning line is asserted: none sampled away
        failureLog: { linesPerWindow: 1_000 },
      },
      // a tiny restore rate: whatever was charged stays visible
      ratelimit: {
        plans: {
          anonymous: { capacity: CAPACITY.anonymous, restoreRate: 0.001 },
          free: { capacity: CAPACITY.anonymous, restoreRate: 0.001 },
          standard: { capacity: CAPACITY.standard, restoreRate: 0.001 },
        },
      },
    },
    env: { TOLLGATE_SIGNING_SECRET: SECRET },
  });
  const logger = {
    info: (message: string, fields?: Record<string, unknown>) =>
      logs.push({ level: 'info', message, fields }),
    warn: (message: string, fields?: Record<string, unknown>) =>
      logs.push({ level: 'warn', message, fields }),
    error: (message: string, fields?: Record<string, unknown>) =>
      logs.push({ level: 'error', message, fields }),
  };
  const gateway = await createGateway({ config, logger });
  gateways.push(gateway);
  return gateway.listen();
}

beforeAll(async () => {
  key = await createTestKey('k1');
  [jwks, attacker, deadJwks, products, reviews] = await Promise.all([
    startTestServer([key.publicJwk]),
    startTestServer(),
    startTestServer(),
    startRecordingSubgraph(PRODUCTS_SDL, productsResolvers),
    startRecordingSubgraph(REVIEWS_SDL, reviewsResolvers),
  ]);
  deadJwks.mode = { status: 503, body: '<h1>down</h1>' };
  [url, deadUrl] = await Promise.all([startGateway(jwks.jwksUrl), startGateway(deadJwks.jwksUrl)]);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close(100)));
  await Promise.all([
    jwks?.close(),
    attacker?.close(),
    deadJwks?.close(),
    products?.close(),
    reviews?.close(),
  ]);
});

const QUERY = '{ topProducts(first: 3) { upc name } }';
interface Cost {
  requestedQueryCost: number;
  actualQueryCost: number;
  throttleStatus: { currentlyAvailable: number };
}
/**
 * What a request takes from its budget: the estimate, refunded down to the actual cost when that is
 * lower. These subgraphs apply no cost directives, so each list counts 1 and the estimate is the lower.
 */
const charged = (cost: Cost) => Math.min(cost.requestedQueryCost, cost.actualQueryCost);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const received = () => products.received.length + reviews.received.length;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'alice',
  iss: ISSUER,
  aud: AUDIENCE,
  exp: nowSec() + 600,
  plan: 'standard',
  ...extra,
});
// key.sign() fills iss/aud in; a token without one of them is signed here.
const signWithout = (name: 'iss' | 'aud') => {
  const c: Record<string, unknown> = claims();
  delete c[name];
  return new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' }).sign(key.privateKey);
};

/** Strings that must never show up in a response or a log: the token and its parts. */
function secretsOf(token: string): string[] {
  return [token, ...token.split('.').filter((part) => part.length >= 8), ...key.material];
}

describe('JWT rejections through the gateway (RFC 8725; docs/design.md#jwt-validation)', () => {
  type Row = [
    id: string,
    what: string,
    token: () => Promise<string>,
    reason: string,
    message: RegExp,
    gatewayUrl?: () => string,
  ];
  const rows: Row[] = [
    [
      'J1',
      'alg none with an empty signature',
      async () => `${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64(claims())}.`,
      'alg_not_allowed',
      /algorithm not allowed/,
    ],
    [
      'J2',
      'HS256 signed with the RS256 public key as HMAC secret',
      async () => {
        const pem = await exportSPKI(
          (await importJWK(key.publicJwk, 'RS256', { extractable: true })) as CryptoKey,
        );
        return new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
          .sign(new TextEncoder().encode(pem));
      },
      'alg_not_allowed',
      /algorithm not allowed/,
    ],
    [
      'J3',
      'kid "../../dev/null"',
      () => key.sign(claims(), { kid: '../../dev/null' }),
      'unknown_key',
      /unknown signing key/,
    ],
    [
      'J3',
      'kid "\' OR 1=1--"',
      () => key.sign(claims(), { kid: "' OR 1=1--" }),
      'unknown_key',
      /unknown signing key/,
    ],
    [
      'J4',
      'jku/x5u pointing at an attacker URL',
      async () => {
        const evil = await createTestKey('evil');
        attacker.setKeys([evil.publicJwk]);
        return evil.sign(claims(), { jku: attacker.jwksUrl, x5u: `${attacker.url}/cert.pem` } as never);
      },
      'unknown_key',
      /unknown signing key/,
    ],
    [
      'J5',
      'exp in the past beyond the clock tolerance',
      () => key.sign(claims({ exp: nowSec() - 60 })),
      'expired',
      /token expired/,
    ],
    [
      'J5',
      'nbf in the future beyond the clock tolerance',
      () => key.sign(claims({ nbf: nowSec() + 120 })),
      'not_yet_valid',
      /not yet valid/,
    ],
    ['J6', 'wrong aud', () => key.sign(claims({ aud: 'someone-else' })), 'wrong_audience', /wrong audience/],
    ['J6', 'wrong iss', () => key.sign(claims({ iss: 'https://evil.test' })), 'wrong_issuer', /wrong issuer/],
    ['J6', 'aud missing', () => signWithout('aud'), 'wrong_audience', /no audience/],
    ['J6', 'iss missing', () => signWithout('iss'), 'wrong_issuer', /no issuer/],
    [
      'J7',
      'unknown kid after key rotation',
      async () => (await createTestKey('k2')).sign(claims()),
      'unknown_key',
      /unknown signing key/,
    ],
    [
      'J8',
      'JWKS endpoint down (no good keys yet)',
      () => key.sign(claims()),
      'jwks_unavailable',
      /signing keys unavailable/,
      () => deadUrl,
    ],
    [
      'J9',
      'ID token presented as an access token',
      () => key.sign(claims(), { typ: 'JWT' }),
      'wrong_type',
      /wrong token type/,
    ],
  ];

  it.each(rows)(
    '%s: %s → 401 UNAUTHENTICATED, nothing sent on',
    async (_id, _what, makeToken, reason, message, target) => {
      const token = await makeToken();
      const before = received();
      const logsBefore = logs.length;
      const res = await gql(target?.() ?? url, QUERY, { headers: bearer(token) });

      expect(res.status).toBe(401);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]).toMatchObject({
        message: expect.stringMatching(message),
        extensions: { code: 'UNAUTHENTICATED', reason },
      });
      const shown = JSON.stringify(res.body);
      const logged = JSON.stringify(logs.slice(logsBefore));
      for (const secret of secretsOf(token)) {
        expect(shown.includes(secret), 'response echoes the token').toBe(false);
        expect(logged.includes(secret), 'log echoes the token').toBe(false);
      }
      // the reason is logged; no subgraph was called
      expect(logs.slice(logsBefore)).toContainEqual(
        expect.objectContaining({
          message: 'authentication refused',
          fields: { reason, client: '127.0.0.1' },
        }),
      );
      expect(received()).toBe(before);
    },
  );

  it('J4: never fetches the jku/x5u URL', () => {
    expect(attacker.requests).toEqual([]);
  });

  it('J7: a flood of unknown kids costs at most one JWKS fetch', async () => {
    const before = jwks.fetches;
    const flood = await Promise.all(
      Array.from({ length: 10 }, (_, i) => key.sign(claims(), { kid: `flood-${i}` })),
    );
    const answers = await Promise.all(flood.map((token) => gql(url, QUERY, { headers: bearer(token) })));
    for (const res of answers) expect(res.status).toBe(401);
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it('keeps serving, charged nothing for the refusals, and signs the principal through to the subgraphs', async () => {
    const token = await key.sign(claims({ scope: 'read:email' }));
    const before = received();
    const res = await gql(url, QUERY, { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const cost = (
      res.body as {
        extensions?: { cost?: Cost };
      }
    ).extensions?.cost;
    expect(cost?.actualQueryCost).toBeGreaterThan(0);
    // alice's first accepted request: her budget lost exactly this request's charge
    expect(cost?.throttleStatus.currentlyAvailable).toBeCloseTo(CAPACITY.standard - charged(cost!), 0);

    // the anonymous budget of this address was not touched by the refused requests either
    const anon = await gql(url, QUERY);
    const anonCost = (
      anon.body as {
        extensions?: { cost?: Cost };
      }
    ).extensions?.cost;
    expect(anon.status).toBe(200);
    expect(anonCost?.throttleStatus.currentlyAvailable).toBeCloseTo(
      CAPACITY.anonymous - charged(anonCost!),
      0,
    );

    // one products fetch per query: alice's, then the anonymous one
    const sent = products.received.slice(-2);
    expect(received()).toBe(before + 2);
    const [asAlice, asAnonymous] = sent;
    expect(asAlice?.principal).toEqual({
      id: 'alice',
      kind: 'user',
      scopes: ['read:email'],
      plan: 'standard',
    });
    expect(asAnonymous?.principal).toEqual({
      id: 'anonymous',
      kind: 'anonymous',
      scopes: [],
      plan: 'anonymous',
    });
    // the client's credentials stay at the gateway
    for (const r of sent) {
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers)).not.toContain(token.split('.')[2]!);
    }
  });

  it('J8: while the JWKS endpoint is down, the last good keys keep verifying', async () => {
    jwks.mode = { status: 503, body: 'down' };
    try {
      const res = await gql(url, QUERY, { headers: bearer(await key.sign(claims())) });
      expect(res.status).toBe(200);
    } finally {
      jwks.mode = 'ok';
    }
  });
});

describe('API keys through the gateway', () => {
  const run = promisify(execFile);

  async function until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('a created key works, a revoked or unknown one gets 401, and the key is stored nowhere', async () => {
    // the real CLI: prints the key once on stdout, stores only its hash
    const { stdout, stderr } = await run(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'scripts/apikey-new.ts',
        '--name',
        'ci-bot',
        '--scope',
        'read:reviews',
        '--plan',
        'standard',
        '--file',
        keyFile,
      ],
      { cwd: ROOT },
    );
    const apiKey = stdout.trim();
    expect(apiKey).toMatch(/^tg_[0-9A-Za-z]{43}$/);
    expect(stderr).not.toContain(apiKey);

    const before = received();
    const ask = (k: string) => gql(url, QUERY, { headers: { 'x-api-key': k } });
    // the gateway's store notices the file change
    await until(async () => (await ask(apiKey)).status === 200, 'the new key to be accepted');
    const served = products.received.at(-1)!;
    expect(served.principal).toMatchObject({ kind: 'apikey', scopes: ['read:reviews'], plan: 'standard' });
    expect(JSON.stringify(served.headers)).not.toContain(apiKey);
    expect(received()).toBeGreaterThan(before);

    const unknown = await ask(`tg_${'A'.repeat(43)}`);
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors?.[0]).toMatchObject({
      message: 'unknown API key',
      extensions: { code: 'UNAUTHENTICATED', reason: 'unknown_api_key' },
    });

    const manager = createApiKeyManager({
      store: await createFileApiKeyStore({ path: keyFile, watch: false }),
    });
    try {
      const [record] = await manager.listApiKeys();
      await manager.revokeApiKey(record!.id);
    } finally {
      await manager.close();
    }
    await until(async () => (await ask(apiKey)).status === 401, 'the revoked key to be refused');
    const afterRevoke = received();
    const revoked = await ask(apiKey);
    expect(revoked.body.errors?.[0]).toMatchObject({
      message: 'API key revoked',
      extensions: { code: 'UNAUTHENTICATED', reason: 'revoked_api_key' },
    });
    expect(JSON.stringify(revoked.body)).not.toContain(apiKey);
    expect(received()).toBe(afterRevoke);

    // nowhere on disk (the key file and everything else written here), nowhere in the logs
    const files = walk(dir);
    expect(files).toContain(keyFile);
    for (const file of files) expect(readFileSync(file, 'utf8').includes(apiKey), file).toBe(false);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/"hash": "[0-9a-f]{64}"/);
    expect(JSON.stringify(logs)).not.toContain(apiKey);
  });
});

function walk(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => walk(join(path, name)));
}
