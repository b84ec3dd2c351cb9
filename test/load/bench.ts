// `npm run bench` (issues 10 and 20): Tollgate against plain Apollo Gateway and Hive Gateway (both
// planners) on the same supergraph, subgraphs and queries. See test/load/README.md for the method and
// what every column means.
//
//   node --import tsx test/load/bench.ts [--profile static|real] [--rounds 3] [--warmup 5] [--duration 15]
//        [--connections 50] [--quick] [--memory] [--dedup on|off|both] [--token <jwt>]
//        [--targets tollgate,tollgate-off,apollo-gateway,hive-gateway,hive-router]
//        [--queries one-subgraph,3-level,heavy]
//   node --import tsx test/load/bench.ts --planning [flags of planning.ts]: planning cost instead of load
//   node --import tsx test/load/bench.ts --subscriptions [flags of subscriptions.ts]: many subscribers
//
// The last line of stdout is always `tollgate/apollo-gateway cpu-per-request ratio (3-level query): X.XX`
// (or `n/a` when either target was not measured), after `tollgate/best-peer … (3-level query): X.XX`;
// progress goes to stderr.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type LoadResult, runLoad } from './lib/load.ts';
import {
  type Child,
  cpuMs,
  pinSelf,
  planPinning,
  rssBytes,
  startChild,
  stopAllChildren,
} from './lib/processes.ts';
import { type BenchQuery, QUERIES, requestBody } from './lib/queries.ts';
import { aggregate, bestPeers, type Cell, formatTable, ratioLine, renderTable } from './lib/report.ts';
import { composeBenchSupergraph } from './lib/supergraph.ts';
import {
  hasDedup,
  isPeer,
  type PreparedTarget,
  prepareTarget,
  REFERENCE,
  TARGETS,
  type TargetId,
  urlFromReadyLine,
  type VariantId,
} from './lib/targets.ts';
import { BENCH_COUNTS, buildData, expectedFlatProducts, expectedTopProducts } from './subgraphs/data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOAD_DIR = join(ROOT, 'test', 'load');
/** Below this many responses (all rounds) a row's figures are flagged as unstable. */
const MIN_RESPONSES = 100;

interface Options {
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

const USAGE = `usage: node --import tsx test/load/bench.ts [options]
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
  --targets <ids>         comma-separated subset of ${TARGETS.map((t) => t.id).join(',')}
  --queries <ids>         comma-separated subset of ${QUERIES.map((q) => q.id).join(',')}
  --planning              planning cost of the two query planners instead of load (test/load/planning.ts --help)
  --subscriptions         10,000 subscribers on one gateway: RSS per subscriber, mutation → last event (test/load/subscriptions.ts)`;

function parseOptions(argv: readonly string[]): Options {
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
  const list = <T extends string>(name: string, raw: string | undefined, all: readonly T[]): T[] => {
    if (raw === undefined) return [...all];
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
    ),
    queries: list(
      'queries',
      values.queries,
      QUERIES.map((q) => q.id),
    ),
  };
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stamp = () =>
  new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');

// --- teardown: every exit path stops every process the bench started ---------------------------------

const cleanups: (() => Promise<void>)[] = [];
let shuttingDown: Promise<never> | undefined;
/** Stops every child and runs the cleanups once, whoever asks first (a signal, an error, the end). */
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    await stopAllChildren().catch(() => undefined);
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    process.exit(code);
  })();
  return shuttingDown;
}
process.on('SIGINT', () => {
  log('interrupted: stopping everything');
  void shutdown(130);
});
process.on('SIGTERM', () => void shutdown(143));
// Under `npm run bench`, npm may die without passing a signal on: then stop as if signalled.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(143);
}, 1_000).unref();

// --- the subgraphs and the supergraph ----------------------------------------------------------------

interface Backend {
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
  cpu: number | undefined,
): Promise<{ child: Child; urls: Record<string, string>; otlp: string; stats: string }> {
  const child = await startChild('benchmark subgraphs', {
    args: ['--conditions=source', '--import', 'tsx', join(LOAD_DIR, 'subgraphs', 'main.ts')],
    env: { NODE_ENV: 'production' },
    cpu,
    ready: /"ready":true/,
    cwd: ROOT,
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

async function startBackend(
  options: Options,
  loadCpu: number | undefined,
  workDir: string,
): Promise<Backend> {
  // The bench subgraph process runs in both profiles: in the real one it is only the OTLP sink.
  const bench = await startBenchSubgraphs(loadCpu);
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
  const { startStack } = await import('../../scripts/stack.ts');
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
  cleanups.push(() => stack.stop());
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

// --- targets -----------------------------------------------------------------------------------------

interface RunningTarget {
  prepared: PreparedTarget;
  child: Child;
  url: string;
}

async function startTargets(
  ids: readonly TargetId[],
  backend: Backend,
  options: Options,
  workDir: string,
  gatewayCpu: number | undefined,
): Promise<RunningTarget[]> {
  const supergraphFile = join(workDir, 'supergraph.graphql');
  writeFileSync(supergraphFile, composeBenchSupergraph(ROOT, backend.urls));
  const running: RunningTarget[] = [];
  const variants = (spec: (typeof TARGETS)[number]): boolean[] =>
    !hasDedup(spec) || options.dedup === 'off' ? [false] : options.dedup === 'on' ? [true] : [false, true];
  for (const [spec, dedup] of TARGETS.filter((t) => ids.includes(t.id)).flatMap((spec) =>
    variants(spec).map((d) => [spec, d] as const),
  )) {
    const prepared = await prepareTarget(
      spec,
      {
        root: ROOT,
        workDir,
        supergraphFile,
        otlpUrl: backend.otlpUrl,
        ...(options.token ? { token: options.token } : {}),
      },
      dedup,
    );
    const child = await startChild(prepared.id, {
      args: prepared.args,
      env: prepared.env,
      cpu: gatewayCpu,
      ready: prepared.ready,
      cwd: ROOT,
    });
    running.push({ prepared, child, url: urlFromReadyLine(prepared, child.readyLine) });
    log(`${prepared.id} ready at ${running.at(-1)!.url} (pid ${child.pid})`);
  }
  return running;
}

// --- checks before load -------------------------------------------------------------------------------

interface Checked {
  query: BenchQuery['id'];
  /** JSON.stringify(data), identical for every target. */
  data: string;
  /** Bytes of each target's whole response body. */
  bytes: Record<string, number>;
  /** What each target's response shows of its features: extensions keys and telling headers. */
  observed: Record<string, { extensions: string[]; headers: string[] }>;
}

const TELLING_HEADERS = [
  'traceparent',
  'ratelimit',
  'ratelimit-policy',
  'x-ratelimit-remaining',
  'retry-after',
];

async function checkTargets(
  targets: readonly RunningTarget[],
  queries: readonly BenchQuery[],
  profile: Options['profile'],
): Promise<Checked[]> {
  const data = profile === 'static' ? buildData() : undefined;
  const out: Checked[] = [];
  const problems: string[] = [];
  for (const q of queries) {
    const expected = data
      ? JSON.stringify(
          q.shape === 'flat' ? expectedFlatProducts(data, q.first) : expectedTopProducts(data, q.first),
        )
      : undefined;
    const seen: { target: VariantId; data: string }[] = [];
    const bytes: Record<string, number> = {};
    const observed: Checked['observed'] = {};
    for (const t of targets) {
      const res = await fetch(t.url, { method: 'POST', headers: t.prepared.headers, body: requestBody(q) });
      const text = await res.text();
      bytes[t.prepared.id] = Buffer.byteLength(text);
      let body: { data?: unknown; errors?: unknown[]; extensions?: Record<string, unknown> } | undefined;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = undefined;
      }
      const where = `${q.id} on ${t.prepared.id}`;
      if (res.status !== 200) problems.push(`${where}: status ${res.status}: ${text.slice(0, 300)}`);
      else if (!body) problems.push(`${where}: not JSON: ${text.slice(0, 300)}`);
      else if (body.errors?.length)
        problems.push(`${where}: errors: ${JSON.stringify(body.errors).slice(0, 300)}`);
      else if (body.data == null) problems.push(`${where}: no data`);
      else seen.push({ target: t.prepared.id, data: JSON.stringify(body.data) });
      observed[t.prepared.id] = {
        extensions: Object.keys(body?.extensions ?? {}),
        headers: TELLING_HEADERS.filter((h) => res.headers.has(h)),
      };
    }
    const reference = expected ?? seen[0]?.data;
    for (const s of seen) {
      if (s.data !== reference) {
        problems.push(
          `${q.id} on ${s.target}: data differs from ${expected ? 'the expected data' : seen[0]!.target} (${s.data.length} vs ${reference?.length} bytes)`,
        );
      }
    }
    if (reference !== undefined) out.push({ query: q.id, data: reference, bytes, observed });
  }
  if (problems.length) throw new Error(`response check failed before load:\n  ${problems.join('\n  ')}`);
  return out;
}

// --- measuring ---------------------------------------------------------------------------------------

/** Waits until the target has finished the requests autocannon abandoned, so they land on nobody's window. */
async function settle(pid: number): Promise<void> {
  // Idle = no CPU tick for 300 ms in a row. Gives up after 30 s (a gateway with a busy background timer).
  let last = cpuMs(pid);
  let quiet = 0;
  for (let i = 0; i < 300 && quiet < 3; i++) {
    await sleep(100);
    const now = cpuMs(pid);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

async function measure(
  t: RunningTarget,
  q: BenchQuery,
  checked: Checked,
  backend: Backend,
  options: Options,
  round: number,
): Promise<Cell> {
  const base = {
    url: t.url,
    headers: t.prepared.headers,
    requests: [{ body: requestBody(q), expectedData: checked.data }],
    connections: options.connections,
  };
  if (options.warmupSec > 0) await runLoad({ ...base, durationSec: options.warmupSec });
  await settle(t.child.pid);
  const sg0 = await backend.requests();
  const cpu0 = cpuMs(t.child.pid);
  const t0 = performance.now();
  const load = await runLoad({ ...base, durationSec: options.durationSec });
  const wallMs = performance.now() - t0;
  const cpuWindow = cpuMs(t.child.pid) - cpu0;
  const rss = rssBytes(t.child.pid);
  // Requests still in flight when autocannon stopped are finished by the gateway all the same: wait for
  // them, and divide all the CPU and subgraph fetches by all the requests sent.
  await settle(t.child.pid);
  const cpuAll = cpuMs(t.child.pid) - cpu0;
  const sg1 = await backend.requests();
  return {
    target: t.prepared.id,
    query: q.id,
    round,
    load,
    cpuMs: cpuAll,
    cpuMsWindow: cpuWindow,
    wallMs,
    rssBytes: rss,
    subgraphRequests: sg0 === null || sg1 === null ? null : sg1 - sg0,
  };
}

const badCount = (l: LoadResult) =>
  l.non2xx + l.socketErrors + l.timeouts + l.errorBodies + l.sampleMismatches;

// --- modes -------------------------------------------------------------------------------------------

interface Machine {
  cores: number;
  cpu: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started, before it started anything. */
  loadAverageBefore: number[];
}

interface RunContext {
  options: Options;
  machine: Machine;
  workDir: string;
  resultsDir: string;
  meta: Record<string, unknown>;
  pinning: ReturnType<typeof planPinning>;
}

function printPreamble(ctx: RunContext, backend: Backend, targets: readonly RunningTarget[]): void {
  const o = ctx.options;
  console.log(`Tollgate bench (issues 10 and 20) — ${new Date().toISOString()}`);
  const m = ctx.machine;
  console.log(
    `machine: ${m.cores} cores (${m.cpu}), Node ${m.node}, load average before the run (uptime) ${m.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(`pinning: ${ctx.pinning.reason}`);
  console.log(`profile: ${backend.describe}`);
  console.log(
    `load: autocannon, ${o.connections} connections, ${o.rounds} round(s) × (${o.warmupSec} s warm-up + ${o.durationSec} s measured) per target and query`,
  );
  const hive = targets.some((t) => hasDedup(t.prepared.spec));
  console.log(
    `dedup: not implemented in Tollgate (no in-flight deduplication of subgraph fetches; its figures are without it)${
      hive
        ? `; Hive Gateway's deduplicateInflightRequests ${{ off: 'off', on: 'on (rows "(dedup)")', both: 'off and on (rows "(dedup)")' }[o.dedup]}`
        : o.dedup === 'off'
          ? ''
          : `; --dedup ${o.dedup} applies to Hive targets only, none runs`
    }`,
  );
  for (const t of targets) {
    const c = t.prepared.config;
    const parts = [`${t.prepared.id}: ${t.prepared.spec.label}`];
    if (hasDedup(t.prepared.spec)) parts.push(`subgraph dedup ${t.prepared.dedup ? 'on' : 'off'}`);
    if (c) {
      parts.push(`config ${c.source}`);
      parts.push(
        c.skipped.length
          ? `skipped (gateway does not know yet): ${c.skipped.join(', ')}`
          : 'every config key applied',
      );
      if (c.token) parts.push(`bearer token: ${c.token}`);
    }
    console.log(`  ${parts.join('; ')}`);
  }
}

async function runBench(ctx: RunContext): Promise<void> {
  const { options } = ctx;
  const gatewayCpu = ctx.pinning.enabled ? ctx.pinning.gatewayCpu : undefined;
  const backend = await startBackend(
    options,
    ctx.pinning.enabled ? ctx.pinning.loadCpu : undefined,
    ctx.workDir,
  );
  const targets = await startTargets(options.targets, backend, options, ctx.workDir, gatewayCpu);
  const queries = QUERIES.filter((q) => options.queries.includes(q.id));
  printPreamble(ctx, backend, targets);

  const checked = await checkTargets(targets, queries, options.profile);
  console.log(
    'responses checked before load: status 200, no errors, identical data on every target' +
      (options.profile === 'static' ? ', equal to the data computed from the fixtures' : ''),
  );
  for (const c of checked) {
    const sizes = Object.entries(c.bytes)
      .map(([t, b]) => `${t} ${b}`)
      .join(', ');
    const seen = Object.entries(c.observed)
      .map(
        ([t, o]) => `${t}: ${[...o.extensions.map((e) => `extensions.${e}`), ...o.headers].join(' ') || '-'}`,
      )
      .join('; ');
    console.log(`  ${c.query}: data ${c.data.length} bytes; response bytes ${sizes}; features seen ${seen}`);
  }

  const cells: Cell[] = [];
  const total = options.rounds * queries.length * targets.length;
  for (let round = 1; round <= options.rounds; round++) {
    // Rotate the order each round (A B C, B C A, C A B) so drift in machine load spreads over all targets.
    const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]!);
    for (const q of queries) {
      const checkedQ = checked.find((c) => c.query === q.id)!;
      for (const t of order) {
        const cell = await measure(t, q, checkedQ, backend, options, round);
        cells.push(cell);
        const l = cell.load;
        log(
          `[${cells.length}/${total}] round ${round} ${q.id} ${t.prepared.id}: ${l.rps.toFixed(0)} rps, p99 ${l.latencyMs.p99} ms, ` +
            `${(cell.cpuMs / Math.max(1, l.sent)).toFixed(2)} ms CPU/req, ${((100 * cell.cpuMsWindow) / cell.wallMs).toFixed(0)}% CPU, bad ${badCount(l)}`,
        );
        if (badCount(l) && l.firstBadBody) log(`  first bad response: ${l.firstBadBody}`);
      }
    }
  }

  const rows = aggregate(cells, REFERENCE, isPeer);
  console.log('');
  console.log(
    renderTable(
      rows,
      queries.map((q) => q.id),
      targets.map((t) => t.prepared.id),
    ),
  );
  console.log('');
  console.log(
    'rps, p50, p99, CPU ms/req, gw CPU %, fetches/req: medians over rounds. CPU ms/req = gateway process user+system CPU from the start of the',
  );
  console.log(
    'window until it is idle again ÷ requests sent; gw CPU % = its CPU inside the window ÷ wall time (below ~95%: something else capped rps).',
  );
  console.log(
    'vs AG = against apollo-gateway on the same query: rps and CPU higher is better (CPU = AG CPU/req ÷ target CPU/req), p99 lower is better.',
  );
  console.log(
    "CPU vs best peer = the best peer's CPU/req ÷ the target's; best peer = the non-Tollgate target with the lowest CPU/req on the query, dedup rows excluded.",
  );
  const best = bestPeers(rows, isPeer);
  console.log(
    `best peer: ${queries.map((q) => `${q.id} ${best.get(q.id)?.target ?? 'none measured'}`).join(', ')}`,
  );
  const otlp = await backend.otlp();
  if (otlp) {
    console.log(
      otlp.requests
        ? `telemetry: the OTLP sink received ${otlp.requests} export requests (${(otlp.bytes / 1024).toFixed(0)} KB) during the run`
        : 'telemetry: the OTLP sink received nothing: no target exported traces (OTEL_* set for the production target only)',
    );
  }
  const few = rows.filter((r) => r.requests < MIN_RESPONSES);
  if (few.length) {
    console.log(
      `WARNING: fewer than ${MIN_RESPONSES} responses in all rounds for ${few.map((r) => `${r.query}/${r.target} (${r.requests})`).join(', ')}: ` +
        'too few for stable figures; use a longer --duration (or fewer --connections when responses take seconds).',
    );
  }
  const anyBad = rows.some((r) => r.bad > 0);
  if (anyBad)
    console.log(
      'WARNING: some runs had bad responses (non-2xx, socket errors, timeouts, GraphQL errors or wrong data); see "bad" and the JSON.',
    );

  // The 3-level lines close the output (the last line is the one scripts read); the others come first.
  const [last, others] = [
    QUERIES.find((q) => q.id === '3-level')!,
    QUERIES.filter((q) => q.id !== '3-level'),
  ];
  console.log('');
  for (const q of others) {
    console.log(ratioLine(rows, q, 'tollgate', REFERENCE));
    console.log(ratioLine(rows, q, 'tollgate', 'best-peer'));
  }
  const ratioRow = rows.find((r) => r.target === 'tollgate' && r.query === '3-level');
  const ratio = ratioRow?.vsReference?.cpu;
  const file = join(ctx.resultsDir, `${stamp()}.json`);
  const targetInfo = targets.map((t) => ({
    id: t.prepared.id,
    label: t.prepared.spec.label,
    config: t.prepared.config
      ? {
          source: t.prepared.config.source,
          skipped: t.prepared.config.skipped,
          token: t.prepared.config.token ?? null,
        }
      : null,
    env: t.prepared.env,
  }));
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        ...ctx.meta,
        backend: backend.describe,
        dedup: {
          requested: options.dedup,
          implemented: false,
          note: "Tollgate has no in-flight deduplication yet; its figures are without it. Hive targets: deduplicateInflightRequests as the rows' names say",
        },
        targets: targetInfo,
        queries: queries.map((q) => {
          const c = checked.find((x) => x.query === q.id);
          return {
            ...q,
            dataBytes: c?.data.length ?? null,
            responseBytes: c?.bytes ?? null,
            featuresSeen: c?.observed ?? null,
          };
        }),
        otlp,
        rows,
        cells,
        ratio3LevelCpu: ratio ?? null,
        bestPeer: Object.fromEntries(
          queries.map((q) => {
            const tollgate = rows.find((r) => r.target === 'tollgate' && r.query === q.id);
            return [
              q.id,
              { target: best.get(q.id)?.target ?? null, ratio: tollgate?.vsBestPeer?.cpu ?? null },
            ];
          }),
        ),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${file}`);
  console.log(ratioLine(rows, last, 'tollgate', 'best-peer'));
  console.log(ratioLine(rows, last, 'tollgate', REFERENCE));
}

async function runMemory(ctx: RunContext): Promise<void> {
  const { options } = ctx;
  const gatewayCpu = ctx.pinning.enabled ? ctx.pinning.gatewayCpu : undefined;
  const backend = await startBackend(
    options,
    ctx.pinning.enabled ? ctx.pinning.loadCpu : undefined,
    ctx.workDir,
  );
  const [target] = await startTargets(['tollgate'], backend, options, ctx.workDir, gatewayCpu);
  const queries = QUERIES.filter((q) => options.queries.includes(q.id));
  printPreamble(ctx, backend, [target!]);
  const checked = await checkTargets([target!], queries, options.profile);
  console.log(
    'responses checked before load: status 200, no errors' +
      (options.profile === 'static' ? ', data equal to the data computed from the fixtures' : ''),
  );

  const [first, last] = options.quick ? [1_000, 10_000] : [10_000, 100_000];
  const steps = last / first;
  console.log(
    `memory: ${target!.prepared.id}, the mix (${queries.map((q) => q.id).join(', ')}) in turn on ${options.connections} connections, RSS every ${first} requests up to ${last}`,
  );
  const mix = queries.map((q) => ({
    body: requestBody(q),
    expectedData: checked.find((c) => c.query === q.id)!.data,
  }));
  const points: { requests: number; rssBytes: number; rps: number; bad: number }[] = [];
  for (let i = 1; i <= steps; i++) {
    const load = await runLoad({
      url: target!.url,
      headers: target!.prepared.headers,
      requests: mix,
      connections: options.connections,
      amount: first,
    });
    await settle(target!.child.pid);
    const point = {
      requests: i * first,
      rssBytes: rssBytes(target!.child.pid),
      rps: load.rps,
      bad: badCount(load),
    };
    points.push(point);
    log(
      `${point.requests} requests: RSS ${(point.rssBytes / 2 ** 20).toFixed(1)} MB, ${load.rps.toFixed(0)} rps, bad ${point.bad}`,
    );
    if (point.bad && load.firstBadBody) log(`  first bad response: ${load.firstBadBody}`);
  }
  const lines = points.map((p) => [
    String(p.requests),
    (p.rssBytes / 2 ** 20).toFixed(1),
    p.rps.toFixed(0),
    String(p.bad),
  ]);
  console.log('');
  console.log(formatTable(['requests', 'RSS MB', 'rps', 'bad'], lines, [0, 1, 2, 3]));
  const ratio = points.at(-1)!.rssBytes / points[0]!.rssBytes;
  const label = (n: number) => `${n / 1000}k`;
  console.log('');
  console.log(
    `issue 10 asks for RSS after ${label(last)} within 20% of RSS after ${label(first)} (ratio ≤ 1.20)`,
  );
  const file = join(ctx.resultsDir, `${stamp()}-memory.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ ...ctx.meta, backend: backend.describe, target: target!.prepared.id, points, ratio }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
  console.log(
    `tollgate memory (production config): RSS after ${label(last)} / after ${label(first)} requests: ${ratio.toFixed(2)}`,
  );
}

async function main(): Promise<void> {
  // Planning cost is measured without gateways or load: planning.ts has its own flags and children.
  const argv = process.argv.slice(2);
  if (argv.includes('--subscriptions')) {
    try {
      const { runSubscriptions } = await import('./subscriptions.ts');
      await runSubscriptions(argv.filter((a) => a !== '--subscriptions'));
    } catch (error) {
      if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      await shutdown(1);
    }
    await shutdown(0);
  }
  if (argv.includes('--planning')) {
    try {
      const { runPlanning } = await import('./planning.ts');
      await runPlanning(argv.filter((a) => a !== '--planning'));
    } catch (error) {
      if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
      await shutdown(1);
    }
    await shutdown(0);
  }
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  // Before pinning: once pinned, this process sees one core.
  const machine: Machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    loadAverageBefore: loadavg(),
  };
  const pinning = planPinning();
  // Autocannon runs in this process: keep it (and everything started from here) on the load CPU.
  if (pinning.enabled) pinSelf(pinning.loadCpu);
  const workDir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
  const resultsDir = join(LOAD_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const meta = {
    startedAt: new Date().toISOString(),
    machine,
    pinning,
    options: { ...options, token: options.token ? options.token.source : null },
  };
  const ctx: RunContext = { options, machine, workDir, resultsDir, meta, pinning };
  try {
    await (options.memory ? runMemory(ctx) : runBench(ctx));
  } catch (error) {
    // After Ctrl-C, whatever was starting fails because its process was stopped: not worth a message.
    if (!shuttingDown) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
  await shutdown(0);
}

await main();
