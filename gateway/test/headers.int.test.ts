import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { verifyRequestSignature } from '@tollgate/kit/signing';
import { parse } from 'graphql';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevSigningKey, loadDevSigningKey } from '../src/auth/index.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { gql, PRODUCTS_SDL, productsResolvers, REVIEWS_SDL, reviewsResolvers } from './helpers.ts';

// Header rules end to end: a gateway with `headers` rules and signing on, in front of two subgraphs that
// record the headers of every operation they receive and check its signature with the kit's verifier.
const SECRET = 'headers-int-test-signing-secret-0123456789';
const ISSUER = 'tollgate-dev';
const AUDIENCE = 'tollgate';
const QUERY = '{ topProducts(first: 2) { name reviews { body } } }';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The kit verifier's verdict: the signed rule headers, or the error code. */
  verified: { headers: Readonly<Record<string, string>> } | { error: string };
}

interface Recorder {
  url: string;
  received: Received[];
  /** Operations other than the gateway's probes and SDL fetch. */
  operations(): Received[];
  close(): Promise<void>;
}

/** A subgraph on port 0 that records each request's headers and raw body, and whether its signature holds. */
async function startRecorder(sdl: string, resolvers: GraphQLResolverMap<unknown>): Promise<Recorder> {
  const apollo = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const received: Received[] = [];
  const http: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    let verified: Received['verified'];
    try {
      verified = { headers: verifyRequestSignature(req.headers, raw, { secret: SECRET }).headers };
    } catch (error) {
      verified = { error: (error as { code?: string }).code ?? 'ERROR' };
    }
    const body = raw.toString('utf8');
    received.push({ headers: req.headers, body, verified });
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: req.method ?? 'POST',
        headers,
        search: '',
        body: JSON.parse(body || '{}'),
      },
      context: async () => ({}),
    });
    res.statusCode = response.status ?? 200;
    for (const [k, v] of response.headers) res.setHeader(k, v);
    res.end(response.body.kind === 'complete' ? response.body.string : '');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    received,
    operations: () => received.filter((r) => !/__typename }|_service/.test(r.body)),
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await apollo.stop();
    },
  };
}

let products: Recorder;
let reviews: Recorder;
let gateway: Gateway;
let url: string;
let key: DevSigningKey;

const token = (claims: Record<string, unknown>) =>
  new SignJWT({ scope: '', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
    .setSubject(String(claims.sub))
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key.privateKey);

beforeAll(async () => {
  [products, reviews] = await Promise.all([
    startRecorder(PRODUCTS_SDL, productsResolvers),
    startRecorder(REVIEWS_SDL, reviewsResolvers),
  ]);
  key = await loadDevSigningKey(join(mkdtempSync(join(tmpdir(), 'tollgate-headers-')), 'dev-keys'));
  const config = loadConfig({
    env: {},
    base: {
      server: { port: 0, host: '127.0.0.1' },
      subgraphs: [
        { name: 'products', replicas: [products.url] },
        { name: 'reviews', replicas: [reviews.url] },
      ],
      auth: {
        jwt: { jwksFile: key.jwksFile, issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' },
        signing: { secret: SECRET },
      },
      ratelimit: { enabled: false },
      headers: {
        all: {
          request: [
            // every client header it may forward: never a credential, nor a hop-by-hop one
            { propagate: { matching: '.*' } },
            { propagate: { named: 'x-client-version', rename: 'x-app-version', default: 'unknown' } },
            { insert: { name: 'x-user-id', claim: 'sub' } },
            { insert: { name: 'x-org-id', claim: 'org.id', default: 'none' } },
            { insert: { name: 'x-gateway', value: 'tollgate' } },
          ],
        },
        subgraphs: {
          products: { request: [{ propagate: { named: 'authorization' } }] },
          reviews: { request: [{ remove: { named: 'x-acme-debug' } }] },
        },
      },
    },
  });
  gateway = await createGateway({ config });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await Promise.all([products?.close(), reviews?.close()]);
});

/** Sends QUERY and returns the operation each subgraph received for it. */
async function send(headers: Record<string, string>) {
  const before = [products.operations().length, reviews.operations().length];
  const res = await gql(url, QUERY, { headers });
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data).toEqual({
    topProducts: [
      { name: 'Product 1', reviews: [{ body: 'Review of 1' }] },
      { name: 'Product 2', reviews: [{ body: 'Review of 2' }] },
    ],
  });
  const p = products.operations().slice(before[0]);
  const r = reviews.operations().slice(before[1]);
  expect([p.length, r.length]).toEqual([1, 1]);
  return { products: p[0]!, reviews: r[0]! };
}

describe('header rules at the subgraphs', () => {
  it('propagates a header renamed, and its default when the client sends none', async () => {
    const sent = await send({ 'x-client-version': '3.2' });
    expect(sent.products.headers['x-app-version']).toBe('3.2');
    expect(sent.reviews.headers['x-app-version']).toBe('3.2');
    const absent = await send({});
    expect(absent.products.headers['x-app-version']).toBe('unknown');
    expect(absent.reviews.headers['x-app-version']).toBe('unknown');
  });

  it('derives headers from the JWT claims, nested ones too, and inserts static ones', async () => {
    const jwt = await token({ sub: 'alice', org: { id: 'o-7' } });
    const { products: p, reviews: r } = await send({ authorization: `Bearer ${jwt}` });
    for (const seen of [p, r]) {
      expect(seen.headers['x-user-id']).toBe('alice');
      expect(seen.headers['x-org-id']).toBe('o-7');
      expect(seen.headers['x-gateway']).toBe('tollgate');
    }
    // anonymous: no claim, so no x-user-id, and the default for x-org-id
    const anonymous = await send({});
    expect(anonymous.products.headers['x-user-id']).toBeUndefined();
    expect(anonymous.products.headers['x-org-id']).toBe('none');
  });

  it("a client cannot pose as a claim: the claim rule replaces (or drops) the client's header", async () => {
    const anonymous = await send({ 'x-user-id': 'mallory' });
    expect(anonymous.products.headers['x-user-id']).toBeUndefined();
    const jwt = await token({ sub: 'alice' });
    const user = await send({ authorization: `Bearer ${jwt}`, 'x-user-id': 'mallory' });
    expect(user.products.headers['x-user-id']).toBe('alice');
  });

  it('removes a header by a per-subgraph rule, for that subgraph only', async () => {
    const { products: p, reviews: r } = await send({ 'x-acme-debug': 'on', 'x-acme-tenant': 'acme' });
    expect(p.headers['x-acme-debug']).toBe('on');
    expect(r.headers['x-acme-debug']).toBeUndefined();
    expect([p.headers['x-acme-tenant'], r.headers['x-acme-tenant']]).toEqual(['acme', 'acme']);
  });

  it('forwards authorization only where a rule names it; cookie and proxy-authorization nowhere', async () => {
    const jwt = await token({ sub: 'alice' });
    const { products: p, reviews: r } = await send({
      authorization: `Bearer ${jwt}`,
      cookie: 'session=s3cret',
      'proxy-authorization': 'Basic eA==',
    });
    // reviews has no rule naming it: `matching: .*` does not carry it
    expect(r.headers.authorization).toBeUndefined();
    expect(p.headers.authorization).toBe(`Bearer ${jwt}`);
    for (const seen of [p, r]) {
      expect(seen.headers.cookie).toBeUndefined();
      expect(seen.headers['proxy-authorization']).toBeUndefined();
    }
  });

  it("keeps the gateway's own headers: a client's content-type, accept, traceparent or signature do not pass", async () => {
    const { products: p } = await send({
      accept: 'application/json',
      'accept-encoding': 'br',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'x-tollgate-signed-headers': 'x-gateway',
      'x-tollgate-principal': 'forged',
    });
    expect(p.headers['content-type']).toBe('application/json');
    expect(p.headers.accept).toBe('application/graphql-response+json, application/json');
    expect(p.headers['x-tollgate-principal']).not.toBe('forged');
    expect(p.headers.traceparent ?? '').not.toContain('b7ad6b7169203331');
    // the client's encodings are not the gateway's: it decodes only what it asks for
    expect(p.headers['accept-encoding']).not.toBe('br');
    expect(p.headers['x-tollgate-signed-headers']).not.toBe('x-gateway');
  });
});

describe('header rules with signing on', () => {
  it('signs the headers the rules add, so the subgraph can trust exactly those', async () => {
    const jwt = await token({ sub: 'alice', org: { id: 'o-7' } });
    const { products: p, reviews: r } = await send({
      authorization: `Bearer ${jwt}`,
      'x-client-version': '3.2',
      'x-acme-tenant': 'acme',
    });
    expect(p.headers['x-tollgate-signature']).toMatch(/^v2=/);
    expect(p.verified).toMatchObject({
      headers: {
        'x-acme-tenant': 'acme',
        'x-app-version': '3.2',
        'x-client-version': '3.2',
        'x-user-id': 'alice',
        'x-org-id': 'o-7',
        'x-gateway': 'tollgate',
        authorization: `Bearer ${jwt}`,
      },
    });
    expect(r.verified).toEqual({
      headers: expect.not.objectContaining({ authorization: expect.anything() }),
    });
    // exactly the headers it lists, and only rule headers: `matching: .*` forwarded the client's user-agent
    const listed = String(p.headers['x-tollgate-signed-headers']).split(',');
    expect(Object.keys((p.verified as { headers: object }).headers).sort()).toEqual([...listed].sort());
    expect(listed).toContain('user-agent');
    expect(listed).not.toContain('content-type');
    // every operation verified
    for (const seen of [...products.operations(), ...reviews.operations()])
      expect(seen.verified, seen.body).not.toHaveProperty('error');
  });

  it('a propagated header tampered with on the way fails verification', async () => {
    const { products: p } = await send({ 'x-acme-tenant': 'acme' });
    const replay = async (change: Record<string, string>) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.headers))
        if (typeof v === 'string' && k !== 'content-length' && k !== 'host' && k !== 'connection')
          headers[k] = v;
      const before = products.received.length;
      await fetch(products.url, { method: 'POST', headers: { ...headers, ...change }, body: p.body });
      return products.received[before]!.verified;
    };
    // the captured request as sent verifies (inside the window); changed, it does not
    expect(await replay({})).toHaveProperty('headers');
    expect(await replay({ 'x-acme-tenant': 'globex' })).toEqual({ error: 'SIGNATURE_INVALID' });
    expect(await replay({ 'x-app-version': '9.9' })).toEqual({ error: 'SIGNATURE_INVALID' });
  });
});
