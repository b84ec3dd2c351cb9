import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

export interface OperationLimits {
  /** Deepest field nesting, fragments followed. @default 15 */
  maxDepth: number;
  /** Aliased fields in the whole document. @default 30 */
  maxAliases: number;
  /** Directives used in the whole document. @default 50 */
  maxDirectives: number;
  /** Fields at the root of one operation. @default 20 */
  maxRootFields: number;
}

export type LimitName = 'depth' | 'aliases' | 'directives' | 'rootFields';

/** The error of a document over a limit: BAD_REQUEST with the limit named in `extensions.limit`. */
export function limitError(limit: LimitName, actual: number, max: number): GraphQLError {
  return new GraphQLError(`Operation exceeds the ${limit} limit: ${actual} > ${max}`, {
    extensions: { code: 'BAD_REQUEST', limit, actual, max, http: { status: 400 } },
  });
}

function depthOf(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen: Set<string>,
  stopAt: number,
): number {
  let deepest = 0;
  for (const sel of set.selections) {
    let d = 0;
    if (sel.kind === Kind.FIELD)
      d = sel.selectionSet ? 1 + depthOf(sel.selectionSet, fragments, seen, stopAt - 1) : 1;
    else if (sel.kind === Kind.INLINE_FRAGMENT) d = depthOf(sel.selectionSet, fragments, seen, stopAt);
    else {
      const frag = fragments.get(sel.name.value);
      // a fragment cycle is a validation error of its own; don't follow it here
      if (frag && !seen.has(frag.name.value)) {
        seen.add(frag.name.value);
        d = depthOf(frag.selectionSet, fragments, seen, stopAt);
        seen.delete(frag.name.value);
      }
    }
    if (d > deepest) deepest = d;
    if (deepest > stopAt) return deepest; // over the limit already: no need to walk the rest
  }
  return deepest;
}

/**
 * A graphql-js validation rule enforcing the structural limits, so an over-limit document is refused
 * while Apollo Server validates it, before any planning or subgraph call. (Token count is enforced
 * earlier, by the parser's `maxTokens`.)
 */
export function createLimitsRule(limits: OperationLimits) {
  return function operationLimitsRule(context: ValidationContext): ASTVisitor {
    let aliases = 0;
    let directives = 0;
    let reported = false;
    const report = (error: GraphQLError) => {
      if (!reported) context.reportError(error);
      reported = true;
    };
    return {
      Field(node) {
        if (node.alias && ++aliases > limits.maxAliases)
          report(limitError('aliases', aliases, limits.maxAliases));
      },
      Directive() {
        if (++directives > limits.maxDirectives)
          report(limitError('directives', directives, limits.maxDirectives));
      },
      Document(doc) {
        const fragments = new Map(
          doc.definitions
            .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
            .map((f) => [f.name.value, f]),
        );
        for (const def of doc.definitions) {
          if (def.kind !== Kind.OPERATION_DEFINITION) continue;
          const roots = def.selectionSet.selections.length;
          if (roots > limits.maxRootFields) report(limitError('rootFields', roots, limits.maxRootFields));
          const depth = depthOf(def.selectionSet, fragments, new Set(), limits.maxDepth);
          if (depth > limits.maxDepth) report(limitError('depth', depth, limits.maxDepth));
        }
      },
    };
  };
}
