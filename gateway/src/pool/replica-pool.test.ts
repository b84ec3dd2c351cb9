import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolError } from './errors.ts';
import { ReplicaPool, type ReplicaPoolOptions } from './replica-pool.ts';

/** A replica stand-in: answers each POST as `behave` says, recording what it got. */
interface Fake {
  url: string;
  bodies: string[];
  headers: IncomingHttpHeaders[];
  behave: { status: number; delayMs: number; destroy: boolean };
  close(): Promise<void>;
}

const servers: Server[] = [];
const pools: ReplicaPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  await Promise.all(
    servers.splice(0).map((s) => new Promise((r) => s.close(r)).then(() => s.closeAllConnections())),
  );
});

async function fake(host = '127.0.0.1'): Promise<Fake> {
  const f: Fake = {
    url: '',
    bodies: [],
    headers: [],
    behave: { status: 200, delayMs: 0, destroy: false },
    close: async () => {},
  };
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const probe = body.includes('__typename }');
      if (!probe) {
        f.bodies.push(body);
        f.headers.push(req.headers);
      }
      if (f.behave.destroy && !probe) return req.socket.destroy();
      setTimeout(
        () => {
          res.writeHead(probe ? (f.behave.status === 200 ? 200 : f.behave.status) : f.behave.status, {
            'content-type': 'application/json',
          });
          res.end(JSON.stringify({ data: { ok: true } }));
        },
        probe ? 0 : f.behave.delayMs,
      );
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  f.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return f;
}

// No timers of its own by default, so each test drives exactly what happens.
const quiet: ReplicaPoolOptions = { healthCheck: { intervalMs: 0 }, strategy: 'round_robin' };
function pool(urls: string[], options: ReplicaPoolOptions = {}, name = 'products'): ReplicaPool {
  const p = new ReplicaPool(name, urls, {
    ...quiet,
    ...options,
    healthCheck: { ...quiet.healthCheck, ...options.healthCheck },
  });
  pools.push(p);
  return p;
}
const q = (i: number) => JSON.stringify({ query: `{ q${i} }` });
const json = { 'content-type': 'application/json' };
const refused = 'http://127.0.0.1:9/graphql';

describe('ReplicaPool', () => {
  it('spreads round robin and tells each replica its remaining time', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url, b.url], { timeoutMs: 5_000 });
    for (let i = 0; i < 4; i++) expect((await p.send(q(i), json, { idempotent: true })).status).toBe(200);
    expect([a.bodies.length, b.bodies.length]).toEqual([2, 2]);
    const budget = Number(a.headers[0]!['x-tollgate-deadline-ms']);
    expect(budget).toBeGreaterThan(4_000);
    expect(budget).toBeLessThanOrEqual(5_000);
    expect(p.stats().map((s) => [s.state, s.requests, s.up])).toEqual([
      ['healthy', 2, true],
      ['healthy', 2, true],
    ]);
  });

  it('T-F2: with one replica of 3 answering 503 every query succeeds, and no retry hits the same replica', async () => {
    const fakes = await Promise.all([fake(), fake(), fake()]);
    fakes[1]!.behave.status = 503;
    const p = pool(
      fakes.map((f) => f.url),
      { strategy: 'p2c_ewma', outlier: { consecutiveFailures: 0 } },
    );
    for (let i = 0; i < 60; i++) expect((await p.send(q(i), json, { idempotent: true })).status).toBe(200);
    for (let i = 0; i < 60; i++) {
      const hits = fakes.filter((f) => f.bodies.includes(q(i))).length;
      expect(hits).toBeGreaterThanOrEqual(1);
      expect(fakes.every((f) => f.bodies.filter((b) => b === q(i)).length <= 1)).toBe(true);
    }
    expect(p.snapshot().retries).toBe(fakes[1]!.bodies.length);
  });

  it('never sends a mutation again once it reached a replica', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    a.behave.status = 503;
    b.behave.status = 503;
    const p = pool([a.url, b.url]);
    const res = await p.send(q(1), json, { idempotent: false });
    expect(res.status).toBe(503);
    expect(a.bodies.length + b.bodies.length).toBe(1);

    // the connection breaks after the request arrived: it may have executed, so it is not sent again
    a.behave = { status: 200, delayMs: 0, destroy: true };
    b.behave = { status: 200, delayMs: 0, destroy: true };
    const error = await p.send(q(2), json, { idempotent: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolError);
    expect((error as PoolError).code).toBe('POOL_UPSTREAM_ERROR');
    expect([...a.bodies, ...b.bodies].filter((x) => x === q(2)).length).toBe(1);
  });

  it('moves any fetch, a mutation too, past a refused connection', async () => {
    const a = await fake();
    const p = pool([refused, a.url]);
    for (let i = 0; i < 3; i++) expect((await p.send(q(i), json, { idempotent: false })).status).toBe(200);
    expect(a.bodies.length).toBe(3);
    expect(p.snapshot().failovers).toBeGreaterThanOrEqual(1);
  });

  it('ejects a failing replica after 5 consecutive failures and stops sending it traffic', async () => {
    const fakes = await Promise.all([fake(), fake(), fake()]);
    fakes[0]!.behave.status = 500;
    const p = pool(fakes.map((f) => f.url));
    for (let i = 0; i < 30; i++) expect((await p.send(q(i), json, { idempotent: true })).status).toBe(200);
    expect(fakes[0]!.bodies.length).toBe(5);
    const s = p.stats()[0]!;
    expect(s).toMatchObject({ state: 'ejected', up: false, errors: 5, timesEjected: 1 });
    expect(s.ejectedForMs).toBeGreaterThan(29_000);
    expect(p.snapshot().ejections).toBe(1);
  });

  it('goes into panic below 50% available and spreads over every replica', async () => {
    const fakes = await Promise.all([fake(), fake(), fake()]);
    const p = pool(
      fakes.map((f) => f.url),
      { healthCheck: { path: '/health' } },
    );
    // /health answers 404 on these fakes: active checks fail for all three
    await p.probe(500);
    expect(p.stats().map((s) => s.state)).toEqual(['unhealthy', 'unhealthy', 'unhealthy']);
    for (let i = 0; i < 3; i++) expect((await p.send(q(i), json, { idempotent: true })).status).toBe(200);
    expect(p.snapshot().panic).toBe(true);
    expect(fakes.map((f) => f.bodies.length)).toEqual([1, 1, 1]);

    const strict = pool(
      fakes.map((f) => f.url),
      { healthCheck: { path: '/health' }, panicThresholdPercent: 0 },
    );
    await strict.probe(500);
    const error = await strict.send(q(9), json, { idempotent: true }).catch((e: unknown) => e);
    expect((error as PoolError).code).toBe('POOL_NO_HEALTHY_REPLICA');
  });

  it('active checks take a replica out, bring it back in slow start, and end an ejection', async () => {
    const fakes = await Promise.all([fake(), fake(), fake()]);
    let now = 0;
    const p = pool(
      fakes.map((f) => f.url),
      { clock: () => now, slowStartWindowMs: 10_000 },
    );
    await p.probe();
    for (let i = 0; i < 3; i++) await p.send(q(i), json, { idempotent: true });
    expect(p.stats()[0]!.latency.ewmaMs).toBeGreaterThan(0);
    fakes[0]!.behave.status = 500;
    await p.probe();
    expect(p.stats()[0]!.state).toBe('healthy'); // one failure is under the threshold
    await p.probe();
    expect(p.stats()[0]!.state).toBe('unhealthy');
    fakes[0]!.behave.status = 200;
    await p.probe();
    await p.probe();
    expect(p.stats()[0]).toMatchObject({ state: 'slow_start', weight: 0.1 });
    expect(p.stats()[0]!.latency.ewmaMs).toBe(0); // stale history dropped: probed like a new replica
    now = 5_000;
    expect(p.stats()[0]).toMatchObject({ state: 'slow_start', weight: 0.5 });
    now = 10_000;
    expect(p.stats()[0]).toMatchObject({ state: 'healthy', weight: 1 });

    // ejected by traffic, then a passing check un-ejects it (Envoy's default)
    fakes[1]!.behave.status = 500;
    for (let i = 0; i < 15; i++) await p.send(q(i), json, { idempotent: true });
    expect(p.stats()[1]!.state).toBe('ejected');
    fakes[1]!.behave.status = 200;
    await p.probe();
    expect(p.stats()[1]!.state).toBe('slow_start');
  });

  it('a replica added at run time starts slow, one removed drains its in-flight requests', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    const p = pool([a.url], { slowStartWindowMs: 60_000 });
    await p.send(q(0), json, { idempotent: true });
    p.addReplica(b.url);
    expect(p.stats().map((s) => [s.state, s.weight])).toEqual([
      ['healthy', 1],
      ['slow_start', 0.1],
    ]);
    a.behave.delayMs = 200;
    const inflight = p.send(q(1), json, { idempotent: true });
    await new Promise((r) => setTimeout(r, 50));
    const removed = p.removeReplica(a.url);
    expect(p.replicas).toEqual([b.url]);
    expect((await inflight).status).toBe(200);
    await removed;
    expect((await p.send(q(2), json, { idempotent: true })).replica).toBe(b.url);
  });

  it('times out at the subgraph deadline, per-subgraph override first, and does not retry past it (T-F3)', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    a.behave.delayMs = 2_000;
    b.behave.delayMs = 2_000;
    const p = pool([a.url, b.url], { timeoutMs: 10_000, overrides: { Products: { timeoutMs: 300 } } });
    const t0 = performance.now();
    const error = await p.send(q(1), json, { idempotent: true }).catch((e: unknown) => e);
    const took = performance.now() - t0;
    expect((error as PoolError).code).toBe('POOL_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_000);
    expect(a.bodies.length + b.bodies.length).toBe(1);
  });

  it('retries a timed-out query on another replica when a per-try timeout leaves time', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    a.behave.delayMs = 2_000;
    const p = pool([a.url, b.url], { timeoutMs: 2_000, perTryTimeoutMs: 200 });
    const res = await p.send(q(1), json, { idempotent: true });
    expect(res.replica).toBe(b.url);
    expect(Number(b.headers[0]!['x-tollgate-deadline-ms'])).toBeLessThanOrEqual(200);
  });

  it("cuts the fetch to the incoming request's deadline, and stops on its signal", async () => {
    const a = await fake();
    a.behave.delayMs = 1_000;
    const p = pool([a.url]);
    const t0 = performance.now();
    const timedOut = await p
      .send(q(1), json, { idempotent: true, deadline: Date.now() + 150 })
      .catch((e: unknown) => e);
    expect((timedOut as PoolError).code).toBe('POOL_TIMEOUT');
    expect(performance.now() - t0).toBeLessThan(800);
    expect(Number(a.headers[0]!['x-tollgate-deadline-ms'])).toBeLessThanOrEqual(150);

    const late = await p
      .send(q(2), json, { idempotent: true, deadline: Date.now() - 1 })
      .catch((e: unknown) => e);
    expect((late as PoolError).code).toBe('POOL_TIMEOUT');

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await p
      .send(q(3), json, { idempotent: true, signal: controller.signal })
      .catch((e: unknown) => e);
    expect((aborted as PoolError).code).toBe('POOL_ABORTED');
    const expired = await p
      .send(q(4), json, { idempotent: true, signal: AbortSignal.timeout(50) })
      .catch((e: unknown) => e);
    expect((expired as PoolError).code).toBe('POOL_TIMEOUT');
  });

  it('fails fast when every replica is at its concurrency limit', async () => {
    const [a, b] = await Promise.all([fake(), fake()]);
    a.behave.delayMs = 300;
    b.behave.delayMs = 300;
    const p = pool([a.url, b.url], { maxConcurrentPerReplica: 1 });
    const first = [p.send(q(1), json, { idempotent: true }), p.send(q(2), json, { idempotent: true })];
    const t0 = performance.now();
    const error = await p.send(q(3), json, { idempotent: true }).catch((e: unknown) => e);
    expect((error as PoolError).code).toBe('POOL_OVERLOADED');
    expect(performance.now() - t0).toBeLessThan(100);
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect(p.snapshot().overloaded).toBe(1);
  });

  it('keeps retries within the budget', async () => {
    const fakes = await Promise.all([fake(), fake(), fake()]);
    for (const f of fakes) f.behave.status = 503;
    const p = pool(
      fakes.map((f) => f.url),
      { retry: { budgetPercent: 0, minRetryConcurrency: 0 } },
    );
    expect((await p.send(q(1), json, { idempotent: true })).status).toBe(503);
    expect(fakes.reduce((n, f) => n + f.bodies.length, 0)).toBe(1);
    expect(p.snapshot()).toMatchObject({ retries: 0, retriesDenied: 1, failed: 1 });

    const generous = pool(fakes.map((f) => f.url));
    expect((await generous.send(q(2), json, { idempotent: true })).status).toBe(503);
    expect(fakes.filter((f) => f.bodies.includes(q(2))).length).toBe(3); // ≤ 3 attempts, all different
    expect(generous.snapshot().retries).toBe(2);
  });

  it('answers POOL_NO_HEALTHY_REPLICA fast when nothing listens', async () => {
    const p = pool([refused, 'http://127.0.0.1:7/graphql']);
    const t0 = performance.now();
    const error = await p.send(q(1), json, { idempotent: true }).catch((e: unknown) => e);
    expect((error as PoolError).code).toBe('POOL_NO_HEALTHY_REPLICA');
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('follows dns:// entries: new addresses join, vanished ones drain', async () => {
    const a = await fake('0.0.0.0');
    const port = new URL(a.url).port;
    const at = (ip: string) => `http://${ip}:${port}/graphql`;
    const entry = `dns://svc.test:${port}/graphql`;
    let addresses = ['127.0.0.1'];
    const p = pool([entry], { discovery: { refreshMs: 30 }, resolver: async () => addresses });
    const inRotation = () => p.stats().map((s) => s.url);
    expect((await p.send(q(1), json, { idempotent: true })).replica).toBe(at('127.0.0.1'));
    addresses = ['127.0.0.1', '127.0.0.2'];
    await expect.poll(inRotation, { timeout: 2_000 }).toEqual([at('127.0.0.1'), at('127.0.0.2')]);
    expect(p.stats()[1]!.state).toBe('slow_start'); // joined at run time
    addresses = ['127.0.0.2'];
    await expect.poll(inRotation, { timeout: 2_000 }).toEqual([at('127.0.0.2')]);
    expect((await p.send(q(2), json, { idempotent: true })).status).toBe(200);
    expect(p.replicas).toEqual([entry]); // the sources, as configured
  });

  it('reconciles like a config reload: dns:// entries and URLs added and removed by name', async () => {
    const [a, b] = await Promise.all([fake('0.0.0.0'), fake()]);
    const port = new URL(a.url).port;
    const entry = `dns://svc.test:${port}/graphql`;
    const p = pool([b.url], { resolver: async () => ['127.0.0.3', '127.0.0.4'] });
    p.addReplica(entry);
    p.addReplica(entry); // a reload lists it again: no-op
    p.addReplica(b.url);
    expect(p.replicas).toEqual([b.url, entry]);
    await p.send(q(1), json, { idempotent: true });
    expect(p.stats().map((s) => s.url)).toEqual([
      b.url,
      `http://127.0.0.3:${port}/graphql`,
      `http://127.0.0.4:${port}/graphql`,
    ]);
    await p.removeReplica(entry);
    expect(p.stats().map((s) => s.url)).toEqual([b.url]);
    expect(p.replicas).toEqual([b.url]);
  });

  it('reports a pool that never resolved', async () => {
    const p = pool(['dns://nowhere.test:1/graphql'], {
      resolver: async () => Promise.reject(new Error('NXDOMAIN')),
    });
    const error = await p.send(q(1), json, { idempotent: true }).catch((e: unknown) => e);
    expect((error as PoolError).code).toBe('POOL_NO_HEALTHY_REPLICA');
    expect((error as PoolError).message).toMatch(/NXDOMAIN/);
  });

  it('refuses bad input and work after close', async () => {
    expect(() => pool(['ftp://x/graphql'])).toThrow(TypeError);
    const p = pool([refused]);
    expect(() => p.addReplica('dns://')).toThrow(TypeError);
    await p.close();
    const error = await p.send(q(1), json, { idempotent: true }).catch((e: unknown) => e);
    expect((error as PoolError).code).toBe('POOL_CLOSED');
  });
});
