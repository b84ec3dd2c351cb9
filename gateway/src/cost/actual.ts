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
    const walker = walkerFor(model, document, options);
    return walker.analysis.baseCost() + (isRecord(data) ? walker.walk(data) : 0);
  });
}

/**
 * Without variables, everything but the data is the same from one request of an operation to the next
 * (the prepared operation, flattened selections, argument costs): keep the walker per model, document
 * and operation name. Variables can change arguments and @skip/@include, so those requests get their own.
 */
const walkers = new WeakMap<CostModel, WeakMap<DocumentNode, Map<string, ActualWalker>>>();
const MAX_WALKERS_PER_DOCUMENT = 16;

function walkerFor(model: CostModel, document: DocumentNode, options: EstimateOptions): ActualWalker {
  const variables = options.variables;
  if (variables && Object.keys(variables).length > 0)
    return new ActualWalker(new Analysis(model, prepareOperation(model, document, options)));
  let byDocument = walkers.get(model);
  if (!byDocument) {
    byDocument = new WeakMap();
    walkers.set(model, byDocument);
  }
  let byName = byDocument.get(document);
  if (!byName) {
    byName = new Map();
    byDocument.set(document, byName);
  }
  const key = `${options.operationName ?? ''}\0${options.defaultListSize ?? ''}\0${options.directiveFreeListSize ?? ''}`;
  let walker = byName.get(key);
  if (!walker) {
    walker = new ActualWalker(new Analysis(model, prepareOperation(model, document, options)));
    if (byName.size >= MAX_WALKERS_PER_DOCUMENT) byName.clear();
    byName.set(key, walker);
  }
  return walker;
}

interface CompiledEntry {
  readonly key: string;
  readonly mult: number;
  readonly fixed: number;
  readonly info: FieldInfo;
  readonly field: FieldNode;
  readonly type: GraphQLOutputType;
  /** A leaf that is not a list: its cost is `weight` when not null, worked out without #value. */
  readonly leaf: boolean;
}

class ActualWalker {
  readonly analysis: Analysis;
  readonly #analysis: Analysis;
  readonly #typenameKeys = new Map<SelectionSetNode, readonly string[]>();
  // Flattened selections (memoised by the analysis, so the same array each time) → their compiled form.
  readonly #compiled = new Map<readonly FieldEntry[], CompiledEntry[]>();
  // The compiled entries of a selection set on an object type (no runtime type to find), by node.
  // (A fragment's selection set can be reached under more than one scope: the entry keeps its scope.)
  readonly #onObject = new Map<
    SelectionSetNode,
    { scope: GraphQLCompositeType; compiled: CompiledEntry[] }
  >();
  #depth = 0;

  constructor(analysis: Analysis) {
    this.analysis = analysis;
    this.#analysis = analysis;
  }

  /** The cost of the operation's selection on a response's data. */
  walk(data: Record<string, unknown>): number {
    this.#depth = 0;
    const { operation, root } = this.analysis.op;
    return this.selectionSet(operation.selectionSet, root, data);
  }

  selectionSet(
    selectionSet: SelectionSetNode,
    scope: GraphQLCompositeType,
    object: Record<string, unknown>,
  ): number {
    const onObject = this.#onObject.get(selectionSet);
    if (onObject?.scope === scope) return this.#sumCompiled(onObject.compiled, object);
    const analysis = this.#analysis;
    const possible = analysis.index.possibleTypes(scope);
    if (!possible) {
      const compiled = this.#compiledOf(analysis.flatten(selectionSet, scope, scope as GraphQLObjectType));
      this.#onObject.set(selectionSet, { scope, compiled });
      return this.#sumCompiled(compiled, object);
    }
    const runtime = this.#runtimeType(selectionSet, scope, possible, object);
    if (runtime || !analysis.narrows(selectionSet, scope)) {
      return this.#sum(analysis.flatten(selectionSet, scope, runtime), object);
    }
    // No __typename in the data: the fields of the other types are absent from it, so the max over the
    // possible types recovers the selection that actually matched.
    let best = 0;
    for (const type of possible) {
      best = Math.max(best, this.#sum(analysis.flatten(selectionSet, scope, type), object));
    }
    return best;
  }

  #compiledOf(entries: readonly FieldEntry[]): CompiledEntry[] {
    let compiled = this.#compiled.get(entries);
    if (!compiled) {
      compiled = this.#compile(entries);
      this.#compiled.set(entries, compiled);
    }
    return compiled;
  }

  #sum(entries: readonly FieldEntry[], object: Record<string, unknown>): number {
    return this.#sumCompiled(this.#compiledOf(entries), object);
  }

  #sumCompiled(compiled: readonly CompiledEntry[], object: Record<string, unknown>): number {
    let total = 0;
    for (let i = 0; i < compiled.length; i++) {
      const c = compiled[i]!;
      if (!Object.hasOwn(object, c.key)) continue; // not executed: costs nothing
      const value = object[c.key];
      const cost = c.leaf ? (value == null ? 0 : c.info.weight) : this.#value(value, c.type, c.info, c.field);
      total += c.mult * (c.fixed + cost);
    }
    return total;
  }

  /**
   * What each entry of a flattened selection needs per object, worked out once: the response key, the
   * field's schema info, and its argument and @requires cost (which depend on the document, not the data).
   * The walk over a response then does no schema lookups.
   */
  #compile(entries: readonly FieldEntry[]): CompiledEntry[] {
    const analysis = this.#analysis;
    const out: CompiledEntry[] = [];
    for (const entry of entries) {
      const field = entry.field;
      const name = field.name.value;
      if (isMetaField(name)) continue;
      const info = analysis.resolveField(entry.scope, name);
      analysis.enter(info.coordinate);
      let fixed: number;
      try {
        fixed = analysis.argumentsCost(field, info.def) + analysis.requiresCost(info);
      } finally {
        analysis.leave();
      }
      // a leaf (or list of leaves) that weighs nothing and takes no argument cost adds 0 whatever its value
      if (!info.composite && info.weight === 0 && fixed === 0) continue;
      out.push({
        leaf: !info.composite && !isListType(getNullableType(info.def.type)),
        key: field.alias?.value ?? name,
        mult: entry.mult,
        fixed,
        info,
        field,
        type: info.def.type,
      });
    }
    return out;
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
    if (!field.selectionSet) return info.weight;
    // the response is as deep as the operation, which the analysis already bounded; this guards the stack
    if (++this.#depth > MAX_DEPTH) {
      throw new RangeError(
        'Maximum call stack size exceeded (response deeper than the cost analysis allows)',
      );
    }
    try {
      return info.weight + this.selectionSet(field.selectionSet, info.composite, value);
    } finally {
      this.#depth--;
    }
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
