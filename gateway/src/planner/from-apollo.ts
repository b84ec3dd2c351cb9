// Apollo's query plans (@apollo/query-planner) in Tollgate's plan format.
import type * as Apollo from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';
import { PlanConversionError, parseOperation, typeCondition } from './convert.ts';
import type {
  FetchNode,
  OperationKind,
  PathStep,
  PlanNode,
  QueryPlan,
  RequiresSelection,
  Rewrite,
  RewriteStep,
  SubscriptionNode,
} from './plan.ts';

const FRAGMENT_PREFIX = '... on ';

function rewriteStep(schema: GraphQLSchema, step: string): RewriteStep {
  return step.startsWith(FRAGMENT_PREFIX)
    ? typeCondition(schema, [step.slice(FRAGMENT_PREFIX.length)])
    : step;
}

function rewrites(
  schema: GraphQLSchema,
  list: readonly Apollo.FetchDataRewrite[] | undefined,
): Rewrite[] | undefined {
  if (!list?.length) return undefined;
  return list.map((r) => {
    const path = r.path.map((s) => rewriteStep(schema, s));
    return r.kind === 'ValueSetter'
      ? { kind: 'ValueSetter', path, setValueTo: r.setValueTo as unknown }
      : { kind: 'KeyRenamer', path, renameKeyTo: r.renameKeyTo };
  });
}

function requires(
  schema: GraphQLSchema,
  selections: readonly Apollo.QueryPlanSelectionNode[],
): RequiresSelection[] {
  return selections.map((s) =>
    s.kind === 'Field'
      ? {
          kind: 'Field',
          responseName: s.alias ?? s.name,
          key: s.alias ?? s.name,
          selections: s.selections ? requires(schema, s.selections) : undefined,
        }
      : {
          kind: 'InlineFragment',
          typeCondition: s.typeCondition ? typeCondition(schema, [s.typeCondition]) : undefined,
          selections: requires(schema, s.selections),
        },
  );
}

function fetch(schema: GraphQLSchema, node: Apollo.FetchNode): FetchNode {
  if (node.contextRewrites?.length)
    throw new PlanConversionError(
      '@fromContext (context rewrites) is not supported by the apollo planner here',
    );
  return {
    kind: 'Fetch',
    serviceName: node.serviceName,
    operation: node.operation,
    document: node.operationDocumentNode ?? parseOperation(node.operation, node.serviceName),
    operationName: node.operationName,
    operationKind: node.operationKind as OperationKind,
    variableUsages: node.variableUsages ?? [],
    requires: node.requires ? requires(schema, node.requires) : undefined,
    inputRewrites: rewrites(schema, node.inputRewrites),
    outputRewrites: rewrites(schema, node.outputRewrites),
    id: node.id,
  };
}

function flattenPath(path: Apollo.ResponsePath): PathStep[] {
  return path.map((step) => {
    if (typeof step !== 'string')
      throw new PlanConversionError(`unexpected ${typeof step} in a Flatten path`);
    if (step.includes('|'))
      throw new PlanConversionError(
        `type-conditioned Flatten path "${step}" (not produced without typeConditionedFetching)`,
      );
    return step;
  });
}

function node(schema: GraphQLSchema, n: Apollo.PlanNode): PlanNode {
  switch (n.kind) {
    case 'Fetch':
      return fetch(schema, n);
    case 'Sequence':
      return { kind: 'Sequence', nodes: n.nodes.map((c) => node(schema, c)) };
    case 'Parallel':
      return { kind: 'Parallel', nodes: n.nodes.map((c) => node(schema, c)) };
    case 'Flatten':
      return { kind: 'Flatten', path: flattenPath(n.path), node: node(schema, n.node) };
    case 'Condition':
      return {
        kind: 'Condition',
        condition: n.condition,
        ifClause: n.ifClause && node(schema, n.ifClause),
        elseClause: n.elseClause && node(schema, n.elseClause),
      };
    case 'Defer':
      return {
        kind: 'Defer',
        primary: {
          subselection: n.primary.subselection,
          node: n.primary.node && node(schema, n.primary.node),
        },
        deferred: n.deferred.map((d) => ({
          depends: d.depends,
          label: d.label,
          queryPath: d.queryPath,
          subselection: d.subselection,
          node: d.node && node(schema, d.node),
        })),
      };
    default:
      throw new PlanConversionError(`unknown plan node ${(n as { kind: string }).kind}`);
  }
}

/** Converts an Apollo plan; `schema` is the supergraph (it expands type conditions). */
export function fromApolloPlan(schema: GraphQLSchema, plan: Apollo.QueryPlan): QueryPlan {
  const root = plan.node;
  let converted: PlanNode | SubscriptionNode | undefined;
  if (!root) converted = undefined;
  else if (root.kind === 'Subscription')
    converted = {
      kind: 'Subscription',
      primary: fetch(schema, root.primary),
      rest: root.rest && node(schema, root.rest),
    };
  else converted = node(schema, root);
  return { node: converted, planner: 'apollo' };
}
