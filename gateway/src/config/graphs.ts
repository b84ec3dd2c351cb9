// Several graphs in one gateway (`graphs`, docs/graphs.md): what a graph may set, how it combines with the
// top-level sections, and the checks on paths. Pure: the schema is passed in, so this file does not import
// schema.ts (which imports it).
import type { RefinementCtx, SafeParseReturnType, ZodIssue } from 'zod';

/**
 * Sections a graph may set. `supergraph` and `subgraphs` are the graph's source of truth and are taken
 * as a pair: a graph that sets either gets neither from the top level (another graph's subgraphs of the
 * same name must not leak in). The others are deep-merged over the top-level section: a graph states only
 * what differs; maps merge by key, a list replaces the list, and `null` removes an inherited key.
 * Everything else (server, redis, telemetry, log, health, development, …) is process-wide.
 */
export const GRAPH_SOURCE_SECTIONS = ['supergraph', 'subgraphs'] as const;
export const GRAPH_MERGED_SECTIONS = [
  'pool',
  'auth',
  'cost',
  'ratelimit',
  'limits',
  'persistedQueries',
  'subscriptions',
] as const;

/**
 * Rate-limit keys that configure the store, not a budget: every graph shares the process's one store
 * (budgets kept apart by a per-graph key namespace), so these stay top-level.
 */
export const STORE_KEYS = ['failureMode', 'redisTimeoutMs', 'fallbackShare', 'keyPrefix'] as const;

/** Paths the gateway serves itself, beside every graph. */
const RESERVED = /^\/(health|metrics|admin)(\/|$)/;

/** One `graphs[]` entry as the schema leaves it: the path, an optional name, raw section overrides. */
export interface GraphEntry {
  path: string;
  name?: string | undefined;
  [section: string]: unknown;
}

/** One graph, resolved: its name (metrics label, budget namespace), path and whole configuration. */
export interface ResolvedGraph<C> {
  name: string;
  path: string;
  config: C;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `from` over `into`: objects merge key by key, anything else (lists included) replaces, null removes. */
export function deepMerge(into: unknown, from: unknown): unknown {
  if (!isTree(from) || !isTree(into)) return from;
  const out: Tree = { ...into };
  for (const [k, v] of Object.entries(from)) {
    if (v === null) delete out[k];
    else out[k] = deepMerge(out[k], v);
  }
  return out;
}

/** The graph's name: `name`, else its path without slashes (`/partner/graphql` → `partner-graphql`). */
export function graphName(entry: Pick<GraphEntry, 'path' | 'name'>): string {
  if (entry.name) return entry.name;
  return entry.path.replace(/^\/+|\/+$/g, '').replace(/[^A-Za-z0-9_-]+/g, '-') || 'root';
}

/** A graph's whole configuration tree before validation: the top level with its sections applied. */
export function graphTree(top: Tree, entry: GraphEntry): Tree {
  const tree: Tree = { ...top };
  delete tree.graphs;
  if (GRAPH_SOURCE_SECTIONS.some((s) => entry[s] !== undefined)) {
    tree.supergraph = entry.supergraph ?? {};
    tree.subgraphs = entry.subgraphs ?? [];
  }
  for (const section of GRAPH_MERGED_SECTIONS)
    if (entry[section] !== undefined) tree[section] = deepMerge(top[section], entry[section]);
  return tree;
}

type Parse<C> = (tree: Tree) => SafeParseReturnType<unknown, C>;

/** Problems with the set of paths and names, and with keys a graph may not set; paths are issue paths. */
function entryIssues(graphs: readonly GraphEntry[]): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const paths = new Map<string, number>();
  const names = new Map<string, number>();
  graphs.forEach((g, i) => {
    if (RESERVED.test(g.path))
      issues.push({
        path: [i, 'path'],
        message: `${g.path} is served by the gateway itself (/health/*, /metrics, /admin/*); choose another path`,
      });
    const samePath = paths.get(g.path);
    if (samePath !== undefined)
      issues.push({ path: [i, 'path'], message: `${g.path} is already the path of graphs.${samePath}` });
    else paths.set(g.path, i);
    const name = graphName(g);
    const sameName = names.get(name);
    if (sameName !== undefined)
      issues.push({
        path: [i, 'name'],
        message: `graph name ${name} is already taken by graphs.${sameName}; give each graph its own name`,
      });
    else names.set(name, i);
    const ratelimit = g.ratelimit;
    if (isTree(ratelimit))
      for (const key of STORE_KEYS)
        if (key in ratelimit)
          issues.push({
            path: [i, 'ratelimit', key],
            message: `every graph shares the one rate-limit store; set ratelimit.${key} at the top level`,
          });
  });
  // The IDE's assets live under <path>/ide/: no graph may sit there.
  graphs.forEach((g, i) => {
    for (const other of graphs)
      if (other !== g && g.path.startsWith(`${other.path.replace(/\/$/, '')}/ide/`))
        issues.push({ path: [i, 'path'], message: `${g.path} is under the IDE assets of ${other.path}` });
  });
  return issues;
}

/**
 * The schema's check of `graphs`: the paths and names, then each graph's merged configuration validated
 * whole, its issues named under `graphs.<i>` (`graphs.1.ratelimit.defaultPlan: …`).
 */
export function checkGraphs<C>(top: Tree, ctx: RefinementCtx, parse: Parse<C>): void {
  const graphs = top.graphs as readonly GraphEntry[] | undefined;
  if (!graphs) return;
  for (const issue of entryIssues(graphs))
    ctx.addIssue({ code: 'custom', path: ['graphs', ...issue.path], message: issue.message });
  graphs.forEach((entry, i) => {
    const result = parse(graphTree(top, entry));
    if (result.success) return;
    for (const issue of result.error.issues) ctx.addIssue(graphIssue(issue, i));
  });
}

function graphIssue(issue: ZodIssue, i: number): ZodIssue {
  return { ...issue, path: ['graphs', i, ...issue.path] } as ZodIssue;
}

/**
 * Each graph's name, path and whole configuration (validated, `graphs` left out). Without `graphs`: one
 * graph, named `graphql`, on /graphql, with the configuration as it is.
 */
export function resolveGraphs<C>(top: Tree, parse: Parse<C>): ResolvedGraph<C>[] {
  const graphs = top.graphs as readonly GraphEntry[] | undefined;
  if (!graphs) {
    const result = parse(graphTree(top, { path: '/graphql' }));
    if (!result.success) throw new Error(`invalid configuration: ${result.error.message}`);
    return [{ name: 'graphql', path: '/graphql', config: result.data }];
  }
  return graphs.map((entry, i) => {
    const result = parse(graphTree(top, entry));
    // the schema's own check refused such a config already; this is for one built by hand
    if (!result.success)
      throw new Error(`invalid configuration of graphs.${i}: ${result.error.issues[0]?.message}`);
    return { name: graphName(entry), path: entry.path, config: result.data };
  });
}
