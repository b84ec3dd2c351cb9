import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

const SERVER = 2;
const CLIENT = 3;

/** Trace id of a `traceparent` header value. */
function traceIdOf(traceparent: string | null): string {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');
  expect(match, `traceparent ${traceparent}`).not.toBeNull();
  return match![1]!;
}

/** The chain of span names from a span up to the root of its trace. */
function ancestry(span: ReceivedSpan, byId: ReadonlyMap<string, ReceivedSpan>): string[] {
  const chain: string[] = [];
  for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId))
    chain.push(`${s.service}:${s.name}`);
  return chain;
}

// The whole stack as `npm start` runs it (database, a replica per subgraph, gateway, each its own
// process with the real OpenTelemetry SDK) exporting to an OTLP/HTTP receiver this test runs.
const REDIS_URL = process.env.REDIS_URL;

describe('one trace per request, gateway to SQL', () => {
  let receiver: OtlpReceiver;
  let stack: Stack;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      dataDir: 'memory',
      // one replica each: the trace is the point here (the retry's attempt spans have their own test)
      replicas: 1,
      stateDir: `${process.cwd()}/.tollgate/e2e-telemetry-${process.pid}`,
      // With REDIS_URL, the budgets and the subgraphs' loader cache are in Redis (a fresh cache prefix:
      // a cold cache, so every loader still reaches SQL), and their commands are in the trace too.
      ...(REDIS_URL ? { redisUrl: REDIS_URL } : {}),
      env: {
        SUBGRAPH_CACHE_PREFIX: `tollgate-e2e-telemetry-${process.pid}-${Date.now()}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        // the subgraphs keep their default (parent-based: they follow the gateway)
        GATEWAY_TELEMETRY_ACCESS_LOG: 'false',
      },
      gatewayConfig: {
        telemetry: { sampler: 'always_on' },
        ratelimit: {
          keyPrefix: `tollgate:e2e-telemetry:${process.pid}:${Date.now()}:`,
          plans: {
            anonymous: { capacity: 1_000_000, restoreRate: 100_000 },
            free: { capacity: 1000, restoreRate: 50 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    if (stack) rmSync(stack.stateDir, { recursive: true, force: true });
  });

  it('exports spans of the gateway, every subgraph, DataLoader batches and pg under one trace id', async () => {
    const { status, headers, body } = await gql(stack.url, SAMPLE_QUERY, { first: 3 });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const traceId = traceIdOf(headers.get('traceparent'));

    await receiver.waitFor(() => {
      const t = receiver.trace(traceId);
      const subgraphs = new Set(t.filter((s) => s.name === 'subgraph.loader.batch').map((s) => s.service));
      return subgraphs.size >= 4 && t.some((s) => s.parentSpanId === '');
    });
    // the last batches of every process: a moment to land
    await new Promise((r) => setTimeout(r, 500));
    const trace = receiver.trace(traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));

    const services = new Set(trace.map((s) => s.service));
    expect(services).toEqual(new Set(['tollgate-gateway', 'products', 'inventory', 'reviews', 'accounts']));
    // one root, the gateway's server span; every other span's parent is in the same trace
    const roots = trace.filter((s) => s.parentSpanId === '');
    expect(roots.map((s) => `${s.service}:${s.name}`)).toEqual(['tollgate-gateway:POST /graphql']);
    expect(roots[0]!.kind).toBe(SERVER);
    for (const s of trace) {
      if (s.parentSpanId) expect(byId.has(s.parentSpanId), `parent of ${s.service}:${s.name}`).toBe(true);
    }

    const batches = trace.filter((s) => s.name === 'subgraph.loader.batch');
    for (const b of batches) {
      expect(typeof b.attributes['dataloader.name']).toBe('string');
      expect(b.attributes['dataloader.batch.size']).toBeGreaterThan(0);
      expect(typeof b.attributes['dataloader.cache.hits']).toBe('number');
    }
    const sql = trace.filter((s) => s.scope.includes('instrumentation-pg') && s.name.startsWith('pg.query'));
    expect(sql.length).toBeGreaterThanOrEqual(4);
    // client → gateway → fetch → replica → resolver (the subgraph's execution) → batch → SQL, unbroken
    for (const statement of sql) {
      const chain = ancestry(statement, byId);
      expect(chain[1]).toMatch(/:subgraph\.loader\.batch$/);
      expect(chain[2]).toMatch(/:query Sample__/);
      expect(chain.slice(3).map((n) => n.split(':')[1])).toEqual([
        'POST',
        'gateway.pool.attempt',
        'gateway.pool.fetch',
        'gateway.execute',
        'POST /graphql',
      ]);
    }
    if (REDIS_URL) {
      const redis = trace.filter((s) => s.scope.includes('instrumentation-ioredis'));
      // the gateway charges the budget under its rate-limit decision
      const charge = redis.find((s) => s.service === 'tollgate-gateway');
      expect(charge && byId.get(charge.parentSpanId)?.name).toBe('gateway.ratelimit');
      // each subgraph reads its loader cache from within the DataLoader batch that needs it
      const subgraphCommands = redis.filter((s) => s.service !== 'tollgate-gateway');
      expect(new Set(subgraphCommands.map((s) => s.service)).size).toBeGreaterThanOrEqual(3);
      for (const command of subgraphCommands)
        expect(ancestry(command, byId).join(' < ')).toMatch(
          /:subgraph\.loader\.batch < .*gateway\.pool\.attempt/,
        );
    }
    const replicaServer = trace.find((s) => s.service === 'products' && s.kind === SERVER)!;
    const attempt = byId.get(replicaServer.parentSpanId)!;
    expect(attempt.name).toBe('gateway.pool.attempt');
    expect(attempt.kind).toBe(CLIENT);
    expect(attempt.attributes['gateway.subgraph']).toBe('products');
  });
});
