import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevSigningKey, loadDevSigningKey } from '../src/auth/index.ts';
import { createGateway, type Gateway, type GatewayConfig, loadConfig } from '../src/index.ts';
import { gql, pooled, startTestSubgraph, type TestSubgraph } from './helpers.ts';

// Replica labels and routing rules over real HTTP: six replicas of one subgraph, each answering with its
// own name so a response says which replica served it, and counting what it serves.
const SERVED_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { served: String! }
`;
const ISSUER = 'tollgate-dev';
const AUDIENCE = 'tollgate';
const QUERY = '{ served }';

const side = (served: unknown): string => String(served).split('-')[0] ?? '';

describe('routing rules over replica labels', () => {
  const names = ['stable-0', 'stable-1', 'canary-0', 'canary-1', 'acme-0', 'acme-1'];
  const replicas = new Map<string, TestSubgraph>();
  let key: DevSigningKey;
  let gateway: Gateway;
  let url: string;
  const token = (sub: string, claims: Record<string, unknown> = {}) =>
    new SignJWT({ scope: '', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key.privateKey);
  const ask = async (headers: Record<string, string> = {}) => {
    const res = await gql(url, QUERY, { headers });
    return {
      status: res.status,
      served: res.body.data?.served as string | undefined,
      errors: res.body.errors,
    };
  };
  const servedBy = (prefix: string) =>
    names.filter((n) => n.startsWith(prefix)).reduce((sum, n) => sum + replicas.get(n)!.received.length, 0);
  const counts = () => Object.fromEntries(names.map((n) => [n, replicas.get(n)!.received.length]));
  const delta = (before: Record<string, number>, prefix: string) =>
    names
      .filter((n) => n.startsWith(prefix))
      .reduce((s, n) => s + replicas.get(n)!.received.length - before[n]!, 0);

  beforeAll(async () => {
    key = await loadDevSigningKey(join(mkdtempSync(join(tmpdir(), 'tollgate-routing-')), 'dev-keys'));
    await Promise.all(
      names.map(async (name) => {
        replicas.set(name, await startTestSubgraph(SERVED_SDL, { Query: { served: () => name } }));
      }),
    );
    const entry = (name: string) => {
      const [kind] = name.split('-');
      const labels =
        kind === 'canary' ? { track: 'canary' } : kind === 'acme' ? { tenant: 'acme' } : undefined;
      const u = replicas.get(name)!.url;
      return labels ? { url: u, labels } : u;
    };
    const config = loadConfig({
      base: {
        server: { port: 0, host: '127.0.0.1' },
        subgraphs: [{ name: 'products', replicas: names.map(entry) }],
        auth: { jwt: { jwksFile: key.jwksFile, issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' } },
        ratelimit: { enabled: false },
        // no re-composition polls: they would ask a replica for its SDL, and every replica counts what it serves
        supergraph: { watch: false },
        // quick checks, so the killed canaries are known to be down within the run
        pool: { healthCheck: { intervalMs: 200, timeoutMs: 200 } },
        routing: {
          rules: [
            { name: 'canary-header', header: { name: 'x-canary', value: '1' }, select: { track: 'canary' } },
            { name: 'acme', claim: { name: 'tenant', value: 'acme' }, select: { tenant: 'acme' } },
            { name: 'canary-10', weight: 10, subgraphs: ['products'], select: { track: 'canary' } },
          ],
        },
      },
      env: {},
    });
    gateway = await createGateway({ config });
    url = await gateway.listen();
  }, 60_000);
  afterAll(async () => {
    await gateway?.close(100);
    await Promise.all([...replicas.values()].map((r) => r.stop().catch(() => undefined)));
  });

  it('shows the labels in the pool admin view', async () => {
    const res = await fetch(`${gateway.adminUrl}/admin/pool`);
    const view = (await res.json()) as {
      pools: { name: string; replicas: { url: string; labels: unknown }[] }[];
    };
    const products = view.pools.find((p) => p.name === 'products')!;
    expect(products.replicas.map((r) => r.labels)).toEqual([
      {},
      {},
      { track: 'canary' },
      { track: 'canary' },
      { tenant: 'acme' },
      { tenant: 'acme' },
    ]);
  });

  it('sends 10% ± 3% of the fetches of many principals to canary, each principal always to one side', async () => {
    const principals = 1_000;
    const tokens = await Promise.all(Array.from({ length: principals }, (_, i) => token(`user-${i}`)));
    const before = counts();
    // every principal twice, the second round after all the first: 2,000 requests
    const results = await pooled(principals * 2, 20, async (i) => {
      const r = await ask({ authorization: `Bearer ${tokens[i % principals]}` });
      return { principal: i % principals, ...r };
    });
    expect(results.filter((r) => r.status !== 200 || r.errors)).toEqual([]);
    const sides = new Map<number, Set<string>>();
    for (const r of results) {
      const s = sides.get(r.principal) ?? new Set();
      s.add(side(r.served));
      sides.set(r.principal, s);
    }
    const flapping = [...sides.entries()].filter(([, s]) => s.size > 1);
    expect(flapping).toEqual([]);
    const canary = delta(before, 'canary');
    const total = canary + delta(before, 'stable') + delta(before, 'acme');
    const share = (canary / total) * 100;
    console.log(
      `weight 10: ${canary} of ${total} products fetches to canary (${share.toFixed(2)}%), ${delta(before, 'acme')} to the acme replicas`,
    );
    expect(total).toBe(2_000);
    expect(share).toBeGreaterThanOrEqual(7);
    expect(share).toBeLessThanOrEqual(13);
    // the acme replicas are not in the default set: only routed traffic reaches them
    expect(delta(before, 'acme')).toBe(0);
  }, 60_000);

  it('sends every request with x-canary: 1 to canary', async () => {
    const results = await pooled(100, 20, () => ask({ 'x-canary': '1' }));
    expect(new Set(results.map((r) => side(r.served)))).toEqual(new Set(['canary']));
  });

  it('keeps anonymous callers of one address on one side (they share the principal id)', async () => {
    const results = await pooled(60, 20, () => ask());
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(results.map((r) => side(r.served))).size).toBe(1);
  });

  it('pins a tenant to its replicas, and keeps everyone else off them', async () => {
    const acme = await Promise.all(
      Array.from({ length: 20 }, (_, i) => token(`acme-user-${i}`, { tenant: 'acme' })),
    );
    const globex = await Promise.all(
      Array.from({ length: 20 }, (_, i) => token(`globex-user-${i}`, { tenant: 'globex' })),
    );
    const pinned = await pooled(100, 20, (i) => ask({ authorization: `Bearer ${acme[i % 20]}` }));
    expect(new Set(pinned.map((r) => side(r.served)))).toEqual(new Set(['acme']));
    const others = await pooled(100, 20, (i) => ask({ authorization: `Bearer ${globex[i % 20]}` }));
    expect(others.filter((r) => side(r.served) === 'acme')).toEqual([]);
  });

  it('counts the decisions per rule and outcome on /metrics', async () => {
    const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    const value = (rule: string, outcome: string) =>
      Number(
        new RegExp(
          `gateway_routing_decisions_total\\{subgraph="products",rule="${rule}",outcome="${outcome}"\\} (\\d+)`,
        ).exec(text)?.[1] ?? 0,
      );
    expect(value('canary-header', 'selected')).toBe(100);
    expect(value('acme', 'selected')).toBe(100);
    expect(value('canary-10', 'selected')).toBeGreaterThan(0);
    expect(value('canary-10', 'fallback')).toBe(0);
  });

  it('loses no request when every canary replica dies mid-run: they fall back to the default set', async () => {
    const canaryTokens = await Promise.all(Array.from({ length: 200 }, (_, i) => token(`kill-${i}`)));
    const before = servedBy('stable');
    let killed: Promise<unknown> | undefined;
    const results = await pooled(600, 20, async (i) => {
      if (i === 200)
        killed = Promise.all([replicas.get('canary-0')!.stop(), replicas.get('canary-1')!.stop()]);
      // half with the header (all to canary while it lives), half weighted
      const headers: Record<string, string> =
        i % 2 ? { 'x-canary': '1' } : { authorization: `Bearer ${canaryTokens[i % 200]}` };
      return ask(headers);
    });
    await killed;
    const failed = results.filter((r) => r.status !== 200 || r.errors);
    const after = results.slice(400);
    console.log(
      `canaries killed after 200 of 600 requests: ${failed.length} failed; last 200 served by ${[...new Set(after.map((r) => side(r.served)))].join(', ')}`,
    );
    expect(failed).toEqual([]);
    expect(after.filter((r) => side(r.served) === 'canary')).toEqual([]);
    expect(servedBy('stable') - before).toBeGreaterThanOrEqual(200);
    const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(text).toMatch(
      /gateway_routing_decisions_total\{subgraph="products",rule="canary-header",outcome="fallback"\} [1-9]/,
    );
  }, 60_000);
});

describe('a config reload', () => {
  const started: TestSubgraph[] = [];
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.close(100);
    await Promise.all(started.map((s) => s.stop()));
  });

  it('applies changed rules and relabelled replicas without a restart', async () => {
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name) => startTestSubgraph(SERVED_SDL, { Query: { served: () => name } })),
    );
    started.push(a!, b!);
    let canary = a!.url;
    let weight = 0;
    const configNow = (): GatewayConfig =>
      loadConfig({
        base: {
          server: { port: 0, host: '127.0.0.1' },
          ratelimit: { enabled: false },
          supergraph: { pollIntervalMs: 100 },
          subgraphs: [
            {
              name: 'products',
              replicas: [a!.url, b!.url].map((u) =>
                u === canary ? { url: u, labels: { track: 'canary' } } : u,
              ),
            },
          ],
          routing: { rules: [{ name: 'ramp', weight, select: { track: 'canary' } }] },
        },
        env: {},
      });
    gateway = await createGateway({ config: configNow(), reloadConfig: configNow });
    const url = await gateway.listen();
    const servedSet = async () => {
      const results = await pooled(20, 10, () => gql(url, QUERY));
      return [...new Set(results.map((r) => String(r.body.data?.served)))].sort();
    };
    // bounded wait for the next polls to apply the change
    const eventually = async (want: string[]) => {
      let got: string[] = [];
      for (let i = 0; i < 50; i++) {
        got = await servedSet();
        if (JSON.stringify(got) === JSON.stringify(want)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return got;
    };
    expect(await servedSet()).toEqual(['b']); // weight 0: the canary (a) gets nothing
    weight = 100;
    expect(await eventually(['a'])).toEqual(['a']); // the rule's new weight: everyone to the canary
    canary = b!.url;
    expect(await eventually(['b'])).toEqual(['b']); // the label moved to b: so does the traffic
  }, 60_000);
});
