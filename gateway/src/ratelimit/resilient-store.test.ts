import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { RatePolicy } from './bucket.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRedisStore } from './redis-store.ts';
import type { ResilientRateLimitStore, ResilientStoreOptions } from './resilient-store.ts';
import { createResilientStore } from './resilient-store.ts';
import type { RateDecision, RateLimitStore } from './store.ts';
import { RATELIMIT_STORE_UNAVAILABLE, RateLimitStoreError } from './store.ts';

// None of these tests use the shared Redis: each brings a closed port, a black hole or a private server.
const TIMEOUT_MS = 50;
const FAST_MS = 500; // "within the timeout plus a margin" that a loaded 2-core CI machine can still meet
const policy: RatePolicy = { capacity: 10, restoreRate: 0.1 }; // refill is negligible during a test

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends RateLimitStore>(store: T): T {
  cleanups.push(() => store.close());
  return store;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

async function timedRejection(fn: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await fn();
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
  throw new Error('expected a rejection');
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** A TCP server that accepts connections and never answers: a hung Redis. */
async function blackHole(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const port = await listen(server);
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return port;
}

/** Stand-in primary whose behaviour a test switches at will. */
function fakePrimary() {
  const memory = createMemoryStore();
  let mode: 'ok' | 'throw' | 'hang' = 'ok';
  const calls = { take: 0, refund: 0 };
  const primary: RateLimitStore = {
    take: async (key, cost, p) => {
      calls.take++;
      if (mode === 'throw') throw new Error('ECONNREFUSED');
      if (mode === 'hang') return new Promise<RateDecision>(() => undefined);
      return { ...(await memory.take(key, cost, p)), source: 'redis' };
    },
    refund: async (key, amount, p) => {
      calls.refund++;
      if (mode === 'throw') throw new Error('ECONNREFUSED');
      if (mode === 'hang') return new Promise<void>(() => undefined);
      return memory.refund(key, amount, p);
    },
    close: () => memory.close(),
  };
  return {
    primary,
    calls,
    set: (next: typeof mode) => {
      mode = next;
    },
  };
}

function resilient(options: Partial<ResilientStoreOptions> & Pick<ResilientStoreOptions, 'primary'>) {
  const errors: RateLimitStoreError[] = [];
  const store = track(
    createResilientStore({ timeoutMs: TIMEOUT_MS, onError: (error) => errors.push(error), ...options }),
  );
  return { store, errors };
}

async function burst(store: RateLimitStore, key: string, n = 30) {
  return Promise.all(Array.from({ length: n }, () => store.take(key, 1, policy)));
}

describe('resilient store (fake primary)', () => {
  it('passes primary decisions through and stays healthy', async () => {
    const { primary } = fakePrimary();
    const { store, errors } = resilient({ primary });
    expect(await store.take('a', 4, policy)).toMatchObject({ allowed: true, remaining: 6, source: 'redis' });
    expect(store.stats()).toEqual({ fallbackDecisions: 0, errors: 0, degraded: false });
    expect(errors).toHaveLength(0);
  });

  it('fails open to a local bucket, logs once per failure burst, and recovers', async () => {
    const fake = fakePrimary();
    const { store, errors } = resilient({ primary: fake.primary });
    fake.set('throw');
    const decisions = await burst(store, 'k');
    expect(decisions.every((d) => d.source === 'fallback')).toBe(true);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(store.stats()).toEqual({ fallbackDecisions: 30, errors: 30, degraded: true });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RateLimitStoreError);
    expect(errors[0]?.code).toBe(RATELIMIT_STORE_UNAVAILABLE);

    fake.set('ok');
    expect(await store.take('k', 1, policy)).toMatchObject({ allowed: true, source: 'redis' });
    expect(store.stats().degraded).toBe(false);
    fake.set('throw');
    await store.take('k', 1, policy);
    expect(errors).toHaveLength(2); // a new burst, a new log line
  });

  it('never waits on a hung primary longer than its timeout', async () => {
    const fake = fakePrimary();
    fake.set('hang');
    const open = resilient({ primary: fake.primary });
    const { ms, value } = await timed(() => open.store.take('k', 1, policy));
    expect(value).toMatchObject({ allowed: true, source: 'fallback' });
    expect(ms).toBeLessThan(FAST_MS);
    const closed = resilient({ primary: fake.primary, failureMode: 'closed' });
    const rejected = await timedRejection(() => closed.store.take('k', 1, policy));
    expect(rejected.error).toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
    expect(rejected.ms).toBeLessThan(FAST_MS);
    expect((await timedRejection(() => closed.store.refund('k', 1, policy))).ms).toBeLessThan(FAST_MS);
  });

  it('fails closed with RATELIMIT_STORE_UNAVAILABLE and never uses the fallback', async () => {
    const fake = fakePrimary();
    fake.set('throw');
    const { store, errors } = resilient({ primary: fake.primary, failureMode: 'closed' });
    await expect(store.take('k', 1, policy)).rejects.toMatchObject({
      name: 'RateLimitStoreError',
      code: RATELIMIT_STORE_UNAVAILABLE,
    });
    await expect(store.refund('k', 1, policy)).rejects.toBeInstanceOf(RateLimitStoreError);
    expect(store.stats()).toEqual({ fallbackDecisions: 0, errors: 2, degraded: true });
    expect(errors).toHaveLength(1);
  });

  it('scales the fallback bucket by fallbackShare', async () => {
    const fake = fakePrimary();
    fake.set('throw');
    const { store } = resilient({ primary: fake.primary, fallbackShare: 0.5 });
    const decisions = await burst(store, 'k');
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions[0]).toMatchObject({ limit: 5, source: 'fallback' });
  });

  it('refunds to the fallback while degraded and to the primary otherwise', async () => {
    const fake = fakePrimary();
    const { store } = resilient({ primary: fake.primary });
    fake.set('throw');
    expect(await store.take('k', 10, policy)).toMatchObject({ allowed: true, source: 'fallback' });
    await store.refund('k', 4, policy);
    expect(fake.calls.refund).toBe(0);
    expect(await store.take('k', 4, policy)).toMatchObject({
      allowed: true,
      remaining: 0,
      source: 'fallback',
    });
    fake.set('ok');
    await store.take('p', 10, policy);
    await store.refund('p', 3, policy);
    expect(fake.calls.refund).toBe(1);
    expect(await store.take('p', 3, policy)).toMatchObject({ allowed: true, remaining: 0, source: 'redis' });
  });

  it('treats bad input as the caller’s bug: it throws and is not counted as an outage', async () => {
    const fake = fakePrimary();
    const { store } = resilient({ primary: fake.primary });
    await expect(store.take('', 1, policy)).rejects.toThrow(TypeError);
    await expect(store.take('k', -1, policy)).rejects.toThrow(RangeError);
    await expect(store.refund('k', 1, { capacity: 1, restoreRate: 0 })).rejects.toThrow(RangeError);
    expect(fake.calls.take).toBe(0);
    expect(store.stats().errors).toBe(0);
  });

  it('survives an onError callback that throws', async () => {
    const fake = fakePrimary();
    fake.set('throw');
    const { store } = resilient({
      primary: fake.primary,
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(await store.take('k', 1, policy)).toMatchObject({ allowed: true, source: 'fallback' });
  });

  it('rejects calls after close without counting them as an outage', async () => {
    const { primary } = fakePrimary();
    const { store, errors } = resilient({ primary });
    await store.close();
    await expect(store.take('k', 1, policy)).rejects.toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
    await expect(store.refund('k', 1, policy)).rejects.toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
    expect(store.stats()).toEqual({ fallbackDecisions: 0, errors: 0, degraded: false });
    expect(errors).toHaveLength(0);
  });

  it('rejects bad options', () => {
    const { primary } = fakePrimary();
    expect(() => createResilientStore({ primary, fallbackShare: 0 })).toThrow(RangeError);
    expect(() => createResilientStore({ primary, fallbackShare: 1.5 })).toThrow(RangeError);
    expect(() => createResilientStore({ primary, timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createResilientStore({ primary, failureMode: 'maybe' as 'open' })).toThrow(RangeError);
  });
});

describe.each([
  ['connection refused', async () => freePort()],
  ['black hole (accepts, never answers)', blackHole],
])('T-F6: Redis limiter down, %s', (_, target) => {
  const redisAt = (port: number) =>
    createRedisStore({
      url: `redis://127.0.0.1:${port}`,
      timeoutMs: TIMEOUT_MS,
      keyPrefix: 'tollgate:rl:t-f6:',
    });

  it('the Redis store itself rejects with RATELIMIT_STORE_UNAVAILABLE within the timeout', async () => {
    const store = track(redisAt(await target()));
    for (let i = 0; i < 3; i++) {
      const { ms, error } = await timedRejection(() => store.take('k', 1, policy));
      expect(error).toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
      expect(ms).toBeLessThan(FAST_MS);
    }
  });

  it('fail-open answers from the fallback within the timeout and still caps a burst', async () => {
    const { store, errors } = resilient({ primary: redisAt(await target()) });
    const { ms, value } = await timed(() => burst(store, 'k'));
    expect(ms).toBeLessThan(FAST_MS);
    expect(value.every((d) => d.source === 'fallback')).toBe(true);
    expect(value.filter((d) => d.allowed)).toHaveLength(10);
    expect(store.stats()).toMatchObject({ fallbackDecisions: 30, errors: 30, degraded: true });
    expect(errors).toHaveLength(1);
    const again = await timed(() => store.take('k', 1, policy));
    expect(again.value).toMatchObject({ allowed: false, source: 'fallback' });
    expect(again.ms).toBeLessThan(FAST_MS);
  });

  it('fail-closed rejects with RATELIMIT_STORE_UNAVAILABLE within the same bound', async () => {
    const { store } = resilient({ primary: redisAt(await target()), failureMode: 'closed' });
    const { ms, error } = await timedRejection(() => store.take('k', 1, policy));
    expect(error).toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('closes without hanging', async () => {
    const store = redisAt(await target());
    await store.take('k', 1, policy).catch(() => undefined);
    expect((await timed(() => store.close())).ms).toBeLessThan(FAST_MS);
    await expect(store.take('k', 1, policy)).rejects.toMatchObject({ code: RATELIMIT_STORE_UNAVAILABLE });
  });
});

const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Each of these polls with its own 5 s deadline, so give the test room to report which phase was slow.
describe.skipIf(!hasRedisServer)('T-F6: a Redis that comes back', { timeout: 20_000 }, () => {
  // Resolves once this very child logs that it is ready, so a port grabbed by someone else in the
  // meantime fails fast (the child exits) instead of passing a connect probe against a stranger.
  async function startRedis(port: number): Promise<ChildProcess> {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    // Registered at once, so a test that fails or times out mid-start still reaps its child.
    cleanups.push(() => stopRedis(child));
    let log = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no "ready" line within 5 s')), 5000);
        child.stdout?.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited with ${code}`));
        });
      });
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${(err as Error).message}\n${log}`);
    }
    child.stdout?.resume(); // keep draining its log so it never blocks on a full pipe
    return child;
  }

  async function startOnFreePort(): Promise<{ port: number; child: ChildProcess }> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        return { port, child: await startRedis(port) };
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  async function stopRedis(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async function untilSource(store: ResilientRateLimitStore, source: RateDecision['source'], p: RatePolicy) {
    const deadline = performance.now() + 5000;
    for (;;) {
      const decision = await store.take('probe', 0, p);
      if (decision.source === source) return decision;
      if (performance.now() > deadline) {
        throw new Error(`store never answered from ${source}: ${JSON.stringify(store.stats())}`);
      }
      await sleep(25);
    }
  }

  it('falls back while Redis is down and uses Redis again once it is back', async () => {
    const started = await startOnFreePort();
    const port = started.port;
    let server = started.child;
    const { store, errors } = resilient({
      primary: createRedisStore({ url: `redis://127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS }),
    });

    // The first call may land while the connection is still being made; that is a fallback too.
    await untilSource(store, 'redis', policy);
    expect(await store.take('k', 4, policy)).toMatchObject({ allowed: true, remaining: 6, source: 'redis' });
    const bursts = errors.length;

    await stopRedis(server);
    const down = await timed(() => untilSource(store, 'fallback', policy));
    expect(down.ms).toBeLessThan(FAST_MS);
    expect(errors).toHaveLength(bursts + 1);

    server = await startRedis(port);
    await untilSource(store, 'redis', policy);
    expect(store.stats().degraded).toBe(false);
    // The restarted server is empty (no persistence), so the budget starts full again.
    expect(await store.take('k', 10, policy)).toMatchObject({ allowed: true, source: 'redis' });
    expect(errors).toHaveLength(bursts + 1);
  });

  it('a Redis that hangs after connecting (SIGSTOP) costs one timeout per decision, then recovers', async () => {
    const { port, child: server } = await startOnFreePort();
    const { store } = resilient({
      primary: createRedisStore({ url: `redis://127.0.0.1:${port}`, timeoutMs: TIMEOUT_MS }),
    });
    await untilSource(store, 'redis', policy);

    server.kill('SIGSTOP');
    try {
      const { ms, value } = await timed(() => burst(store, 'k'));
      expect(ms).toBeLessThan(FAST_MS);
      expect(value.every((d) => d.source === 'fallback')).toBe(true);
      expect(value.filter((d) => d.allowed)).toHaveLength(10);
    } finally {
      server.kill('SIGCONT');
    }
    await untilSource(store, 'redis', policy);
  });
});
