import type {
  FieldNode,
  FragmentSpreadNode,
  GraphQLCompositeType,
  GraphQLField,
  GraphQLInputType,
  GraphQLObjectType,
  InlineFragmentNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNullableType,
  isInputObjectType,
  isListType,
  Kind,
} from 'graphql';
import { type CostModel, type FieldInfo, indexOf, type ModelIndex } from './cost-model.ts';
import { CostAnalysisError, messageOf } from './errors.ts';
import { type PreparedOperation, parseFailure } from './operation.ts';

/**
 * Nesting budget shared by fields, fragments and input values (a field level uses about two). Far deeper
 * than any real operation, shallow enough that the recursion cannot exhaust the stack, so a hostile
 * document gets a coded error instead of a RangeError.
 */
export const MAX_DEPTH = 512;

/** A field reached from a selection set once fragments are flattened, counted `mult` times. */
export interface FieldEntry {
  readonly field: FieldNode;
  /** The type the field is selected on (the enclosing fragment's type condition, if any). */
  readonly scope: GraphQLCompositeType;
  mult: number;
}

/** The `@listSize(sizedFields:)` push-down a field hands to its children. */
interface Sizing {
  readonly sized: ReadonlySet<string>;
  readonly expected: number;
  readonly key: string;
}

/**
 * One request's analysis state: memo tables live here, so nothing leaks between requests and a
 * fragment reused many times (a "fragment bomb") is flattened and costed once per context.
 */
export class Analysis {
  readonly model: CostModel;
  readonly op: PreparedOperation;
  readonly index: ModelIndex;
  // A selection set node always sits on the same scope type, so memo keys need only the runtime type.
  readonly #flat = new Map<SelectionSetNode, Map<GraphQLObjectType | undefined, readonly FieldEntry[]>>();
  readonly #narrow = new Map<SelectionSetNode, boolean>();
  readonly #fieldCost = new Map<FieldNode, number>();
  readonly #sizedFieldCost = new Map<FieldNode, Map<string, number>>();
  readonly #activeFragments = new Set<string>();
  #depth = 0;

  constructor(model: CostModel, op: PreparedOperation) {
    this.model = model;
    this.op = op;
    this.index = indexOf(model);
  }

  /** Router rule 1: mutations start at 10, queries and subscriptions at 0. */
  baseCost(): number {
    return this.op.operation.operation === 'mutation' ? 10 : 0;
  }

  /**
   * Cost of a selection set on `scope`. On an abstract type whose fragments narrow the possible types,
   * the result is the max over the possible object types (only one of them can be returned per object).
   */
  estimateSelectionSet(selectionSet: SelectionSetNode, scope: GraphQLCompositeType, sizing?: Sizing): number {
    const possible = this.index.possibleTypes(scope);
    if (!possible)
      return this.#sumEntries(this.flatten(selectionSet, scope, scope as GraphQLObjectType), sizing);
    if (possible.length > 0 && this.narrows(selectionSet, scope)) {
      let best = Number.NEGATIVE_INFINITY;
      for (const type of possible) {
        best = Math.max(best, this.#sumEntries(this.flatten(selectionSet, scope, type), sizing));
      }
      return best;
    }
    return this.#sumEntries(this.flatten(selectionSet, scope, undefined), sizing);
  }

  #sumEntries(entries: readonly FieldEntry[], sizing: Sizing | undefined): number {
    let total = 0;
    for (const entry of entries) total += entry.mult * this.#estimateField(entry.field, entry.scope, sizing);
    return total;
  }

  /** Router rules 2–6: `instanceCount × (weight + selection) + arguments + requires`. */
  #estimateField(field: FieldNode, scope: GraphQLCompositeType, sizing: Sizing | undefined): number {
    const name = field.name.value;
    if (isMetaField(name)) return 0;
    // Memoised so a field reached again (per possible type, through a reused fragment) is costed once.
    const cached = sizing ? this.#sizedFieldCost.get(field)?.get(sizing.key) : this.#fieldCost.get(field);
    if (cached !== undefined) return cached;

    const info = this.resolveField(scope, name);
    const def = info.def;
    this.enter(info.coordinate);
    try {
      const expected = info.listSize ? this.#expectedSize(info, def, field) : undefined;
      let count = 1;
      if (info.isList) {
        const pushed = sizing?.sized.has(name) ? sizing.expected : undefined;
        count = pushed ?? expected ?? this.op.defaultListSize;
      }
      let childSizing: Sizing | undefined;
      if (info.listSize && info.listSize.sizedFields.size > 0 && expected !== undefined) {
        childSizing = { sized: info.listSize.sizedFields, expected, key: `${info.id}:${expected}` };
      }
      const selection =
        field.selectionSet && info.composite
          ? this.estimateSelectionSet(field.selectionSet, info.composite, childSizing)
          : 0;
      const cost =
        count * (info.weight + selection) + this.argumentsCost(field, def) + this.requiresCost(info);
      if (!sizing) {
        this.#fieldCost.set(field, cost);
      } else {
        let memo = this.#sizedFieldCost.get(field);
        if (!memo) {
          memo = new Map();
          this.#sizedFieldCost.set(field, memo);
        }
        memo.set(sizing.key, cost);
      }
      return cost;
    } finally {
      this.leave();
    }
  }

  /**
   * Rule 5: max over the slicing arguments that have a value (schema defaults overwritten by literals or
   * variables, exactly as execution would see them), else `assumedSize`.
   */
  #expectedSize(info: FieldInfo, def: GraphQLField<unknown, unknown>, field: FieldNode): number | undefined {
    const listSize = info.listSize;
    if (!listSize) return undefined;
    // The exactly-one rule only means something when slicing arguments are declared.
    if (listSize.slicing.length === 0) return listSize.assumedSize;
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(def, field, this.op.coerced);
    } catch (error) {
      throw parseFailure(messageOf(error), info.coordinate, error);
    }
    const sizes: number[] = [];
    for (const { arg, path } of listSize.slicing) {
      let value: unknown = values[arg];
      for (const segment of path) {
        value = isRecord(value) ? value[segment] : undefined;
      }
      const size = sizeOf(value);
      if (size !== undefined) sizes.push(size);
    }
    if (listSize.requireOne && sizes.length !== 1) {
      throw parseFailure(
        `Exactly one slicing argument is required, but found ${sizes.length}`,
        info.coordinate,
      );
    }
    return sizes.length > 0 ? Math.max(...sizes) : listSize.assumedSize;
  }

  /** Rule 7 for every argument written on the field. */
  argumentsCost(field: FieldNode, def: GraphQLField<unknown, unknown>): number {
    if (!field.arguments?.length) return 0;
    let total = 0;
    for (const node of field.arguments) {
      const arg = def.args.find((a) => a.name === node.name.value);
      if (!arg) {
        throw parseFailure(`Unknown argument "${node.name.value}" on field "${def.name}"`);
      }
      total += this.#literalCost(node.value, arg.type, this.index.inputWeight(arg));
    }
    return total;
  }

  #literalCost(value: ValueNode, type: GraphQLInputType, weight: number | undefined): number {
    if (value.kind === Kind.VARIABLE) return this.#jsonCost(this.op.scoring[value.name.value], type, weight);
    if (value.kind === Kind.NULL) return 0;
    const nullable = getNullableType(type);
    this.enter();
    try {
      if (isListType(nullable)) {
        // A single value given for a list type is coerced to a one-element list.
        if (value.kind !== Kind.LIST) return this.#literalCost(value, nullable.ofType, weight);
        let total = 0;
        for (const item of value.values) total += this.#literalCost(item, nullable.ofType, weight);
        return total;
      }
      if (isInputObjectType(nullable) && value.kind === Kind.OBJECT) {
        const fields = nullable.getFields();
        let total = weight ?? 1;
        for (const node of value.fields) {
          const def = fields[node.name.value];
          if (!def) throw parseFailure(`Unknown field "${node.name.value}" on input type "${nullable.name}"`);
          total += this.#literalCost(node.value, def.type, this.index.inputWeight(def));
        }
        return total;
      }
      return weight ?? 0;
    } finally {
      this.leave();
    }
  }

  #jsonCost(value: unknown, type: GraphQLInputType, weight: number | undefined): number {
    if (value === null || value === undefined) return 0;
    const nullable = getNullableType(type);
    this.enter();
    try {
      if (isListType(nullable)) {
        if (!Array.isArray(value)) return this.#jsonCost(value, nullable.ofType, weight);
        let total = 0;
        for (const item of value) total += this.#jsonCost(item, nullable.ofType, weight);
        return total;
      }
      if (isInputObjectType(nullable) && isRecord(value)) {
        const fields = nullable.getFields();
        let total = weight ?? 1;
        for (const [name, item] of Object.entries(value)) {
          const def = fields[name];
          // Unknown keys were already rejected by variable coercion.
          if (def) total += this.#jsonCost(item, def.type, this.index.inputWeight(def));
        }
        return total;
      }
      return weight ?? 0;
    } finally {
      this.leave();
    }
  }

  /**
   * `@join__field(requires:)` selections are fetched even when the client did not select them. Like the
   * Router we add their cost (unmultiplied) to the field; with several subgraphs we take the dearest.
   */
  requiresCost(info: FieldInfo): number {
    let best = 0;
    for (const selectionSet of info.requires) {
      best = Math.max(best, this.estimateSelectionSet(selectionSet, info.parent));
    }
    return best;
  }

  resolveField(scope: GraphQLCompositeType, name: string): FieldInfo {
    const info = this.index.field(scope, name);
    if (!info) throw parseFailure(`Cannot query field "${name}" on type "${scope.name}"`);
    return info;
  }

  /**
   * The fields a selection set yields for objects of type `runtime` (every fragment counts when `runtime`
   * is undefined), with fragments inlined and `@skip`/`@include` applied. Selecting the same field node
   * twice through two spreads of one fragment counts it twice, matching the Router's summing.
   */
  flatten(
    selectionSet: SelectionSetNode,
    scope: GraphQLCompositeType,
    runtime: GraphQLObjectType | undefined,
  ): readonly FieldEntry[] {
    let memo = this.#flat.get(selectionSet);
    const cached = memo?.get(runtime);
    if (cached) return cached;

    const entries = new Map<FieldNode, FieldEntry>();
    this.enter();
    try {
      for (const selection of selectionSet.selections) {
        if (!this.included(selection)) continue;
        if (selection.kind === Kind.FIELD) {
          addEntry(entries, selection, scope, 1);
          continue;
        }
        const fragment = this.#fragmentOf(selection, scope);
        if (runtime && !this.index.applies(fragment.condition, runtime)) continue;
        const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : undefined;
        if (name !== undefined) {
          if (this.#activeFragments.has(name))
            throw parseFailure(`Cannot spread fragment "${name}" within itself`);
          this.#activeFragments.add(name);
        }
        try {
          for (const e of this.flatten(fragment.selectionSet, fragment.condition, runtime)) {
            addEntry(entries, e.field, e.scope, e.mult);
          }
        } finally {
          if (name !== undefined) this.#activeFragments.delete(name);
        }
      }
    } finally {
      this.leave();
    }
    const result = [...entries.values()];
    if (!memo) {
      memo = new Map();
      this.#flat.set(selectionSet, memo);
    }
    memo.set(runtime, result);
    return result;
  }

  /**
   * Whether some fragment under this selection set (through nested fragments, not fields) applies to only
   * part of `scope`'s possible types, in which case the cost depends on the runtime type.
   */
  narrows(selectionSet: SelectionSetNode, scope: GraphQLCompositeType): boolean {
    const cached = this.#narrow.get(selectionSet);
    if (cached !== undefined) return cached;
    const possible = this.index.possibleTypes(scope) ?? [];
    const result = this.#narrowsWithin(selectionSet, scope, possible, new Set(), 0);
    this.#narrow.set(selectionSet, result);
    return result;
  }

  #narrowsWithin(
    selectionSet: SelectionSetNode,
    scope: GraphQLCompositeType,
    possible: readonly GraphQLObjectType[],
    seen: Set<string>,
    depth: number,
  ): boolean {
    if (depth > MAX_DEPTH) throw tooDeep();
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) continue;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        // Visiting each named fragment once keeps this linear even for cyclic or exploding spreads.
        if (seen.has(selection.name.value)) continue;
        seen.add(selection.name.value);
      }
      const { condition, selectionSet: inner } = this.#fragmentOf(selection, scope);
      if (condition !== scope && !possible.every((t) => this.index.applies(condition, t))) return true;
      if (this.#narrowsWithin(inner, scope, possible, seen, depth + 1)) return true;
    }
    return false;
  }

  #fragmentOf(
    selection: InlineFragmentNode | FragmentSpreadNode,
    scope: GraphQLCompositeType,
  ): { condition: GraphQLCompositeType; selectionSet: SelectionSetNode } {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition
        ? this.#compositeType(selection.typeCondition.name.value)
        : scope;
      return { condition, selectionSet: selection.selectionSet };
    }
    const fragment = this.op.fragments.get(selection.name.value);
    if (!fragment) throw parseFailure(`Unknown fragment "${selection.name.value}"`);
    return {
      condition: this.#compositeType(fragment.typeCondition.name.value),
      selectionSet: fragment.selectionSet,
    };
  }

  #compositeType(name: string): GraphQLCompositeType {
    const type = this.index.compositeType(name);
    if (!type) throw parseFailure(`Unknown type "${name}" in type condition`);
    return type;
  }

  /** Rule 8, with variable-driven conditions evaluated from the coerced variables as execution would. */
  included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean {
    if (!node.directives?.length) return true;
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, this.op.coerced)?.if === true) return false;
      if (getDirectiveValues(GraphQLIncludeDirective, node, this.op.coerced)?.if === false) return false;
    } catch (error) {
      throw parseFailure(messageOf(error), undefined, error);
    }
    return true;
  }

  enter(coordinate?: string): void {
    if (++this.#depth > MAX_DEPTH) {
      this.#depth--;
      throw tooDeep(coordinate);
    }
  }

  leave(): void {
    this.#depth--;
  }
}

/** Runs an analysis step, turning a stack overflow that slipped past the depth guard into a coded error. */
export function guarded<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof CostAnalysisError) throw error;
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw tooDeep(undefined, error);
    throw error;
  }
}

function tooDeep(coordinate?: string, cause?: unknown): CostAnalysisError {
  return parseFailure(
    `Operation is nested too deeply to analyse (fields, fragments and input values beyond ${MAX_DEPTH} levels)`,
    coordinate,
    cause,
  );
}

/**
 * `__typename` is free (rule 8). Introspection (`__schema`, `__type`) is answered by the gateway from its
 * own schema with no subgraph work, so it is free too; bound it with an introspection policy instead.
 */
export function isMetaField(name: string): boolean {
  return name === '__typename' || name === '__schema' || name === '__type';
}

function addEntry(
  entries: Map<FieldNode, FieldEntry>,
  field: FieldNode,
  scope: GraphQLCompositeType,
  mult: number,
): void {
  const entry = entries.get(field);
  if (entry) entry.mult += mult;
  else entries.set(field, { field, scope, mult });
}

function sizeOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  // Negative page sizes are a client error the subgraph rejects; never let them lower the cost.
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, Math.trunc(value));
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
