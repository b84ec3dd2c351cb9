// `npm run bench -- --planning`: what query planning costs with each of Tollgate's planners (hive, apollo)
// on the sample supergraph (services/*) and on a generated large one (lib/large-supergraph.ts): cold plan
// time per operation, planner construction time, and the planner's memory. See test/load/README.md.
//
//   node --import tsx test/load/planning.ts [--planners hive,apollo] [--supergraphs sample,large]
//        [--subgraphs 60] [--repeat 20] [--warm-budget 1000]
//
// Each planner × supergraph runs in a child process of its own (lib/planning-child.ts), so the memory
// figures of one are not inflated by the other; this process composes the supergraphs and reports.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { composeSupergraph, gatewaySafeSdl } from '../../gateway/src/supergraph/index.ts';
import { SAMPLE_QUERY } from '../fixtures/sample-query.ts';
import {
  composeLargeSupergraph,
  DEFAULT_LARGE_SUBGRAPHS,
  largeOperations,
  type PlanningOperation,
} from './lib/large-supergraph.ts';
import type { ChildInput, ChildResult, Memory, PlannerId } from './lib/planning-child.ts';
import { planPinning, startChild, stopAllChildren } from './lib/processes.ts';
import { QUERIES } from './lib/queries.ts';
import { formatTable, median } from './lib/report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOAD_DIR = join(ROOT, 'test', 'load');
const CHILD = join(LOAD_DIR, 'lib', 'planning-child.ts');
const PLANNERS: readonly PlannerId[] = ['hive', 'apollo'];
const SUPERGRAPHS = ['sample', 'large'] as const;
type SupergraphId = (typeof SUPERGRAPHS)[number];
const SAMPLE_SERVICES = ['accounts', 'inventory', 'products', 'reviews'];

const query = (id: string): string => QUERIES.find((q) => q.id === id)!.query;

/** The README's sample query, the load bench's queries, and the two other shapes of the sample graph. */
export const SAMPLE_OPERATIONS: readonly PlanningOperation[] = [
  { id: 'sample', title: 'the README sample query', query: SAMPLE_QUERY, operationName: 'Sample' },
  {
    id: 'one-subgraph',
    title: 'the bench one-subgraph query',
    query: `query OneSubgraph ${query('one-subgraph')}`,
    operationName: 'OneSubgraph',
  },
  {
    id: '3-level',
    title: 'the bench 3-level query',
    query: `query ThreeLevel ${query('3-level')}`,
    operationName: 'ThreeLevel',
  },
  {
    id: 'me',
    title: 'me → reviews → product with @requires',
    query: `query Me { me { username reviews { rating body product { name price inStock shippingEstimate } } } }`,
    operationName: 'Me',
  },
  {
    id: 'add-review',
    title: 'a mutation and its entities',
    query: `mutation AddReview($upc: String!, $body: String!) {
  addReview(upc: $upc, body: $body, rating: 5) { id product { name shippingEstimate } author { username } }
}`,
    operationName: 'AddReview',
  },
];

interface Options {
  planners: PlannerId[];
  supergraphs: SupergraphId[];
  subgraphs: number;
  repeat: number;
  warmBudgetMs: number;
}

const USAGE = `usage: npm run bench -- --planning [options]   (or node --import tsx test/load/planning.ts)
  --planners <ids>       comma-separated subset of ${PLANNERS.join(',')}
  --supergraphs <ids>    comma-separated subset of ${SUPERGRAPHS.join(',')}
  --subgraphs <n>        subgraphs of the generated large supergraph (default ${DEFAULT_LARGE_SUBGRAPHS}, at least 30)
  --repeat <n>           warm plans per operation, at most (default 20)
  --warm-budget <ms>     stop an operation's warm plans after this long (default 1000; at least 3 plans)`;

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      planners: { type: 'string' },
      supergraphs: { type: 'string' },
      subgraphs: { type: 'string' },
      repeat: { type: 'string' },
      'warm-budget': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const list = <T extends string>(name: string, raw: string | undefined, all: readonly T[]): T[] => {
    if (raw === undefined) return [...all];
    const picked = raw.split(',').map((s) => s.trim()) as T[];
    const unknown = picked.filter((p) => !all.includes(p));
    if (unknown.length)
      throw new Error(`--${name}: unknown ${unknown.join(', ')} (expected ${all.join(', ')})`);
    return all.filter((a) => picked.includes(a));
  };
  const int = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name}: expected an integer ≥ ${min}, got ${raw}`);
    return n;
  };
  return {
    planners: list('planners', values.planners, PLANNERS),
    supergraphs: list('supergraphs', values.supergraphs, SUPERGRAPHS),
    subgraphs: int('subgraphs', values.subgraphs, DEFAULT_LARGE_SUBGRAPHS, 30),
    repeat: int('repeat', values.repeat, 20, 1),
    warmBudgetMs: int('warm-budget', values['warm-budget'], 1000, 0),
  };
}

const log = (line: string) => process.stderr.write(`planning: ${line}\n`);
const stamp = () =>
  new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : 'n/a');
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const delta = (to: Memory, from: Memory, key: keyof Memory) => {
  const d = (to[key] - from[key]) / 2 ** 20;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)}`;
};

interface Prepared {
  id: SupergraphId;
  sdlFile: string;
  subgraphs: number;
  composeMs: number;
  operations: readonly PlanningOperation[];
}

function prepareSupergraphs(options: Options, workDir: string): Prepared[] {
  return options.supergraphs.map((id) => {
    const t0 = performance.now();
    const sdl =
      id === 'sample'
        ? composeSupergraph(
            SAMPLE_SERVICES.map((name) => ({
              name,
              url: `http://${name}.invalid/graphql`,
              sdl: readFileSync(join(ROOT, 'services', name, 'schema.graphql'), 'utf8'),
            })),
          )
        : composeLargeSupergraph(options.subgraphs);
    const composeMs = performance.now() - t0;
    const sdlFile = join(workDir, `${id}.graphql`);
    writeFileSync(sdlFile, gatewaySafeSdl(sdl));
    const subgraphs = id === 'sample' ? SAMPLE_SERVICES.length : options.subgraphs;
    log(`${id}: ${subgraphs} subgraphs composed in ${composeMs.toFixed(0)} ms`);
    return {
      id,
      sdlFile,
      subgraphs,
      composeMs,
      operations: id === 'sample' ? SAMPLE_OPERATIONS : largeOperations(options.subgraphs),
    };
  });
}

async function runChild(
  planner: PlannerId,
  sg: Prepared,
  options: Options,
  workDir: string,
  cpu: number | undefined,
): Promise<ChildResult> {
  const input: ChildInput = {
    planner,
    supergraph: sg.id,
    sdlFile: sg.sdlFile,
    operations: [...sg.operations],
    repeat: options.repeat,
    warmBudgetMs: options.warmBudgetMs,
  };
  const inputFile = join(workDir, `${planner}-${sg.id}.json`);
  writeFileSync(inputFile, JSON.stringify(input));
  const child = await startChild(`${planner} planner on ${sg.id}`, {
    args: ['--expose-gc', '--conditions=source', '--import', 'tsx', CHILD, inputFile],
    cpu,
    ready: /^planning-result /,
    timeoutMs: 300_000,
    cwd: ROOT,
  });
  const result = JSON.parse(child.readyLine.slice('planning-result '.length)) as ChildResult;
  // One child at a time: wait for this one to be gone before the next starts.
  if (child.process.exitCode === null && child.process.signalCode === null)
    await new Promise((resolve) => child.process.once('exit', resolve));
  return result;
}

function render(results: readonly ChildResult[]): string {
  const ops = formatTable(
    [
      'supergraph',
      'planner',
      'operation',
      'fetches',
      'cold ms',
      '1st in process ms',
      'warm median ms [runs]',
      'planner alone ms',
    ],
    results.flatMap((r) =>
      r.operations.map((o) => [
        r.supergraph,
        r.planner,
        o.id,
        o.error ? 'ERROR' : String(o.fetches),
        ms(o.coldMs),
        ms(o.firstInProcessMs),
        `${ms(o.warmMedianMs)} [${o.warmRuns}]`,
        ms(o.warmRawMedianMs),
      ]),
    ),
    [3, 4, 5, 6, 7],
  );
  const mem = formatTable(
    [
      'supergraph',
      'planner',
      'construct ms',
      'fresh construct ms (median)',
      'base RSS MB',
      'RSS module',
      'RSS construct',
      'RSS plan',
      'heap construct',
      'heap plan',
      'RSS total',
    ],
    results.map((r) => {
      const m = r.memory;
      return [
        r.supergraph,
        r.planner,
        ms(r.constructionMs),
        ms(median(r.freshConstructionMs)),
        mb(m.base.rssBytes),
        delta(m.moduleLoaded, m.base, 'rssBytes'),
        delta(m.constructed, m.moduleLoaded, 'rssBytes'),
        delta(m.planned, m.constructed, 'rssBytes'),
        delta(m.constructed, m.moduleLoaded, 'heapUsedBytes'),
        delta(m.planned, m.constructed, 'heapUsedBytes'),
        delta(m.planned, m.base, 'rssBytes'),
      ];
    }),
    [2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const errors = results.flatMap((r) =>
    r.operations.filter((o) => o.error).map((o) => `${r.supergraph}/${r.planner}/${o.id}: ${o.error}`),
  );
  return [
    ops,
    '',
    'memory (MB; deltas after GC: module = loading the planner, construct = one planner, plan = planning every operation)',
    mem,
    ...(errors.length ? ['', 'errors:', ...errors.map((e) => `  ${e}`)] : []),
  ].join('\n');
}

/** Runs the planning benchmark; `argv` are its flags (without `--planning`). */
export async function runPlanning(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  const machine = {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    loadAverageBefore: loadavg(),
  };
  const pinning = planPinning();
  const cpu = pinning.enabled ? pinning.gatewayCpu : undefined;
  const workDir = mkdtempSync(join(tmpdir(), 'tollgate-planning-'));
  try {
    const startedAt = new Date().toISOString();
    const supergraphs = prepareSupergraphs(options, workDir);
    const results: ChildResult[] = [];
    for (const sg of supergraphs) {
      for (const planner of options.planners) {
        log(`${planner} on ${sg.id}: ${sg.operations.length} operations`);
        results.push(await runChild(planner, sg, options, workDir, cpu));
      }
    }
    console.log(`Tollgate planning benchmark — ${startedAt}`);
    console.log(
      `machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load average before the run (uptime) ${machine.loadAverageBefore.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log(
      `children: one per planner × supergraph${cpu === undefined ? '' : `, pinned to CPU ${cpu}`}; warm = up to ${options.repeat} plans or ${options.warmBudgetMs} ms per operation`,
    );
    for (const sg of supergraphs) {
      const types = results.find((r) => r.supergraph === sg.id)?.apiTypes;
      console.log(
        `  ${sg.id}: ${sg.subgraphs} subgraphs, ${types ?? '?'} API types, composed in ${sg.composeMs.toFixed(0)} ms; operations: ${sg.operations.map((o) => `${o.id} (${o.title})`).join(', ')}`,
      );
    }
    console.log(
      "cold = first plan of the operation on a planner built just for it; 1st in process = first plan on the process's first planner, operations in order (includes JIT warm-up); warm = median of repeats; planner alone = warm, without the conversion to Tollgate's plan format",
    );
    console.log('');
    console.log(render(results));
    const file = join(LOAD_DIR, 'results', `planning-${stamp()}.json`);
    mkdirSync(join(LOAD_DIR, 'results'), { recursive: true });
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          startedAt,
          machine: { ...machine, loadAverageAfter: loadavg() },
          pinning,
          options,
          supergraphs: supergraphs.map(({ sdlFile: _, ...s }) => s),
          results,
        },
        null,
        2,
      )}\n`,
    );
    console.log('');
    console.log(`results: ${file}`);
  } finally {
    await stopAllChildren();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await runPlanning(process.argv.slice(2));
  } catch (error) {
    console.error(`planning: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exitCode = 1;
  }
}
