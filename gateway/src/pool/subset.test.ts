import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolError } from './errors.ts';
import { ReplicaPool, type ReplicaPoolOptions } from './replica-pool.ts';
import { matchesLabels, type PoolRoute, subsetText } from './subset.ts';

describe('label selectors', () => {
  const cases: [Record<string, string>, Record<string, string>, boolean][] = [
    [{ track: 'canary' }, { track: 'canary' }, true],
    [{ track: 'canary', zone: 'a' }, { track: 'canary' }, true],
    [{ track: 'stable' }, { track: 'canary' }, false],
    [{}, { track: 'canary' }, false],
    [{ track: 'canary' }, { track: 'canary', zone: 'a' }, false],
    [{}, {}, true],
  ];
  it.each(cases)('labels %j, selector %j → %s', (labels, selector, expected) => {
    expect(matchesLabels(labels, selector)).toBe(expected);
  });

  it('are shown as sorted key=value pairs', () => {
    expect(subsetText({ zone: 'a', track: 'canary' })).toBe('track=canary,zone=a');
    expect(subsetText(undefined)).toBe('default');
  });
});

/** A replica stand-in counting the fetches it serves (health checks aside). */
interface Counting {
  url: string;
  served: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
const pools: ReplicaPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  for (const s of servers.splice(0)) {
    s.close();
    s.closeAllConnections();
  }
});

async function replica(): Promise<Counting> {
  const c: Counting = { url: '', served: 0, close: async () => {} };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      if (!body.includes('__typename }')) c.served++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{"ok":true}}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  c.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return c;
}

const quiet: ReplicaPoolOptions = { healthCheck: { intervalMs: 0 }, strategy: 'round_robin' };
const CANARY = { track: 'canary' };
const canaryRoute = (fallback: PoolRoute['fallback'] = 'default'): PoolRoute => ({
  rule: 'canary',
  select: CANARY,
  reserved: [CANARY],
  fallback,
});
const defaultRoute: PoolRoute = {
  rule: undefined,
  select: undefined,
  reserved: [CANARY],
  fallback: 'default',
};
const BODY = '{"query":"{ ok }"}';

async function setUp() {
  const [a, b, canary] = await Promise.all([replica(), replica(), replica()]);
  const pool = new ReplicaPool('products', [a.url, b.url, { url: canary.url, labels: CANARY }], quiet);
  pools.push(pool);
  const send = (route: PoolRoute | undefined, idempotent = true) =>
    pool.send(BODY, {}, { idempotent, route });
  return { a, b, canary, pool, send };
}

describe('a routed fetch', () => {
  it('goes only to the selected subset, and the default set never reaches it', async () => {
    const { a, b, canary, send } = await setUp();
    for (let i = 0; i < 6; i++) expect((await send(canaryRoute())).routed).toBe('selected');
    expect(canary.served).toBe(6);
    for (let i = 0; i < 6; i++) expect((await send(defaultRoute)).routed).toBeUndefined();
    expect([a.served, b.served, canary.served]).toEqual([3, 3, 6]);
    // unrouted (no rule for this subgraph): every replica, as without labels
    for (let i = 0; i < 3; i++) await send(undefined);
    expect(a.served + b.served + canary.served).toBe(15);
    expect(canary.served).toBe(7);
  });

  it('falls back to the default set when the subset has no replica left, a mutation included', async () => {
    const { a, b, canary, pool, send } = await setUp();
    await canary.close();
    // not yet known to be down: the refused connection sent nothing, so even a mutation moves on
    const mutation = await send(canaryRoute(), false);
    expect(mutation).toMatchObject({ status: 200, routed: 'fallback' });
    expect(a.served + b.served).toBe(1);
    await pool.probe();
    await pool.probe(); // two failed checks: unhealthy
    expect(pool.stats().find((r) => r.url === canary.url)?.state).toBe('unhealthy');
    for (let i = 0; i < 4; i++) expect((await send(canaryRoute())).routed).toBe('fallback');
    expect(a.served + b.served).toBe(5);
    expect(pool.snapshot().routing).toEqual([{ rule: 'canary', outcome: 'fallback', count: 5 }]);
  });

  it('fails with POOL_NO_HEALTHY_REPLICA naming the subset under fallback: fail', async () => {
    const { a, b, canary, pool, send } = await setUp();
    await canary.close();
    await pool.probe();
    await pool.probe();
    const error = await send(canaryRoute('fail')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolError);
    expect(error).toMatchObject({ code: 'POOL_NO_HEALTHY_REPLICA', routed: 'failed' });
    expect((error as Error).message).toMatch(/labelled track=canary/);
    expect(a.served + b.served).toBe(0);
    expect(pool.snapshot().routing).toEqual([{ rule: 'canary', outcome: 'failed', count: 1 }]);
  });

  it('does not count a subset with nothing up against the circuit of the whole subgraph', async () => {
    const [a, canary] = await Promise.all([replica(), replica()]);
    const pool = new ReplicaPool('p', [a.url, { url: canary.url, labels: CANARY }], {
      ...quiet,
      circuitBreaker: { enabled: true, minRequests: 2, failureRatePercent: 50 },
    });
    pools.push(pool);
    await canary.close();
    await pool.probe();
    await pool.probe();
    for (let i = 0; i < 5; i++)
      await expect(pool.send(BODY, {}, { idempotent: true, route: canaryRoute('fail') })).rejects.toThrow(
        /labelled/,
      );
    expect(pool.snapshot().circuit?.state).toBe('closed');
    expect((await pool.send(BODY, {}, { idempotent: true, route: defaultRoute })).status).toBe(200);
  });

  it('uses the whole pool as the default set when every replica is labelled', async () => {
    const [x, y] = await Promise.all([replica(), replica()]);
    const pool = new ReplicaPool(
      'p',
      [
        { url: x.url, labels: CANARY },
        { url: y.url, labels: CANARY },
      ],
      quiet,
    );
    pools.push(pool);
    for (let i = 0; i < 4; i++) await pool.send(BODY, {}, { idempotent: true, route: defaultRoute });
    expect(x.served + y.served).toBe(4);
  });
});

describe('replica labels', () => {
  it('show in stats, and adding a source again relabels it', async () => {
    const { a, canary, pool, send } = await setUp();
    expect(pool.stats().map((r) => r.labels)).toEqual([{}, {}, CANARY]);
    pool.addReplica(a.url, CANARY);
    pool.addReplica(canary.url, {});
    expect(pool.labelsOf(a.url)).toEqual(CANARY);
    expect(pool.replicas).toHaveLength(3);
    for (let i = 0; i < 3; i++) await send(canaryRoute());
    expect(a.served).toBe(3);
    expect(canary.served).toBe(0);
  });

  it('of a dns:// entry apply to every address it resolves to', async () => {
    const [x, y] = await Promise.all([replica(), replica()]);
    const port = (u: string) => new URL(u).port;
    const pool = new ReplicaPool(
      'p',
      [
        { url: `dns://canaries:${port(x.url)}/graphql`, labels: CANARY },
        { url: `dns://stable:${port(y.url)}/graphql`, labels: {} },
      ],
      { ...quiet, resolver: async () => ['127.0.0.1'] },
    );
    pools.push(pool);
    await pool.probe();
    expect(pool.stats().map((r) => [r.url, r.labels])).toEqual([
      [x.url, CANARY],
      [y.url, {}],
    ]);
    for (let i = 0; i < 3; i++) await pool.send(BODY, {}, { idempotent: true, route: canaryRoute() });
    expect([x.served, y.served]).toEqual([3, 0]);
  });
});
