// Tollgate's query plan: the one shape both planners' plans are converted to, and the only one the
// executor reads. It follows Apollo's plan format (Fetch, Flatten, Sequence, Parallel, Condition, Defer,
// Subscription) plus Hive's BatchFetch, with two differences that make execution uniform:
// - a path step is a field name, `'@'` (every element of a list) or a type condition (a set of object
//   type names), whichever planner produced it;
// - a fetch carries its subgraph operation parsed once, so nothing is parsed per request.
import type { DocumentNode } from 'graphql';

/** Only objects whose `__typename` is one of `types` (abstract conditions are expanded to object types). */
export interface TypeCondition {
  readonly types: ReadonlySet<string>;
}

/** A step in a Flatten path or an entity batch path: a field, `'@'` for every list element, or a type condition. */
export type PathStep = string | TypeCondition;

/** The list step of a path. */
export const EACH = '@';

/** A step in a rewrite path: a key, or a type condition on the object at that point. */
export type RewriteStep = string | TypeCondition;

export type Rewrite =
  | { readonly kind: 'ValueSetter'; readonly path: readonly RewriteStep[]; readonly setValueTo: unknown }
  | { readonly kind: 'KeyRenamer'; readonly path: readonly RewriteStep[]; readonly renameKeyTo: string };

/** The selection a fetch's representations are built from (`requires`). */
export type RequiresSelection =
  | {
      readonly kind: 'Field';
      /** Where the value is in the fetched data (a planner may fetch it under an alias of its own). */
      readonly responseName: string;
      /** Its key in the representation (the field's name or the alias the subgraph expects). */
      readonly key: string;
      readonly selections?: readonly RequiresSelection[] | undefined;
    }
  | {
      readonly kind: 'InlineFragment';
      /** Undefined: applies to any object. */
      readonly typeCondition?: TypeCondition | undefined;
      readonly selections: readonly RequiresSelection[];
      /** Left out when this Boolean variable is true (Hive's planner). */
      readonly skipIf?: string | undefined;
      /** Left out unless this Boolean variable is true (Hive's planner). */
      readonly includeIf?: string | undefined;
    };

export type OperationKind = 'query' | 'mutation' | 'subscription';

export interface FetchNode {
  readonly kind: 'Fetch';
  readonly serviceName: string;
  /** The subgraph operation, as sent. */
  readonly operation: string;
  /** `operation`, parsed. */
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly operationKind: OperationKind;
  /** The client's variables this fetch sends on. */
  readonly variableUsages: readonly string[];
  /** Present on entity fetches: each entity's representation is this selection of it. */
  readonly requires: readonly RequiresSelection[] | undefined;
  readonly inputRewrites: readonly Rewrite[] | undefined;
  readonly outputRewrites: readonly Rewrite[] | undefined;
  /** Apollo's fetch id (a Defer node's dependencies name it). */
  readonly id?: string | undefined;
}

/** One `_entities` field of a BatchFetch: the entities at `paths`, sent as `$<representationsVariable>`. */
export interface EntityBatchAlias {
  readonly alias: string;
  readonly representationsVariable: string;
  readonly paths: readonly (readonly PathStep[])[];
  readonly requires: readonly RequiresSelection[];
  readonly inputRewrites: readonly Rewrite[] | undefined;
  readonly outputRewrites: readonly Rewrite[] | undefined;
}

/** Several entity fetches to one subgraph in one request, each under its own alias (Hive's planner). */
export interface BatchFetchNode {
  readonly kind: 'BatchFetch';
  readonly serviceName: string;
  readonly operation: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly variableUsages: readonly string[];
  readonly aliases: readonly EntityBatchAlias[];
}

export interface FlattenNode {
  readonly kind: 'Flatten';
  readonly path: readonly PathStep[];
  readonly node: PlanNode;
}

export interface SequenceNode {
  readonly kind: 'Sequence';
  readonly nodes: readonly PlanNode[];
}

export interface ParallelNode {
  readonly kind: 'Parallel';
  readonly nodes: readonly PlanNode[];
}

/** `@skip`/`@include` on a variable: the branch to run depends on the variable's value. */
export interface ConditionNode {
  readonly kind: 'Condition';
  readonly condition: string;
  readonly ifClause?: PlanNode | undefined;
  readonly elseClause?: PlanNode | undefined;
}

export interface DeferredNode {
  /** The fetches (by id) whose results this deferred part starts from. */
  readonly depends: readonly { readonly id: string; readonly deferLabel?: string | undefined }[];
  readonly label: string | undefined;
  /** Where in the query the deferred fragment is (response names). */
  readonly queryPath: readonly string[];
  readonly subselection: string | undefined;
  readonly node: PlanNode | undefined;
}

export interface DeferNode {
  readonly kind: 'Defer';
  readonly primary: { readonly subselection?: string | undefined; readonly node?: PlanNode | undefined };
  readonly deferred: readonly DeferredNode[];
}

/** A subscription: `primary` opens the event stream; `rest` completes each event from other subgraphs. */
export interface SubscriptionNode {
  readonly kind: 'Subscription';
  readonly primary: FetchNode;
  readonly rest: PlanNode | undefined;
}

export type PlanNode =
  | FetchNode
  | BatchFetchNode
  | FlattenNode
  | SequenceNode
  | ParallelNode
  | ConditionNode
  | DeferNode;

export interface QueryPlan {
  readonly node: PlanNode | SubscriptionNode | undefined;
  /** Which planner built it. */
  readonly planner: PlannerKind;
}

export type PlannerKind = 'hive' | 'apollo';

/** Every node of a plan, depth first (a Subscription's primary and rest included). */
export function* planNodes(
  node: PlanNode | SubscriptionNode | undefined,
): Generator<PlanNode | SubscriptionNode> {
  if (!node) return;
  yield node;
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      for (const child of node.nodes) yield* planNodes(child);
      return;
    case 'Flatten':
      yield* planNodes(node.node);
      return;
    case 'Condition':
      yield* planNodes(node.ifClause);
      yield* planNodes(node.elseClause);
      return;
    case 'Defer':
      yield* planNodes(node.primary.node);
      for (const d of node.deferred) yield* planNodes(d.node);
      return;
    case 'Subscription':
      yield* planNodes(node.primary);
      yield* planNodes(node.rest);
      return;
    default:
      return;
  }
}
