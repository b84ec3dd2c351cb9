// Result shaping, compile half: an operation (built against the API schema) compiled once into plain
// records that shape.ts walks per request. Same algorithm as @apollo/gateway's `computeResponse`
// (resultShaping.ts), compiled instead of walking federation-internals' selection classes per request.
// `@defer` fragments are recorded with the chain of fields that leads to them, so each deferred part can
// be shaped on its own after the initial one.
import {
  type CompositeType,
  type FieldSelection,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  type NamedType,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';

/** `@skip`/`@include`/`@defer(if:)` argument: a literal or a variable name. */
export type Condition = boolean | { variable: string };

export interface ShapeField {
  readonly kind: 'field';
  readonly responseName: string;
  readonly isTypename: boolean;
  readonly type: ShapeType;
  readonly selections: readonly ShapeSelection[] | undefined;
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
}

export interface ShapeFragment {
  readonly kind: 'fragment';
  readonly typeCondition: CompositeType | undefined;
  /** isSubtype(typeCondition, type) by type name; the schema never changes under a compiled operation. */
  readonly applies: Map<string, boolean>;
  readonly selections: readonly ShapeSelection[];
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
  /** Set on a `@defer` fragment. */
  readonly defer: DeferFragment | undefined;
}

export type ShapeSelection = ShapeField | ShapeFragment;

export type ShapeType =
  | { readonly kind: 'nonNull'; readonly ofType: ShapeType; readonly type: OutputType }
  | { readonly kind: 'list'; readonly ofType: ShapeType; readonly type: OutputType }
  | { readonly kind: 'composite'; readonly type: CompositeType }
  | { readonly kind: 'leaf'; readonly valid: (value: unknown) => boolean; readonly type: OutputType };

/** A step from the root to a deferred fragment: into a field, or through an enclosing fragment. */
export type ChainStep =
  | { readonly kind: 'field'; readonly responseName: string; readonly type: CompositeType }
  | { readonly kind: 'fragment'; readonly fragment: ShapeFragment };

export interface DeferFragment {
  /** Position among the operation's deferred fragments (document order: outer before inner). */
  readonly index: number;
  readonly label: string | undefined;
  readonly if: Condition;
  /** How to reach the objects the fragment applies to. */
  readonly chain: readonly ChainStep[];
  /** The enclosing deferred fragments' indexes: their parts must be delivered first. */
  readonly ancestors: readonly number[];
  readonly fragment: ShapeFragment;
}

export interface CompiledShape {
  readonly schema: Schema;
  readonly root: CompositeType;
  readonly selections: readonly ShapeSelection[];
  /** Variables' default values, under the request's own (computeResponse merges them the same way). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Whether any @skip/@include/@defer reads a variable (only then are variables merged per request). */
  readonly readsVariables: boolean;
  /** `__schema`/`__type` somewhere: introspection, which the executor leaves to graphql-js. */
  readonly hasIntrospection: boolean;
  /**
   * Whether every response name is safe as a key of a plain object (none is `__proto__`, `constructor` or
   * another name `Object.prototype` has). Then shaping builds plain `{}` objects, which V8 keeps in fast
   * mode (shared hidden classes, JSON.stringify's fast path); `Object.create(null)` objects are dictionaries,
   * about 1.7× slower to build and stringify. Otherwise shaping falls back to null-prototype objects.
   */
  readonly plainObjects: boolean;
  /** The `@defer` fragments, outer before inner. */
  readonly defers: readonly DeferFragment[];
}

export class ShapeCompileError extends Error {}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** isValidLeafValue (federation-internals values.ts) specialised per type at compile time. */
function leafValidator(schema: Schema, type: OutputType): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  if (isEnumType(type)) return (v) => typeof v === 'string' && type.value(v) !== undefined;
  const isBoolean = type === schema.booleanType();
  const isInt = type === schema.intType();
  const isId = type === schema.idType();
  const isFloat = type === schema.floatType();
  return (v) => {
    if (typeof v === 'boolean') return isBoolean;
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (isInt || isId) return INTEGER.test(String(v));
      return isFloat;
    }
    if (typeof v === 'string') return !isBoolean && !isInt && !isFloat;
    return false;
  };
}

function compileType(schema: Schema, type: OutputType): ShapeType {
  if (isNonNullType(type)) return { kind: 'nonNull', ofType: compileType(schema, type.ofType), type };
  if (isListType(type)) return { kind: 'list', ofType: compileType(schema, type.ofType), type };
  if (isCompositeType(type)) return { kind: 'composite', type };
  return { kind: 'leaf', valid: leafValidator(schema, type), type };
}

function namedType(type: OutputType): NamedType {
  let t: OutputType = type;
  while (isNonNullType(t) || isListType(t)) t = t.ofType;
  return t as NamedType;
}

interface CompileState {
  schema: Schema;
  readsVariables: boolean;
  hasIntrospection: boolean;
  plainObjects: boolean;
  chain: ChainStep[];
  enclosingDefers: number[];
  defers: DeferFragment[];
}

interface Directed {
  appliedDirectivesOf(name: string): readonly { arguments(): Record<string, unknown> }[];
}

function conditionArg(state: CompileState, arg: unknown, name: string): Condition {
  if (typeof arg === 'boolean') return arg;
  const variable = (arg as { name?: unknown } | undefined)?.name;
  if (typeof variable !== 'string') throw new ShapeCompileError(`unexpected @${name}(if:) argument`);
  state.readsVariables = true;
  return { variable };
}

function condition(state: CompileState, element: Directed, name: 'skip' | 'include'): Condition | undefined {
  const applied = element.appliedDirectivesOf(name)[0];
  return applied ? conditionArg(state, applied.arguments().if, name) : undefined;
}

function compileSelections(state: CompileState, selectionSet: SelectionSet): ShapeSelection[] {
  const out: ShapeSelection[] = [];
  for (const selection of selectionSet.selections()) {
    const element = selection.element as unknown as Directed;
    const skip = condition(state, element, 'skip');
    const include = condition(state, element, 'include');
    if (selection.kind === 'FieldSelection') {
      const field = (selection as FieldSelection).element;
      if (field.definition.isSchemaIntrospectionField()) {
        state.hasIntrospection = true;
        continue;
      }
      const type = field.definition.type;
      if (!type) throw new ShapeCompileError(`field ${field.name} has no type`);
      const sub = (selection as FieldSelection).selectionSet;
      if (field.responseName() in Object.prototype) state.plainObjects = false;
      let selections: ShapeSelection[] | undefined;
      if (sub) {
        state.chain.push({
          kind: 'field',
          responseName: field.responseName(),
          type: namedType(type) as CompositeType,
        });
        selections = compileSelections(state, sub);
        state.chain.pop();
      }
      out.push({
        kind: 'field',
        responseName: field.responseName(),
        isTypename: field.name === '__typename',
        type: compileType(state.schema, type),
        selections,
        skip,
        include,
      });
    } else {
      const typeCondition = (selection.element as { typeCondition?: CompositeType }).typeCondition;
      const deferApplied = element.appliedDirectivesOf('defer')[0];
      const selections: ShapeSelection[] = [];
      let defer: DeferFragment | undefined;
      const fragment: ShapeFragment = {
        kind: 'fragment',
        typeCondition,
        applies: new Map(),
        selections,
        skip,
        include,
        get defer() {
          return defer;
        },
      };
      if (deferApplied) {
        const args = deferApplied.arguments();
        defer = {
          index: state.defers.length,
          label: typeof args.label === 'string' ? args.label : undefined,
          if: args.if === undefined ? true : conditionArg(state, args.if, 'defer'),
          chain: state.chain.slice(),
          ancestors: state.enclosingDefers.slice(),
          fragment,
        };
        state.defers.push(defer);
        state.enclosingDefers.push(defer.index);
      }
      state.chain.push({ kind: 'fragment', fragment });
      selections.push(...compileSelections(state, selection.selectionSet as SelectionSet));
      state.chain.pop();
      if (deferApplied) state.enclosingDefers.pop();
      out.push(fragment);
    }
  }
  return out;
}

/** Compiles an operation (built against the API schema) once; the result is shared by every request. */
export function compileShape(operation: Operation): CompiledShape {
  const schema = operation.schema();
  const root = schema.schemaDefinition.rootType(operation.rootKind);
  if (!root) throw new ShapeCompileError(`the schema has no ${operation.rootKind} type`);
  const state: CompileState = {
    schema,
    readsVariables: false,
    hasIntrospection: false,
    plainObjects: true,
    chain: [],
    enclosingDefers: [],
    defers: [],
  };
  const selections = compileSelections(state, operation.selectionSet);
  return {
    schema,
    root,
    selections,
    defaults: operation.collectDefaultedVariableValues(),
    readsVariables: state.readsVariables,
    hasIntrospection: state.hasIntrospection,
    plainObjects: state.plainObjects,
    defers: state.defers,
  };
}
