// The two query planners behind one interface. `hive` is the Hive Router's planner (Rust, loaded as an
// N-API addon); `apollo` is @apollo/query-planner, the one ApolloGateway builds for each supergraph.
// Both plans are converted to Tollgate's plan format (plan.ts), which Tollgate's executor runs.
import type { Operation } from '@apollo/federation-internals';
import type { QueryPlanner as ApolloQueryPlanner } from '@apollo/query-planner';
import { type DocumentNode, type GraphQLSchema, print } from 'graphql';
import { fromApolloPlan } from './from-apollo.ts';
import { fromHivePlan, type HivePlan } from './from-hive.ts';
import type { PlannerKind, QueryPlan } from './plan.ts';

export interface PlanInput {
  /** The operation built against the API schema (Apollo's planner plans from it). */
  readonly operation: Operation;
  /** The operation's document (Hive's planner plans from its text). */
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** The `@override(label:)` labels in force for this plan. */
  readonly overrides: ActiveOverrides;
}

export interface Planner {
  readonly kind: PlannerKind;
  plan(input: PlanInput): QueryPlan;
}

/** The addon's planner class, as far as Tollgate uses it. */
interface HiveQueryPlanner {
  plan(
    query: string,
    operationName: string | undefined | null,
    activeLabels: Set<string>,
    percentageValue: number,
  ): HivePlan;
}
export type HivePlannerClass = new (supergraphSdl: string) => HiveQueryPlanner;

/**
 * Loads the Hive planner addon; undefined (and one log line) when it cannot load on this platform, in
 * which case the gateway plans with `apollo`.
 */
export async function loadHivePlanner(
  warn: (message: string) => void,
): Promise<HivePlannerClass | undefined> {
  try {
    const mod = (await import('@graphql-hive/router-query-planner')) as unknown as {
      QueryPlanner: HivePlannerClass;
    };
    return mod.QueryPlanner;
  } catch (error) {
    warn(
      `supergraph.planner: the hive planner addon cannot load on ${process.platform}-${process.arch} (${(error as Error).message.split('\n')[0]}); planning with apollo instead`,
    );
    return undefined;
  }
}

// --- progressive @override -------------------------------------------------------------------------------

const PERCENT = /^percent\((\d+(?:\.\d+)?)\)$/;

/** The override labels of a supergraph: `percent(n)` ones are drawn per request, the others are off. */
export interface OverrideLabels {
  readonly labels: readonly string[];
  /** Distinct percentages, ascending. */
  readonly percentages: readonly number[];
}

export function overrideLabelsOf(supergraphSdl: string): OverrideLabels {
  const labels = new Set<string>();
  for (const m of supergraphSdl.matchAll(/overrideLabel:\s*"([^"]*)"/g)) labels.add(m[1]!);
  const percentages = [...labels]
    .map((l) => PERCENT.exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number);
  return { labels: [...labels], percentages: [...new Set(percentages)].sort((a, b) => a - b) };
}

export interface ActiveOverrides {
  /** Labels on; part of the plan cache key. */
  readonly key: string;
  readonly active: ReadonlySet<string>;
  /** A value in [0, 100) that turns on exactly the `percent(n)` labels in `active` (n > value). */
  readonly percentage: number;
}

const NONE: ActiveOverrides = { key: '', active: new Set(), percentage: 0 };

/**
 * The overrides for one request: `percent(n)` is on with probability n/100 (a draw in [0, 100) below n),
 * and each label of `custom` the supergraph uses (routing rules' `activate`) is on. Requests in the same
 * band between two percentages, with the same custom labels on, share one plan.
 */
export function drawOverrides(
  labels: OverrideLabels,
  random: () => number = Math.random,
  custom: ReadonlySet<string> | undefined = undefined,
): ActiveOverrides {
  const ps = labels.percentages;
  // a percent(n) label is the draw's to decide, whatever a rule says; a label no field uses changes nothing
  const on = custom?.size ? labels.labels.filter((l) => custom.has(l) && !PERCENT.test(l)) : [];
  if (ps.length === 0 && on.length === 0) return NONE;
  let band = 0;
  let percentage = 0;
  const active = new Set<string>(on);
  if (ps.length) {
    const r = random() * 100;
    while (band < ps.length && ps[band]! <= r) band++;
    const low = band === 0 ? 0 : ps[band - 1]!;
    const high = band === ps.length ? 100 : ps[band]!;
    for (const label of labels.labels) {
      const p = PERCENT.exec(label)?.[1];
      if (p !== undefined && Number(p) > low) active.add(label);
    }
    percentage = (low + high) / 2;
  }
  // labels.labels is in a fixed order, so the same set of custom labels gives the same key
  const key = on.length ? `${band}\0${on.join('\0')}` : String(band);
  return { key, active, percentage };
}

// --- the planners ----------------------------------------------------------------------------------------

export function apolloPlanner(
  planner: ApolloQueryPlanner,
  supergraphSchema: GraphQLSchema,
  labels: OverrideLabels,
): Planner {
  return {
    kind: 'apollo',
    plan({ operation, overrides }) {
      const overrideConditions = labels.labels.length
        ? new Map(labels.labels.map((l) => [l, overrides.active.has(l)]))
        : undefined;
      return fromApolloPlan(supergraphSchema, planner.buildQueryPlan(operation, { overrideConditions }));
    },
  };
}

export function hivePlanner(
  Planner: HivePlannerClass,
  supergraphSdl: string,
  supergraphSchema: GraphQLSchema,
): Planner {
  const planner = new Planner(supergraphSdl);
  return {
    kind: 'hive',
    plan({ document, operationName, overrides }) {
      const plan = planner.plan(
        print(document),
        operationName ?? null,
        new Set(overrides.active),
        overrides.percentage,
      );
      return fromHivePlan(supergraphSchema, plan, operationName);
    },
  };
}
