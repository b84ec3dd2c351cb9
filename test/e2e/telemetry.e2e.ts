import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';
import { pathsOf, renderTree, treeBlocks } from '../fixtures/trace-tree.ts';

const SERVER = 2;
const CLIENT = 3;
const ROOT = new URL('../../', import.meta.url);
/** The tree blocks in the docs that show this test's trace follow this marker. */
const TREE_MARKER = '<!-- trace-tree: sample-query -->';
const versionOf = (path: string) =>
  (JSON.parse(readFileSync(new URL(path, ROOT), 'utf8')) as { version: string }).version;

/** How many times each entry occurs. */
function counts(list: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const x of list) out.set(x, (out.get(x) ?? 0) + 1);
  return out;
}

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

    // every process names its version: the gateway's package, each subgraph's own
    for (const s of trace)
      expect(s.resource['service.version'], `${s.service} service.version`).toBe(
        versionOf(
          s.service === 'tollgate-gateway' ? 'gateway/package.json' : `services/${s.service}/package.json`,
        ),
      );

    const batches = trace.filter((s) => s.name === 'subgraph.loader.batch');
    for (const b of batches) {
      expect(typeof b.attributes['tollgate.dataloader.name']).toBe('string');
      expect(b.attributes['tollgate.dataloader.batch.size']).toBeGreaterThan(0);
      expect(typeof b.attributes['tollgate.dataloader.cache.hits']).toBe('number');
    }
    // SQL statements by the stable database conventions: named by their summary, not `pg.query:…`
    const sql = trace.filter(
      (s) => s.scope.includes('instrumentation-pg') && 'db.query.text' in s.attributes,
    );
    expect(sql.length).toBeGreaterThanOrEqual(4);
    for (const statement of sql) {
      expect(statement.kind).toBe(CLIENT);
      expect(statement.attributes['db.system.name']).toBe('postgresql');
      expect(statement.name).toBe(statement.attributes['db.query.summary']);
      expect(statement.name).toMatch(/^SELECT [a-z]+\.[a-z]+$/);
    }
    // client → gateway → fetch → attempt → replica → resolver (the subgraph's execution) → batch → SQL,
    // unbroken
    for (const statement of sql) {
      const chain = ancestry(statement, byId);
      expect(chain[1]).toMatch(/:subgraph\.loader\.batch$/);
      expect(chain[2]).toMatch(/:query Sample__/);
      expect(chain.slice(3).map((n) => n.slice(n.indexOf(':') + 1))).toEqual([
        'POST /graphql',
        'POST',
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
          /:subgraph\.loader\.batch < .*tollgate-gateway:POST < tollgate-gateway:gateway\.pool\.fetch/,
        );
    }
    // the replica's server span (HTTP server conventions) under the gateway's client span of the attempt
    const replicaServer = trace.find((s) => s.service === 'products' && s.kind === SERVER)!;
    expect(replicaServer.name).toBe('POST /graphql');
    expect(replicaServer.attributes['http.route']).toBe('/graphql');
    const attempt = byId.get(replicaServer.parentSpanId)!;
    expect(attempt.name).toBe('POST');
    expect(attempt.kind).toBe(CLIENT);
    expect(attempt.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'tollgate.subgraph.name': 'products',
      'tollgate.attempt': 1,
    });
    const target = new URL(String(attempt.attributes['url.full']));
    expect(attempt.attributes['server.address']).toBe(target.hostname);
    expect(attempt.attributes['server.port']).toBe(Number(target.port));

    // The trees in docs/telemetry.md and the README are this trace: the page's is the whole of it
    // (bar the incidental spans, see trace-tree.ts), the README's a part of it.
    const tree = renderTree(trace);
    if (process.env.TOLLGATE_TRACE_TREE_OUT)
      writeFileSync(process.env.TOLLGATE_TRACE_TREE_OUT, `${tree.join('\n')}\n`);
    const exported = pathsOf(tree);
    const [page] = treeBlocks(readFileSync(new URL('docs/telemetry.md', ROOT), 'utf8'), TREE_MARKER);
    expect(page, `docs/telemetry.md has a tree block after ${TREE_MARKER}`).toBeDefined();
    expect(pathsOf(page!), 'docs/telemetry.md shows the exported trace').toEqual(exported);
    const [readme] = treeBlocks(readFileSync(new URL('README.md', ROOT), 'utf8'), TREE_MARKER);
    expect(readme, `README.md has a tree block after ${TREE_MARKER}`).toBeDefined();
    const available = counts(exported);
    for (const [path, n] of counts(pathsOf(readme!)))
      expect(available.get(path) ?? 0, `README.md: ${path} (×${n}) is in the export`).toBeGreaterThanOrEqual(
        n,
      );
  });
});
