import type { Replica, ReplicaLabels } from './replica.ts';

/** The replicas one fetch may go to (a routing subset). */
export interface Subset {
  includes: (replica: Replica) => boolean;
  /** Whether panic mode applies within the subset. */
  panic: boolean;
}

/**
 * Where one fetch may go, as a routing rule decided it (gateway/src/routing builds these): the replicas
 * `select` matches, or without `select` the default set, the replicas none of `reserved` matches.
 */
export interface PoolRoute {
  /** The rule that selected; undefined for the default set. Shown on spans and metrics. */
  rule: string | undefined;
  select: ReplicaLabels | undefined;
  /** The selectors of every rule that applies to this subgraph. */
  reserved: readonly ReplicaLabels[];
  /** When the selected subset has no available replica: send to the default set, or fail the fetch. */
  fallback: 'default' | 'fail';
}

/**
 * How a routed fetch went: `selected`, served by its subset; `fallback`, sent to the default set because
 * its subset had no available replica; `failed`, refused for that reason (`fallback: fail`).
 */
export type RouteOutcome = 'selected' | 'fallback' | 'failed';

/** Fetches per rule and outcome, from the pool's start. */
export interface RoutingCount {
  rule: string;
  outcome: RouteOutcome;
  count: number;
}

export function matchesLabels(labels: ReplicaLabels, selector: ReplicaLabels): boolean {
  for (const key of Object.keys(selector)) if (labels[key] !== selector[key]) return false;
  return true;
}

/** `track=canary,zone=a`, or `default` for the default set. */
export function subsetText(select: ReplicaLabels | undefined): string {
  if (!select) return 'default';
  const keys = Object.keys(select).sort();
  return keys.length ? keys.map((k) => `${k}=${select[k]}`).join(',') : 'all';
}

/**
 * The selected subset. Panic mode does not apply inside it: when none of its replicas is available the
 * fetch falls back to the default set (or fails) rather than going to replicas known to be down.
 */
export function selectedSubset(select: ReplicaLabels): Subset {
  return { includes: (r) => matchesLabels(r.labels, select), panic: false };
}

/**
 * The default set: the replicas no rule's selector picks, so labelled replicas get only routed traffic.
 * When every replica is picked by some selector (nothing is left), the default set is the whole pool.
 */
export function defaultSubset(route: PoolRoute, replicas: readonly Replica[]): Subset | undefined {
  const { reserved } = route;
  const includes = (r: Replica) => !reserved.some((s) => matchesLabels(r.labels, s));
  return replicas.some(includes) ? { includes, panic: true } : undefined;
}
