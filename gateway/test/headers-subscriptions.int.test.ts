import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyRequestSignature } from '@tollgate/kit/signing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeldSubscription, subscribe } from '../../test/fixtures/subscribe.ts';
import { createGateway, type Gateway, loadConfig } from '../src/index.ts';
import { startWsSubgraph, type WsSubgraph } from './fixtures/ws-subgraph.ts';

// Header rules on subscriptions: the gateway's upstream WebSocket to a subgraph carries (and signs) the
// rule headers of its caller, and is shared only by callers whose rule headers agree.
const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Review { id: ID! body: String! }
  type Query { latest: Review }
  type Subscription { reviewAdded: Review! }
`;
const JWT_SECRET = 'an-hs256-secret-for-header-tests-0123456789';
const SIGNING_SECRET = 'headers-subscriptions-signing-secret-0123456789';
const token = (sub: string) =>
  new SignJWT({ scope: '' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuer('test-issuer')
    .setAudience('tollgate')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));

const listeners = new Set<(body: string) => void>();
async function* reviewsAdded(): AsyncGenerator<{ reviewAdded: unknown }> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  const listener = (body: string) => {
    queue.push(body);
    wake?.();
  };
  listeners.add(listener);
  try {
    for (let n = 0; ; ) {
      while (queue.length) yield { reviewAdded: { id: String(++n), body: queue.shift() } };
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    listeners.delete(listener);
  }
}
const publish = (body: string) => {
  for (const l of listeners) l(body);
};

let reviews: WsSubgraph;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  reviews = await startWsSubgraph(REVIEWS, {
    Query: { latest: () => null },
    Subscription: { reviewAdded: { subscribe: () => reviewsAdded() } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-headers-subscriptions-'));
  writeFileSync(join(dir, 'reviews.graphql'), REVIEWS);
  const config = loadConfig({
    env: {},
    base: {
      server: { port: 0, host: '127.0.0.1' },
      auth: {
        jwt: { hs256Secret: JWT_SECRET, issuer: 'test-issuer', audience: 'tollgate' },
        signing: { secret: SIGNING_SECRET },
      },
      ratelimit: { enabled: false },
      subgraphs: [{ name: 'reviews', replicas: [reviews.url], schemaFile: join(dir, 'reviews.graphql') }],
      headers: {
        all: {
          request: [
            { propagate: { named: 'x-tenant', default: 'none' } },
            { insert: { name: 'x-user-id', claim: 'sub' } },
          ],
        },
      },
    },
  });
  gateway = await createGateway({ config });
  url = await gateway.listen();
});
afterAll(async () => {
  await gateway?.close(100);
  await reviews?.stop();
});

/** Publishes until every subscription has seen an event (their upstreams may still be starting). */
async function seen(...held: HeldSubscription[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    publish(`review ${i}`);
    try {
      await Promise.all(held.map((h) => h.waitFor(h.events.length + 1, 100)));
      return;
    } catch {
      // not all subscribed upstream yet
    }
  }
  throw new Error('no event');
}

describe('header rules on subscription upstreams', () => {
  it("sends and signs each caller's rule headers on the upgrade, sharing an upstream only when they agree", async () => {
    const query = 'subscription { reviewAdded { id body } }';
    const alice = `Bearer ${await token('alice')}`;
    const bob = `Bearer ${await token('bob')}`;
    const held = [
      subscribe('sse', url, query, { authorization: alice, 'x-tenant': 'acme' }),
      subscribe('sse', url, query, { authorization: bob, 'x-tenant': 'globex' }),
      subscribe('sse', url, query, { authorization: alice, 'x-tenant': 'acme' }),
    ];
    try {
      await seen(...held);
      for (const h of held)
        expect(h.events.at(-1)).toMatchObject({ data: { reviewAdded: { body: expect.any(String) } } });
      // alice's two subscriptions share one upstream; bob's headers differ, so his has its own
      expect(reviews.upgrades).toHaveLength(2);
      const byTenant = Object.fromEntries(reviews.upgrades.map((h) => [h['x-tenant'], h]));
      expect(Object.keys(byTenant).sort()).toEqual(['acme', 'globex']);
      expect(byTenant.acme?.['x-user-id']).toBe('alice');
      expect(byTenant.globex?.['x-user-id']).toBe('bob');
      for (const upgrade of reviews.upgrades) {
        expect(upgrade.authorization).toBeUndefined();
        // the upgrade is signed like a POST with an empty body; the rule headers are in the signature
        const verified = verifyRequestSignature(upgrade, '', { secret: SIGNING_SECRET, maxSkewMs: 60_000 });
        expect(verified.headers).toEqual({
          'x-tenant': upgrade['x-tenant'],
          'x-user-id': upgrade['x-user-id'],
        });
        expect(() =>
          verifyRequestSignature({ ...upgrade, 'x-tenant': 'mallory' }, '', {
            secret: SIGNING_SECRET,
            maxSkewMs: 60_000,
          }),
        ).toThrow(/bad request signature/);
      }
    } finally {
      await Promise.all(held.map((h) => h.close()));
    }
  });
});
