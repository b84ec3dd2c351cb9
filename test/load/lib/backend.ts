// What the gateways under test call: the static benchmark subgraphs (subgraphs/main.ts, which also runs
// the OTLP sink), or the real services on embedded PostgreSQL (scripts/stack.ts), with a way to count
// the subgraph requests each measured window caused.
import { join } from 'node:path';
import { BENCH_COUNTS } from '../subgraphs/data.ts';
import { type Child, startChild } from './processes.ts';

export interface Backend {
  /** Subgraph name → URL the gateways call. */
  urls: Record<string, string>;
  otlpUrl: string;
  /** Subgraph requests served so far (all subgraphs), or null when the profile cannot tell. */
  requests(): Promise<number | null>;
  /** What the OTLP sink has received so far: shows whether a target exports telemetry at all. */
  otlp(): Promise<{ requests: number; bytes: number } | null>;
  describe: string;
}

async function startBenchSubgraphs(
  root: string,
  cpu: number | undefined,
): Promise<{ child: Child; urls: Record<string, string>; otlp: string; stats: string }> {
  const child = await startChild('benchmark subgraphs', {
    args: ['--conditions=source', '--import', 'tsx', join(root, 'test', 'load', 'subgraphs', 'main.ts')],
    env: { NODE_ENV: 'production' },
    cpu,
    ready: /"ready":true/,
    cwd: root,
  });
  const ready = JSON.parse(child.readyLine) as {
    subgraphs: Record<string, string>;
    otlp: string;
    stats: string;
  };
  return { child, urls: ready.subgraphs, otlp: ready.otlp, stats: ready.stats };
}

interface SubgraphStats {
  requests: Record<string, number>;
  otlp: { requests: number; bytes: number };
}

async function readStats(statsUrl: string): Promise<SubgraphStats | null> {
  try {
    return (await (await fetch(statsUrl)).json()) as SubgraphStats;
  } catch {
    return null;
  }
}

async function statsTotal(statsUrl: string): Promise<number | null> {
  const stats = await readStats(statsUrl);
  return stats && Object.values(stats.requests).reduce((a, b) => a + b, 0);
}

export interface BackendOptions {
  /** Repository root. */
  root: string;
  profile: 'static' | 'real';
  /** CPU of the subgraphs (and, in the real profile, of the database and replicas). */
  loadCpu: number | undefined;
  /** Scratch folder of this run. */
  workDir: string;
  log(line: string): void;
  /** Registers what stops the backend's extra processes (the real profile's stack) at teardown. */
  onCleanup(stop: () => Promise<void>): void;
}

export async function startBackend(options: BackendOptions): Promise<Backend> {
  const { log, workDir } = options;
  // The bench subgraph process runs in both profiles: in the real one it is only the OTLP sink.
  const bench = await startBenchSubgraphs(options.root, options.loadCpu);
  if (options.profile === 'static') {
    return {
      urls: bench.urls,
      otlpUrl: bench.otlp,
      requests: () => statsTotal(bench.stats),
      otlp: async () => (await readStats(bench.stats))?.otlp ?? null,
      describe: `static: 4 in-memory subgraphs in one process (${BENCH_COUNTS.products} products, ${BENCH_COUNTS.users} users, ${BENCH_COUNTS.reviews} reviews)`,
    };
  }
  log(
    'real profile: starting the stack (embedded PostgreSQL, seed "bench", 1 replica per subgraph); seeding takes a while',
  );
  const { startStack } = await import('../../../scripts/stack.ts');
  // Inherits this process's CPU 0 pinning, so the database and replicas stay off the gateway's core.
  const stack = await startStack({
    port: 0,
    host: '127.0.0.1',
    replicas: 1,
    seedSize: 'bench',
    dataDir: 'memory',
    stateDir: join(workDir, 'stack'),
    log: (line) => log(`stack: ${line}`),
  });
  options.onCleanup(() => stack.stop());
  // startStack also starts a Tollgate of its own; the bench starts its targets itself.
  stack.gateway.stdout?.unpipe(process.stdout);
  stack.gateway.stderr?.unpipe(process.stderr);
  stack.gateway.kill('SIGTERM');
  const urls: Record<string, string> = {};
  for (const r of stack.replicas) urls[r.service] = r.url;
  return {
    urls,
    otlpUrl: bench.otlp,
    otlp: async () => (await readStats(bench.stats))?.otlp ?? null,
    // Each replica's GET /health reports its GraphQL request count (the gateways' probes included).
    requests: async () => {
      try {
        const counts = await Promise.all(
          stack.replicas.map(
            async (r) =>
              ((await (await fetch(new URL('/health', r.url))).json()) as { requests: number }).requests,
          ),
        );
        return counts.reduce((a, b) => a + b, 0);
      } catch {
        return null;
      }
    },
    describe: `real: services/* on embedded PostgreSQL, seed "bench", 1 replica each (${stack.replicas.map((r) => r.service).join(', ')})`,
  };
}
