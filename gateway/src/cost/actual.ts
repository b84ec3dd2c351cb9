import type {
  DocumentNode,
  FieldNode,
  GraphQLCompositeType,
  GraphQLObjectType,
  GraphQLOutputType,
  SelectionSetNode,
} from 'graphql';
import { getNullableType, isListType, Kind } from 'graphql';
import { Analysis, type FieldEntry, guarded, isMetaField, isRecord, MAX_DEPTH } from './analysis.ts';
import type { CostModel, FieldInfo } from './cost-model.ts';
import { type EstimateOptions, prepareOperation } from './operation.ts';

/**
 * Cost of the selected operation measured on the response `data`: the estimate's rules, with every list
 * counted at the length actually returned. A `null` (object, list, list item or leaf) costs nothing and
 * nothing below it is charged; a field missing from `data` was not executed and costs nothing at all.
 * Arguments (and `@requires`) are charged once per parent object actually returned, as in the estimate.
 * When every list is as long as estimated and nothing is null, this equals `estimateCost`.
 */
export function actualCost(
  model: CostModel,
  document: DocumentNode,
  data: unknown,
  options: EstimateOptions = {},
): number {
  return guarded(() => {
    const analysis = new Analysis(model, prepareOperation(model, document, options));
    const { operation, root } = analysis.op;
    const walker = new ActualWalker(analysis);
    const selection = isRecord(data) ? walker.selectionSet(operation.selectionSet, root, data) : 0;
    return analysis.baseCost() + selection;
  });
}

class ActualWalker {
  readonly #analysis: Analysis;
  readonly #typenameKeys = new Map<SelectionSetNode, readonly string[]>();
  // Argument and @requires costs depend on the document only, not on the data: compute once per field.
  readonly #fixedCost = new Map<FieldNode, number>();

  constructor(analysis: Analysis) {
    this.#analysis = analysis;
  }

  selectionSet(
    selectionSet: SelectionSetNode,
    scope: GraphQLCompositeType,
    object: Record<string, unknown>,
  ): number {
    const analysis = this.#analysis;
    const possible = analysis.index.possibleTypes(scope);
    const runtime = possible
      ? this.#runtimeType(selectionSet, scope, possible, object)
      : (scope as GraphQLObjectType);
    if (runtime || !analysis.narrows(selectionSet, scope)) {
      return this.#sum(analysis.flatten(selectionSet, scope, runtime), object);
    }
    // No __typename in the data: the fields of the other types are absent from it, so the max over the
    // possible types recovers the selection that actually matched.
    let best = 0;
    for (const type of possible ?? []) {
      best = Math.max(best, this.#sum(analysis.flatten(selectionSet, scope, type), object));
    }
    return best;
  }

  #sum(entries: readonly FieldEntry[], object: Record<string, unknown>): number {
    let total = 0;
    for (const entry of entries) total += entry.mult * this.#field(entry.field, entry.scope, object);
    return total;
  }

  #field(field: FieldNode, scope: GraphQLCompositeType, object: Record<string, unknown>): number {
    const name = field.name.value;
    if (isMetaField(name)) return 0;
    const key = field.alias?.value ?? name;
    if (!Object.hasOwn(object, key)) return 0;
    const analysis = this.#analysis;
    const info = analysis.resolveField(scope, name);
    analysis.enter(info.coordinate);
    try {
      let fixed = this.#fixedCost.get(field);
      if (fixed === undefined) {
        fixed = analysis.argumentsCost(field, info.def) + analysis.requiresCost(info);
        this.#fixedCost.set(field, fixed);
      }
      return fixed + this.#value(object[key], info.def.type, info, field);
    } finally {
      analysis.leave();
    }
  }

  #value(value: unknown, type: GraphQLOutputType, info: FieldInfo, field: FieldNode): number {
    if (value === null || value === undefined) return 0;
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      if (!Array.isArray(value)) return 0;
      let total = 0;
      for (const item of value) total += this.#value(item, nullable.ofType, info, field);
      return total;
    }
    if (!info.composite) return info.weight;
    if (!isRecord(value)) return 0;
    return (
      info.weight + (field.selectionSet ? this.selectionSet(field.selectionSet, info.composite, value) : 0)
    );
  }

  /** The object's type from any `__typename` the client selected (under any alias). */
  #runtimeType(
    selectionSet: SelectionSetNode,
    scope: GraphQLCompositeType,
    possible: readonly GraphQLObjectType[],
    object: Record<string, unknown>,
  ): GraphQLObjectType | undefined {
    for (const key of this.#typenameKeysOf(selectionSet)) {
      const name = object[key];
      const type = typeof name === 'string' ? possible.find((t) => t.name === name) : undefined;
      if (type && this.#analysis.index.applies(scope, type)) return type;
    }
    return undefined;
  }

  #typenameKeysOf(selectionSet: SelectionSetNode): readonly string[] {
    const cached = this.#typenameKeys.get(selectionSet);
    if (cached) return cached;
    const keys = new Set<string>();
    const seen = new Set<string>();
    const fragments = this.#analysis.op.fragments;
    const walk = (set: SelectionSetNode, depth: number): void => {
      if (depth > MAX_DEPTH) return;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value === '__typename') keys.add(selection.alias?.value ?? '__typename');
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          walk(selection.selectionSet, depth + 1);
        } else if (!seen.has(selection.name.value)) {
          seen.add(selection.name.value);
          const fragment = fragments.get(selection.name.value);
          if (fragment) walk(fragment.selectionSet, depth + 1);
        }
      }
    };
    walk(selectionSet, 0);
    const result = [...keys];
    this.#typenameKeys.set(selectionSet, result);
    return result;
  }
}
