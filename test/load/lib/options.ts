// The bench's command line: flags, defaults and the usage text.
import { parseArgs } from 'node:util';
import { type BenchQuery, QUERIES } from './queries.ts';
import { DEFAULT_TARGETS, TARGETS, type TargetId } from './targets.ts';

export interface Options {
  profile: 'static' | 'real';
  rounds: number;
  warmupSec: number;
  durationSec: number;
  connections: number;
  quick: boolean;
  memory: boolean;
  dedup: 'on' | 'off' | 'both';
  token?: { value: string; source: 'flag' | 'env' };
  targets: TargetId[];
  queries: BenchQuery['id'][];
}

export const USAGE = `usage: node --import tsx test/load/bench.ts [options]
  --profile static|real   static: in-memory benchmark subgraphs (default); real: services/* on PostgreSQL
  --rounds <n>            rounds over all targets and queries (default 3)
  --warmup <s>            warm-up per target and query, not measured (default 5)
  --duration <s>          measured window per target and query (default 15)
  --connections <n>       concurrent connections (default 50)
  --quick                 smoke run: 1 round, 1 s warm-up, 3 s measured (memory: 1k and 10k requests)
  --memory                memory check of the Tollgate production target: RSS after 10k and 100k requests of the mix
  --dedup on|off|both     in-flight dedup of subgraph fetches: Hive's on, off, or both as rows of their own
                          (default off; Tollgate has none yet: reported, not applied)
  --token <jwt>           bearer token for targets that send one (else TOLLGATE_BENCH_TOKEN, else a minted dev token)
  --targets <ids>         comma-separated subset of ${TARGETS.map((t) => t.id).join(',')} (default: all but tollgate-2w)
  --queries <ids>         comma-separated subset of ${QUERIES.map((q) => q.id).join(',')}
  --planning              planning cost of the two query planners instead of load (test/load/planning.ts --help)
  --subscriptions         10,000 subscribers on one gateway: RSS per subscriber, mutation → last event (test/load/subscriptions.ts)`;

export function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      profile: { type: 'string', default: 'static' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '50' },
      quick: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      dedup: { type: 'string', default: 'off' },
      token: { type: 'string' },
      targets: { type: 'string' },
      queries: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number ≥ ${min}, got ${raw}`);
    return n;
  };
  const list = <T extends string>(
    name: string,
    raw: string | undefined,
    all: readonly T[],
    defaults: readonly T[] = all,
  ): T[] => {
    if (raw === undefined) return [...defaults];
    const picked = raw.split(',').map((s) => s.trim()) as T[];
    const unknown = picked.filter((p) => !all.includes(p));
    if (unknown.length)
      throw new Error(`--${name}: unknown ${unknown.join(', ')} (expected ${all.join(', ')})`);
    return all.filter((a) => picked.includes(a));
  };
  if (values.profile !== 'static' && values.profile !== 'real')
    throw new Error(`--profile: expected static or real, got ${values.profile}`);
  if (values.dedup !== 'on' && values.dedup !== 'off' && values.dedup !== 'both')
    throw new Error(`--dedup: expected on, off or both, got ${values.dedup}`);
  const quick = values.quick === true;
  const tokenEnv = process.env.TOLLGATE_BENCH_TOKEN;
  const token = values.token
    ? { value: values.token, source: 'flag' as const }
    : tokenEnv
      ? { value: tokenEnv, source: 'env' as const }
      : undefined;
  return {
    profile: values.profile,
    rounds: Math.round(number('rounds', values.rounds, quick ? 1 : 3, 1)),
    warmupSec: number('warmup', values.warmup, quick ? 1 : 5, 0),
    durationSec: number('duration', values.duration, quick ? 3 : 15, 1),
    connections: Math.round(number('connections', values.connections, 50, 1)),
    quick,
    memory: values.memory === true,
    dedup: values.dedup,
    ...(token ? { token } : {}),
    targets: list(
      'targets',
      values.targets,
      TARGETS.map((t) => t.id),
      DEFAULT_TARGETS,
    ),
    queries: list(
      'queries',
      values.queries,
      QUERIES.map((q) => q.id),
    ),
  };
}
