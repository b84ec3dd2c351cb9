// One planner on one supergraph, in a process of its own (started by test/load/planning.ts), so its
// memory figures are its own: the Hive planner lives in native memory, which only RSS shows.
//
//   node --expose-gc --import tsx test/load/lib/planning-child.ts <input.json>
//
// Prints one line, `planning-result <json>` (a ChildResult), and exits.
import { readFileSync } from 'node:fs';
import { type Operation, operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { type DocumentNode, parse, print } from 'graphql';
import {
  apolloPlanner,
  drawOverrides,
  hivePlanner,
  loadHivePlanner,
  overrideLabelsOf,
  type Planner,
  planNodes,
  type QueryPlan,
} from '../../../gateway/src/planner/index.ts';
import { stopWithParent } from './child.ts';
import type { PlanningOperation } from './large-supergraph.ts';
import { median } from './report.ts';

export type PlannerId = 'hive' | 'apollo';

export interface ChildInput {
  planner: PlannerId;
  supergraph: string;
  sdlFile: string;
  operations: PlanningOperation[];
  /** Warm plans per operation (at most; see `warmBudgetMs`). */
  repeat: number;
  /** Stop repeating an operation once its warm plans took this long. */
  warmBudgetMs: number;
}

export interface Memory {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
}

export interface OperationResult {
  id: string;
  /** Fetch and BatchFetch nodes in the plan. */
  fetches: number;
  /** The first plan of the operation on a planner built just for it (no plan of anything before). */
  coldMs: number;
  /** The first plan of the operation on the process's first planner, operations in order (JIT still cold). */
  firstInProcessMs: number;
  /** Median of the repeated plans on that planner, converted to Tollgate's plan format as the gateway does. */
  warmMedianMs: number;
  /** The same without the conversion: the planner alone. */
  warmRawMedianMs: number;
  warmRuns: number;
  error?: string;
}

export interface ChildResult {
  planner: PlannerId;
  supergraph: string;
  pid: number;
  /** Supergraph.build + API schema + graphql-js schema: both planners need them (the gateway builds them anyway). */
  supergraphBuildMs: number;
  /** Named types of the API schema, built-ins left out. */
  apiTypes: number;
  /** The first planner of the process. */
  constructionMs: number;
  /** Each fresh planner built for a cold plan. */
  freshConstructionMs: number[];
  memory: {
    /** Node, the libraries, the supergraph and its schemas, the parsed operations: before the planner. */
    base: Memory;
    /** After loading the planner's module (the Hive addon's shared library, Apollo's JS). */
    moduleLoaded: Memory;
    /** After constructing one planner. */
    constructed: Memory;
    /** After planning every operation once plus the warm repeats (plans dropped, GC run). */
    planned: Memory;
  };
  operations: OperationResult[];
}

const gc = (globalThis as { gc?: () => void }).gc;

function memory(): Memory {
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external };
}

const countFetches = (plan: QueryPlan): number =>
  [...planNodes(plan.node)].filter((n) => n.kind === 'Fetch' || n.kind === 'BatchFetch').length;

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const value = f();
  return [value, performance.now() - t0];
};

async function run(input: ChildInput): Promise<ChildResult> {
  const sdl = readFileSync(input.sdlFile, 'utf8');
  const labels = overrideLabelsOf(sdl);
  const overrides = drawOverrides(labels);

  const [built, supergraphBuildMs] = time(() => {
    const supergraph = Supergraph.build(sdl);
    return { supergraph, api: supergraph.apiSchema(), schema: supergraph.schema.toGraphQLJSSchema() };
  });
  const { supergraph, api, schema } = built;
  const inputs = input.operations.map((op) => {
    const document = parse(op.query);
    return {
      op,
      document,
      text: print(document),
      operation: operationFromDocument(api, document, { operationName: op.operationName }),
    };
  });
  const base = memory();

  // build(): a Tollgate planner. rawOf(): another instance of the same planner, called directly.
  let build: () => Planner;
  let rawOf: () => (i: Prepared) => unknown;
  if (input.planner === 'apollo') {
    const { QueryPlanner: ApolloQueryPlanner } = await import('@apollo/query-planner');
    build = () => apolloPlanner(new ApolloQueryPlanner(supergraph), schema, labels);
    rawOf = () => {
      const qp = new ApolloQueryPlanner(supergraph);
      return (i) => qp.buildQueryPlan(i.operation);
    };
  } else {
    const Hive = await loadHivePlanner((m) => process.stderr.write(`${m}\n`));
    if (!Hive) throw new Error('the hive planner addon does not load on this machine');
    build = () => hivePlanner(Hive, sdl, schema);
    rawOf = () => {
      const native = new Hive(sdl);
      return (i) => native.plan(i.text, i.op.operationName, new Set(), 0);
    };
  }
  const moduleLoaded = memory();

  const [planner, constructionMs] = time(build);
  const constructed = memory();
  const operations = planAll(planner, inputs, overrides, input);
  const planned = memory();

  // After the memory figures: the planner alone, on an instance of its own.
  const raw = rawOf();
  for (const [k, i] of inputs.entries()) {
    const r = operations[k]!;
    if (r.error) continue;
    raw(i); // its first plan is not a warm one
    r.warmRawMedianMs = median(repeat(() => raw(i), input));
  }

  // Cold: a fresh planner per operation, and its first plan.
  const freshConstructionMs: number[] = [];
  for (const [k, i] of inputs.entries()) {
    const [fresh, ms] = time(build);
    freshConstructionMs.push(ms);
    const r = operations[k]!;
    if (r.error) continue;
    r.coldMs = time(() =>
      fresh.plan({
        operation: i.operation,
        document: i.document,
        operationName: i.op.operationName,
        overrides,
      }),
    )[1];
  }
  return {
    planner: input.planner,
    supergraph: input.supergraph,
    pid: process.pid,
    supergraphBuildMs,
    apiTypes: api.types().filter((t) => !t.isBuiltIn).length,
    constructionMs,
    freshConstructionMs,
    memory: { base, moduleLoaded, constructed, planned },
    operations,
  };
}

type Prepared = { op: PlanningOperation; document: DocumentNode; text: string; operation: Operation };

/** Each operation once (first in process), then its warm repeats. */
function planAll(
  planner: Planner,
  inputs: readonly Prepared[],
  overrides: ReturnType<typeof drawOverrides>,
  input: ChildInput,
): OperationResult[] {
  const plan = (i: Prepared) =>
    planner.plan({
      operation: i.operation,
      document: i.document,
      operationName: i.op.operationName,
      overrides,
    });
  const results: OperationResult[] = inputs.map((i) => {
    try {
      const [p, ms] = time(() => plan(i));
      return {
        id: i.op.id,
        fetches: countFetches(p),
        coldMs: Number.NaN,
        firstInProcessMs: ms,
        warmMedianMs: Number.NaN,
        warmRawMedianMs: Number.NaN,
        warmRuns: 0,
      };
    } catch (error) {
      return {
        id: i.op.id,
        fetches: 0,
        coldMs: Number.NaN,
        firstInProcessMs: Number.NaN,
        warmMedianMs: Number.NaN,
        warmRawMedianMs: Number.NaN,
        warmRuns: 0,
        error: (error as Error).message.split('\n')[0]!,
      };
    }
  });
  for (const [k, i] of inputs.entries()) {
    const r = results[k]!;
    if (r.error) continue;
    const runs = repeat(() => plan(i), input);
    r.warmMedianMs = median(runs);
    r.warmRuns = runs.length;
  }
  return results;
}

function repeat(f: () => unknown, input: ChildInput): number[] {
  const runs: number[] = [];
  let spent = 0;
  while (runs.length < input.repeat && (spent < input.warmBudgetMs || runs.length < 3)) {
    const ms = time(f)[1];
    runs.push(ms);
    spent += ms;
  }
  return runs;
}

stopWithParent(async () => undefined);
const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ChildInput;
const result = await run(input);
process.stdout.write(`planning-result ${JSON.stringify(result)}\n`);
process.exit(0);
