import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { subscribe } from '../../test/fixtures/subscribe.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { startWsSubgraph, type WsSubgraph } from './fixtures/ws-subgraph.ts';

// Subscriptions through the gateway over in-process subgraphs: the upstream on one of two replicas, each
// event completed from another subgraph, failover when the replica holding it dies, sharing of identical
// upstreams, signing of the upgrade, authorization per event, expiry, budgets and limits.
const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated"])
  type Review { id: ID! body: String! product: Product }
  type Product @key(fields: "upc") { upc: String! }
  type Query { latest: Review }
  type Subscription { reviewAdded(upc: String): Review! @authenticated }
`;
const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@requiresScopes"])
  type Product @key(fields: "upc") { upc: String! name: String! secret: String @requiresScopes(scopes: [["read:secret"]]) }
  type Query { product(upc: String!): Product }
`;
const SECRET = 'an-hs256-secret-for-tests-only-0123456789';
const token = (claims: { sub?: string; scopes?: string[]; plan?: string; exp?: string | number } = {}) =>
  new SignJWT({ scope: (claims.scopes ?? []).join(' '), ...(claims.plan ? { plan: claims.plan } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? 'alice')
    .setIssuer('test-issuer')
    .setAudience('tollgate')
    .setExpirationTime(claims.exp ?? '5m')
    .sign(new TextEncoder().encode(SECRET));

// What the reviews replicas publish: one in-process channel stands for the pub/sub between them.
type Review = { id: string; body: string; upc: string };
const listeners = new Set<(r: Review) => void>();
const publish = (r: Review) => {
  for (const l of listeners) l(r);
};
async function* reviewsAdded(upc: string | undefined): AsyncGenerator<{ reviewAdded: unknown }> {
  const queue: Review[] = [];
  let wake: (() => void) | undefined;
  const listener = (r: Review) => {
    queue.push(r);
    wake?.();
  };
  listeners.add(listener);
  try {
    for (;;) {
      while (queue.length) {
        const r = queue.shift()!;
        if (!upc || r.upc === upc)
          yield { reviewAdded: { id: r.id, body: r.body, product: { __typename: 'Product', upc: r.upc } } };
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    listeners.delete(listener);
  }
}
const reviewsResolvers = {
  Query: { latest: () => null },
  Subscription: { reviewAdded: { subscribe: (_: unknown, a: { upc?: string }) => reviewsAdded(a.upc) } },
};
const productsResolvers = {
  Query: { product: (_: unknown, a: { upc: string }) => ({ upc: a.upc }) },
  Product: {
    __resolveReference: (r: { upc: string }) => r,
    name: (p: { upc: string }) => `Product ${p.upc}`,
    secret: () => 'classified',
  },
};

let reviews: WsSubgraph[];
let products: WsSubgraph;
let gateway: Gateway;
let config: ReturnType<typeof loadConfig>;
let url: string;
let n = 0;
const add = (upc = '1') => publish({ id: String(++n), body: `review ${n}`, upc });
const bearer = async (claims?: Parameters<typeof token>[0]) => ({
  authorization: `Bearer ${await token(claims)}`,
});
const metric = async (name: string) => {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : undefined;
};
/** Publishes until the subscription sees an event (its upstream may still be starting). */
const publishUntilSeen = async (h: ReturnType<typeof subscribe>, upc = '1') => {
  for (let i = 0; i < 100; i++) {
    add(upc);
    try {
      return await h.waitFor(1, 100);
    } catch {
      // not subscribed upstream yet
    }
  }
  throw new Error('no event');
};

beforeAll(async () => {
  reviews = [
    await startWsSubgraph(REVIEWS, reviewsResolvers),
    await startWsSubgraph(REVIEWS, reviewsResolvers),
  ];
  products = await startWsSubgraph(PRODUCTS, productsResolvers);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-subscriptions-'));
  writeFileSync(join(dir, 'reviews.graphql'), REVIEWS);
  writeFileSync(join(dir, 'products.graphql'), PRODUCTS);
  config = loadConfig({
    base: {
      server: { port: 0, host: '127.0.0.1' },
      auth: {
        cookieName: 'session',
        jwt: { hs256Secret: SECRET, issuer: 'test-issuer', audience: 'tollgate' },
        signing: { secret: 's'.repeat(40) },
      },
      ratelimit: {
        defaultPlan: 'free',
        plans: {
          anonymous: { capacity: 1000, restoreRate: 50 },
          free: { capacity: 100_000, restoreRate: 1000 },
          tiny: { capacity: 8, restoreRate: 0.001 },
        },
      },
      subscriptions: { maxPerPrincipal: 3, upstream: { resubscribeWithinMs: 2000 } },
      subgraphs: [
        { name: 'reviews', replicas: reviews.map((r) => r.url), schemaFile: join(dir, 'reviews.graphql') },
        { name: 'products', replicas: [products.url], schemaFile: join(dir, 'products.graphql') },
      ],
    },
  });
  gateway = await createGateway({ config });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await Promise.allSettled([...(reviews ?? []), products].map((s) => s?.stop()));
});
const held: ReturnType<typeof subscribe>[] = [];
beforeEach(async () => {
  await Promise.allSettled(held.splice(0).map((h) => h.close()));
});

describe('subscriptions through the gateway', () => {
  it('delivers each event completed from the other subgraph, over the three protocols', async () => {
    for (const protocol of ['ws', 'sse', 'multipart'] as const) {
      const h = subscribe(
        protocol,
        url,
        'subscription { reviewAdded { body product { upc name } } }',
        await bearer(),
      );
      held.push(h);
      const first = await publishUntilSeen(h);
      expect(first.errors, protocol).toBeUndefined();
      expect((first.data as { reviewAdded: { product: unknown } }).reviewAdded.product, protocol).toEqual({
        upc: '1',
        name: 'Product 1',
      });
      await h.close();
    }
  });

  it('signs the upgrade to the replica', async () => {
    const h = subscribe('ws', url, 'subscription { reviewAdded { body } }', await bearer());
    held.push(h);
    await publishUntilSeen(h);
    const upgrade = [...reviews[0]!.upgrades, ...reviews[1]!.upgrades].at(-1)!;
    expect(upgrade['x-tollgate-signature']).toMatch(/^v1=/);
    expect(upgrade['x-tollgate-principal']).toBeUndefined(); // shared: signed with no principal
  });

  it('shares one upstream among identical subscriptions and completes each event once', async () => {
    const query = 'subscription { reviewAdded(upc: "7") { body product { name } } }';
    const hs = await Promise.all(
      [1, 2, 3].map(async (i) => subscribe('ws', url, query, await bearer({ sub: `user${i}` }))),
    );
    held.push(...hs);
    await publishUntilSeen(hs[0]!, '7');
    expect(await metric('gateway_subscription_upstreams')).toBe(1);
    const before = n;
    add('7');
    await Promise.all(hs.map((h) => h.waitFor(h.events.length + 1 > 1 ? h.events.length : 1)));
    expect(n).toBe(before + 1);
  });

  it('moves the upstream to the other replica when the one holding it dies', async () => {
    const h = subscribe('ws', url, 'subscription { reviewAdded { body } }', await bearer());
    held.push(h);
    await publishUntilSeen(h);
    const holder = reviews.find((r) => r.open() > 0)!;
    expect(holder).toBeDefined();
    const killedAt = Date.now();
    await holder.kill();
    const seen = h.events.length;
    let deliveredAt = 0;
    for (let i = 0; i < 40 && !deliveredAt; i++) {
      add();
      try {
        await h.waitFor(seen + 1, 100);
        deliveredAt = Date.now();
      } catch {
        // not resubscribed yet
      }
    }
    expect(deliveredAt - killedAt).toBeLessThan(2000);
    const bodies = h.events.map((e) => (e.data as { reviewAdded: { body: string } }).reviewAdded.body);
    expect(new Set(bodies).size).toBe(bodies.length); // no duplicates
    // the killed replica is back for the other tests
    const index = reviews.indexOf(holder);
    reviews[index] = await startWsSubgraph(REVIEWS, reviewsResolvers, {
      port: Number(new URL(holder.url).port),
    });
  });

  it('refuses a subscription without credentials (the field is @authenticated)', async () => {
    const h = subscribe('ws', url, 'subscription { reviewAdded { body } }', {});
    held.push(h);
    await h.ended;
    expect(h.events.flatMap((e) => e.errors ?? []).map((e) => e.extensions?.code)).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('nulls a scope-protected field with FORBIDDEN in each event', async () => {
    const h = subscribe(
      'ws',
      url,
      'subscription { reviewAdded { body product { name secret } } }',
      await bearer(),
    );
    held.push(h);
    const first = await publishUntilSeen(h);
    expect((first.data as { reviewAdded: { product: unknown } }).reviewAdded.product).toEqual({
      name: 'Product 1',
      secret: null,
    });
    expect(first.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([
      ['reviewAdded.product.secret', 'FORBIDDEN'],
    ]);
  });

  it('ends the subscription when the token expires', async () => {
    const h = subscribe(
      'ws',
      url,
      'subscription { reviewAdded { body } }',
      await bearer({ exp: Math.floor(Date.now() / 1000) + 2 }),
    );
    held.push(h);
    await h.ended;
    expect(h.events.at(-1)?.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'TOKEN_EXPIRED',
    });
  });

  it('ends the subscription with RATE_LIMITED when the budget runs out', async () => {
    const h = subscribe(
      'sse',
      url,
      'subscription { reviewAdded { body product { name } } }',
      await bearer({ sub: 'poor', plan: 'tiny' }),
    );
    held.push(h);
    let ended = false;
    void h.ended.then(() => (ended = true));
    for (let i = 0; i < 200 && !ended; i++) {
      add();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(ended).toBe(true);
    expect(h.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(h.events.length).toBeGreaterThan(1);
  });

  it('refuses more open subscriptions per caller than maxPerPrincipal', async () => {
    const headers = await bearer({ sub: 'greedy' });
    const hs = [1, 2, 3].map(() => subscribe('ws', url, 'subscription { reviewAdded { body } }', headers));
    held.push(...hs);
    await publishUntilSeen(hs[2]!);
    await Promise.all(hs.map((h) => h.waitFor(1)));
    const fourth = subscribe('ws', url, 'subscription { reviewAdded { body } }', headers);
    held.push(fourth);
    await fourth.ended;
    expect(fourth.events[0]?.errors?.[0]?.extensions).toMatchObject({
      code: 'SUBSCRIPTION_LIMIT',
      limit: 'maxPerPrincipal',
      max: 3,
    });
  });

  it("keeps Apollo Server's request rules for SSE: CSRF prevention, no mutation over GET", async () => {
    const query = encodeURIComponent('subscription { reviewAdded { body } }');
    // what an EventSource on another site sends: a GET with no content type and no preflight header
    const simple = await fetch(`${url}?query=${query}`, {
      headers: { accept: 'text/event-stream', ...(await bearer()) },
    });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toContain('CSRF');
    const mutation = await fetch(`${url}?query=${encodeURIComponent('mutation { x }')}`, {
      headers: { accept: 'text/event-stream', 'apollo-require-preflight': 'true' },
    });
    expect(mutation.status).toBe(405);
  });

  it('takes no cookie credentials over a WebSocket (a page on another site could send them)', async () => {
    const cookie = `session=${await token()}`;
    const h = subscribe('ws', url, 'subscription { reviewAdded { body } }', { cookie });
    held.push(h);
    await h.ended;
    expect(h.events.flatMap((e) => e.errors ?? []).map((e) => e.extensions?.code)).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('counts open connections, subscriptions, events and ends on /metrics', async () => {
    const h = subscribe('ws', url, 'subscription { reviewAdded { body } }', await bearer());
    held.push(h);
    await publishUntilSeen(h);
    const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(text).toMatch(/gateway_subscription_connections\{protocol="websocket"\} [1-9]/);
    expect(text).toMatch(/gateway_subscriptions_open\{protocol="websocket"\} [1-9]/);
    expect(text).toMatch(/gateway_subscription_events_total\{protocol="websocket"\} [1-9]/);
    expect(text).toMatch(/gateway_subscriptions_ended_total\{reason="expired"\} [1-9]/);
  });

  it('on shutdown, refuses new subscriptions and tells open ones to go away (1001)', async () => {
    const second = await createGateway({ config });
    const secondUrl = await second.listen();
    const h = subscribe('ws', secondUrl, 'subscription { reviewAdded { body } }', await bearer());
    held.push(h);
    await publishUntilSeen(h);
    const closing = second.close(5000);
    await h.ended;
    expect(h.closeCode()).toBe(1001);
    const started = Date.now();
    await closing;
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers an upgrade on another path with 404 and BAD_REQUEST, and keeps serving', async () => {
    const { request } = await import('node:http');
    const { port } = new URL(url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/nope',
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ product(upc: "1") { name } }' }),
    });
    expect(((await res.json()) as { data: unknown }).data).toEqual({ product: { name: 'Product 1' } });
  });

  it('still refuses a subscription over a single JSON POST', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer()) },
      body: JSON.stringify({ query: 'subscription { reviewAdded { body } }' }),
    });
    expect(res.status).toBe(400);
  });
});
