// Hive's query plans (@graphql-hive/router-query-planner, the Hive Router's planner as an N-API addon) in
// Tollgate's plan format. The plan is Apollo's format with Hive's own path segments (`{ Field }`,
// `{ TypeCondition }`, `{ Key }`, `{ TypenameEquals }`), rewrites wrapped by kind, and BatchFetch nodes.
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { PlanConversionError, parseOperation, typeCondition } from './convert.ts';
import {
  EACH,
  type EntityBatchAlias,
  type FetchNode,
  type OperationKind,
  type PathStep,
  type PlanNode,
  type QueryPlan,
  type RequiresSelection,
  type Rewrite,
  type RewriteStep,
  type SubscriptionNode,
} from './plan.ts';

// The addon's plan types (its index.d.ts), as far as the conversion reads them.
type HiveFlattenStep = { Field: string } | { TypeCondition: string[] } | '@';
type HiveRewriteStep = { Key: string } | { TypenameEquals: string[] };
interface HiveValueSetter {
  path: HiveRewriteStep[];
  setValueTo: unknown;
}
interface HiveKeyRenamer {
  path: HiveRewriteStep[];
  renameKeyTo: string;
}
type HiveRewrite =
  | { ValueSetter: HiveValueSetter }
  | { KeyRenamer: HiveKeyRenamer }
  | ({ kind: 'ValueSetter' } & HiveValueSetter)
  | ({ kind: 'KeyRenamer' } & HiveKeyRenamer);
type HiveRequires =
  | { kind: 'Field'; name: string; alias?: string; selections?: HiveRequires[] }
  | {
      kind: 'InlineFragment';
      typeCondition?: string;
      selections: HiveRequires[];
      skipIf?: string;
      includeIf?: string;
    }
  | { kind: 'FragmentSpread'; value: string };
interface HiveFetch {
  kind: 'Fetch';
  serviceName: string;
  variableUsages?: string[];
  operationKind?: OperationKind;
  operationName?: string;
  operation: string;
  requires?: HiveRequires[];
  inputRewrites?: HiveRewrite[];
  outputRewrites?: HiveRewrite[];
  id?: number | string;
}
interface HiveBatchFetch {
  kind: 'BatchFetch';
  serviceName: string;
  variableUsages?: string[];
  operationName?: string;
  operation: string;
  entityBatch: {
    aliases: {
      alias: string;
      representationsVariableName: string;
      paths: HiveFlattenStep[][];
      requires: HiveRequires[];
      inputRewrites?: HiveRewrite[];
      outputRewrites?: HiveRewrite[];
    }[];
  };
}
type HiveNode =
  | HiveFetch
  | HiveBatchFetch
  | { kind: 'Sequence'; nodes: HiveNode[] }
  | { kind: 'Parallel'; nodes: HiveNode[] }
  | { kind: 'Flatten'; path: HiveFlattenStep[]; node: HiveNode }
  | { kind: 'Condition'; condition: string; ifClause?: HiveNode; elseClause?: HiveNode }
  | {
      kind: 'Defer';
      primary: { subselection?: string; node?: HiveNode };
      deferred: {
        depends: { id: string; deferLabel?: string }[];
        label?: string;
        queryPath: string[];
        subselection?: string;
        node?: HiveNode;
      }[];
    }
  | { kind: 'Subscription'; primary: HiveFetch; rest?: HiveNode };

/** The plan the addon returns. */
export interface HivePlan {
  kind: 'QueryPlan';
  node?: unknown;
}

function flattenStep(schema: GraphQLSchema, step: HiveFlattenStep): PathStep {
  if (step === '@') return EACH;
  if ('Field' in step) return step.Field;
  if ('TypeCondition' in step) return typeCondition(schema, step.TypeCondition);
  throw new PlanConversionError(`unknown Flatten path segment ${JSON.stringify(step)}`);
}

function rewriteStep(schema: GraphQLSchema, step: HiveRewriteStep): RewriteStep {
  if ('Key' in step) return step.Key;
  if ('TypenameEquals' in step) return typeCondition(schema, step.TypenameEquals);
  throw new PlanConversionError(`unknown rewrite path segment ${JSON.stringify(step)}`);
}

function rewrites(schema: GraphQLSchema, list: readonly HiveRewrite[] | undefined): Rewrite[] | undefined {
  if (!list?.length) return undefined;
  return list.map((r): Rewrite => {
    if ('ValueSetter' in r)
      return {
        kind: 'ValueSetter',
        path: r.ValueSetter.path.map((s) => rewriteStep(schema, s)),
        setValueTo: r.ValueSetter.setValueTo,
      };
    if ('KeyRenamer' in r)
      return {
        kind: 'KeyRenamer',
        path: r.KeyRenamer.path.map((s) => rewriteStep(schema, s)),
        renameKeyTo: r.KeyRenamer.renameKeyTo,
      };
    if (r.kind === 'ValueSetter')
      return {
        kind: 'ValueSetter',
        path: r.path.map((s) => rewriteStep(schema, s)),
        setValueTo: r.setValueTo,
      };
    if (r.kind === 'KeyRenamer')
      return {
        kind: 'KeyRenamer',
        path: r.path.map((s) => rewriteStep(schema, s)),
        renameKeyTo: r.renameKeyTo,
      };
    throw new PlanConversionError(`unknown rewrite ${JSON.stringify(r)}`);
  });
}

function requires(schema: GraphQLSchema, selections: readonly HiveRequires[]): RequiresSelection[] {
  return selections.map((s): RequiresSelection => {
    if (s.kind === 'Field')
      return {
        kind: 'Field',
        // Hive names the data's key `name` and the representation's key `alias` (Apollo's alias is both)
        responseName: s.name,
        key: s.alias ?? s.name,
        selections: s.selections ? requires(schema, s.selections) : undefined,
      };
    if (s.kind === 'InlineFragment')
      return {
        kind: 'InlineFragment',
        typeCondition: s.typeCondition ? typeCondition(schema, [s.typeCondition]) : undefined,
        selections: requires(schema, s.selections),
        skipIf: s.skipIf,
        includeIf: s.includeIf,
      };
    throw new PlanConversionError(`a fragment spread (${s.value}) in an entity's requires is not supported`);
  });
}

function operationNameOf(document: DocumentNode): string | undefined {
  const op = document.definitions.find((d) => d.kind === 'OperationDefinition');
  return op?.kind === 'OperationDefinition' ? op.name?.value : undefined;
}

interface Context {
  schema: GraphQLSchema;
  /** The client's operation name: subgraph operations are named after it, as Apollo's planner does. */
  operationName: string | undefined;
  fetches: number;
}

/**
 * Names an anonymous subgraph operation `<operation>__<subgraph>__<n>` (Apollo's planner's convention,
 * which traces and subgraph logs show); Hive's planner leaves them anonymous.
 */
function named(ctx: Context, operation: string, serviceName: string): string {
  const index = ctx.fetches++;
  if (!ctx.operationName) return operation;
  const name = `${ctx.operationName}__${serviceName.replace(/[^A-Za-z0-9_]/g, '_')}__${index}`;
  const m = /^\s*(query|mutation|subscription)?\s*(?=[({])/.exec(operation);
  if (!m) return operation;
  return `${m[1] ?? 'query'} ${name}${operation.slice(m[0].length)}`;
}

function fetch(ctx: Context, n: HiveFetch): FetchNode {
  const operation = named(ctx, n.operation, n.serviceName);
  const document = parseOperation(operation, n.serviceName);
  const op = document.definitions.find((d) => d.kind === 'OperationDefinition');
  return {
    kind: 'Fetch',
    serviceName: n.serviceName,
    operation,
    document,
    operationName: n.operationName ?? operationNameOf(document),
    operationKind: n.operationKind ?? (op?.kind === 'OperationDefinition' ? op.operation : 'query'),
    variableUsages: n.variableUsages ?? [],
    requires: n.requires ? requires(ctx.schema, n.requires) : undefined,
    inputRewrites: rewrites(ctx.schema, n.inputRewrites),
    outputRewrites: rewrites(ctx.schema, n.outputRewrites),
    id: n.id === undefined ? undefined : String(n.id),
  };
}

function node(ctx: Context, n: HiveNode): PlanNode {
  switch (n.kind) {
    case 'Fetch':
      return fetch(ctx, n);
    case 'BatchFetch': {
      const batchOperation = named(ctx, n.operation, n.serviceName);
      const batchDocument = parseOperation(batchOperation, n.serviceName);
      return {
        kind: 'BatchFetch',
        serviceName: n.serviceName,
        operation: batchOperation,
        document: batchDocument,
        operationName: n.operationName ?? operationNameOf(batchDocument),
        variableUsages: n.variableUsages ?? [],
        aliases: n.entityBatch.aliases.map(
          (a): EntityBatchAlias => ({
            alias: a.alias,
            representationsVariable: a.representationsVariableName,
            paths: a.paths.map((p) => p.map((s) => flattenStep(ctx.schema, s))),
            requires: requires(ctx.schema, a.requires),
            inputRewrites: rewrites(ctx.schema, a.inputRewrites),
            outputRewrites: rewrites(ctx.schema, a.outputRewrites),
          }),
        ),
      };
    }
    case 'Sequence':
      return { kind: 'Sequence', nodes: n.nodes.map((c) => node(ctx, c)) };
    case 'Parallel':
      return { kind: 'Parallel', nodes: n.nodes.map((c) => node(ctx, c)) };
    case 'Flatten':
      return {
        kind: 'Flatten',
        path: n.path.map((s) => flattenStep(ctx.schema, s)),
        node: node(ctx, n.node),
      };
    case 'Condition':
      return {
        kind: 'Condition',
        condition: n.condition,
        ifClause: n.ifClause && node(ctx, n.ifClause),
        elseClause: n.elseClause && node(ctx, n.elseClause),
      };
    case 'Defer':
      return {
        kind: 'Defer',
        primary: {
          subselection: n.primary.subselection,
          node: n.primary.node && node(ctx, n.primary.node),
        },
        deferred: n.deferred.map((d) => ({
          depends: d.depends,
          label: d.label,
          queryPath: d.queryPath,
          subselection: d.subselection,
          node: d.node && node(ctx, d.node),
        })),
      };
    default:
      throw new PlanConversionError(`unknown plan node ${(n as { kind: string }).kind}`);
  }
}

/** Converts a Hive plan; `schema` is the supergraph (it expands type conditions). */
export function fromHivePlan(
  schema: GraphQLSchema,
  plan: HivePlan,
  operationName?: string | undefined,
): QueryPlan {
  const ctx: Context = { schema, operationName, fetches: 0 };
  const root = plan.node as HiveNode | undefined;
  let converted: PlanNode | SubscriptionNode | undefined;
  if (!root) converted = undefined;
  else if (root.kind === 'Subscription')
    converted = {
      kind: 'Subscription',
      primary: fetch(ctx, root.primary),
      rest: root.rest && node(ctx, root.rest),
    };
  else converted = node(ctx, root);
  return { node: converted, planner: 'hive' };
}
