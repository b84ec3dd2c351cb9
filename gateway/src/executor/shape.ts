// Result shaping: turns the data a query plan fetched (extra key fields, subgraph order) into the response
// the operation asked for. Same algorithm and same output as @apollo/gateway's `computeResponse`
// (resultShaping.ts), but the operation is compiled once into plain objects, so a request walks arrays of
// small records instead of federation-internals' selection classes (measured: shaping plus
// `operationFromDocument` were a fifth of what Apollo Gateway's executor costs per request).
import {
  type CompositeType,
  ERRORS,
  type FieldSelection,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  type NamedType,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';

/** `@skip`/`@include` argument: a literal or a variable name. */
type Condition = boolean | { variable: string };

interface ShapeField {
  readonly kind: 'field';
  readonly responseName: string;
  readonly isTypename: boolean;
  readonly type: ShapeType;
  readonly selections: readonly ShapeSelection[] | undefined;
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
}

interface ShapeFragment {
  readonly kind: 'fragment';
  readonly typeCondition: CompositeType | undefined;
  /** isSubtype(typeCondition, type) by type name; the schema never changes under a compiled operation. */
  readonly applies: Map<string, boolean>;
  readonly selections: readonly ShapeSelection[];
  readonly skip: Condition | undefined;
  readonly include: Condition | undefined;
}

type ShapeSelection = ShapeField | ShapeFragment;

type ShapeType =
  | { readonly kind: 'nonNull'; readonly ofType: ShapeType; readonly type: OutputType }
  | { readonly kind: 'list'; readonly ofType: ShapeType; readonly type: OutputType }
  | { readonly kind: 'composite'; readonly type: CompositeType }
  | { readonly kind: 'leaf'; readonly valid: (value: unknown) => boolean; readonly type: OutputType };

export interface CompiledShape {
  readonly schema: Schema;
  readonly root: CompositeType;
  readonly selections: readonly ShapeSelection[];
  /** Variables' default values, under the request's own (computeResponse merges them the same way). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Whether any @skip/@include reads a variable (only then are variables merged per request). */
  readonly readsVariables: boolean;
  /** `__schema`/`__type` somewhere: left to Apollo's executor, which runs introspection. */
  readonly hasIntrospection: boolean;
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

interface CompileState {
  schema: Schema;
  readsVariables: boolean;
  hasIntrospection: boolean;
}

function condition(
  state: CompileState,
  element: { appliedDirectivesOf(name: string): readonly { arguments(): Record<string, unknown> }[] },
  name: 'skip' | 'include',
): Condition | undefined {
  const applied = element.appliedDirectivesOf(name)[0];
  if (!applied) return undefined;
  const arg = applied.arguments().if;
  if (typeof arg === 'boolean') return arg;
  const variable = (arg as { name?: unknown } | undefined)?.name;
  if (typeof variable !== 'string') throw new ShapeCompileError(`unexpected @${name}(if:) argument`);
  state.readsVariables = true;
  return { variable };
}

function compileSelections(state: CompileState, selectionSet: SelectionSet): ShapeSelection[] {
  const out: ShapeSelection[] = [];
  for (const selection of selectionSet.selections()) {
    const element = selection.element;
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
      out.push({
        kind: 'field',
        responseName: field.responseName(),
        isTypename: field.name === '__typename',
        type: compileType(state.schema, type),
        selections: sub ? compileSelections(state, sub) : undefined,
        skip,
        include,
      });
    } else {
      const fragment = selection.element as { typeCondition?: CompositeType };
      out.push({
        kind: 'fragment',
        typeCondition: fragment.typeCondition,
        applies: new Map(),
        selections: compileSelections(state, selection.selectionSet as SelectionSet),
        skip,
        include,
      });
    }
  }
  return out;
}

/** Compiles an operation (built against the API schema) once; the result is shared by every request. */
export function compileShape(operation: Operation): CompiledShape {
  const schema = operation.schema();
  const root = schema.schemaDefinition.rootType(operation.rootKind);
  if (!root) throw new ShapeCompileError(`the schema has no ${operation.rootKind} type`);
  const state: CompileState = { schema, readsVariables: false, hasIntrospection: false };
  const selections = compileSelections(state, operation.selectionSet);
  return {
    schema,
    root,
    selections,
    defaults: operation.collectDefaultedVariableValues(),
    readsVariables: state.readsVariables,
    hasIntrospection: state.hasIntrospection,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Per request

type Path = (string | number)[];

interface Run {
  schema: Schema;
  types: Map<string, NamedType | undefined>;
  variables: Record<string, unknown> | undefined;
  errors: GraphQLError[];
}

/** schema.type() per name, memoised per compiled operation's schema (the lookups repeat for every entity). */
const typeCaches = new WeakMap<Schema, Map<string, NamedType | undefined>>();

function typeNamed(run: Run, name: string): NamedType | undefined {
  let type = run.types.get(name);
  if (type === undefined && !run.types.has(name)) {
    type = run.schema.type(name);
    run.types.set(name, type);
  }
  return type;
}

const hasOwn = Object.prototype.hasOwnProperty;

function conditionValue(run: Run, c: Condition): boolean {
  if (typeof c === 'boolean') return c;
  const value = run.variables?.[c.variable];
  if (typeof value !== 'boolean')
    throw new Error(`Unexpected value ${String(value)} for variable $${c.variable} of @skip/@include`);
  return value;
}

function skipped(run: Run, s: ShapeSelection): boolean {
  return (
    (s.skip !== undefined && conditionValue(run, s.skip)) ||
    (s.include !== undefined && !conditionValue(run, s.include))
  );
}

function fragmentApplies(
  run: Run,
  f: ShapeFragment,
  typename: string | undefined,
  parentType: CompositeType,
): boolean {
  const condition = f.typeCondition;
  if (!condition) return true;
  const key = typename ? typename : `\0${parentType.name}`;
  let applies = f.applies.get(key);
  if (applies === undefined) {
    if (typename) {
      const type = typeNamed(run, typename);
      applies = !!type && isSubtype(condition, type);
    } else {
      applies = isSubtype(condition, parentType);
    }
    f.applies.set(key, applies);
  }
  return applies;
}

function describeLast(
  path: Path,
  currentType: OutputType | CompositeType,
  parentType: CompositeType,
): string {
  const element = path[path.length - 1];
  return typeof element === 'string'
    ? `field ${parentType}.${element}`
    : `array element of type ${currentType} at index ${element}`;
}

/** Set by updateOutputValue next to its return value; read right after each call (no allocation per value). */
let isInvalid = false;
let hadErrors = false;

/** Returns true when a null must bubble up to the parent (computeResponse's NULL_BUBBLE_UP). */
function applySelectionSet(
  run: Run,
  input: Record<string, unknown>,
  selections: readonly ShapeSelection[],
  output: Record<string, unknown>,
  path: Path,
  parentType: CompositeType,
): boolean {
  for (let i = 0; i < selections.length; i++) {
    const s = selections[i]!;
    if ((s.skip !== undefined || s.include !== undefined) && skipped(run, s)) continue;
    if (s.kind === 'field') {
      const responseName = s.responseName;
      const outputValue = output[responseName];
      let inputValue = hasOwn.call(input, responseName) ? (input[responseName] ?? null) : null;
      if (s.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== '__typename') inputValue = input.__typename ?? null;
          const type =
            inputValue !== null && typeof inputValue === 'string'
              ? (typeNamed(run, inputValue) ?? parentType)
              : parentType;
          if (!isObjectType(type)) return true;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      const updated = updateOutputValue(run, outputValue, s.type, inputValue, s.selections, path, parentType);
      const invalid = isInvalid;
      output[responseName] = updated;
      path.pop();
      if (invalid) return true;
    } else {
      const typename = input.__typename;
      if (typename !== undefined && typename !== null && typeof typename !== 'string')
        throw new Error(`Got unexpected value for __typename: ${String(typename)}`);
      if (fragmentApplies(run, s, typename || undefined, parentType)) {
        if (applySelectionSet(run, input, s.selections, output, path, s.typeCondition ?? parentType))
          return true;
      }
    }
  }
  return false;
}

function updateOutputValue(
  run: Run,
  outputValue: unknown,
  type: ShapeType,
  inputValue: unknown,
  selections: readonly ShapeSelection[] | undefined,
  path: Path,
  parentType: CompositeType,
): unknown {
  if (outputValue === null || (outputValue !== undefined && !selections)) {
    isInvalid = false;
    hadErrors = false;
    return outputValue;
  }

  switch (type.kind) {
    case 'nonNull': {
      const updated = updateOutputValue(
        run,
        outputValue,
        type.ofType,
        inputValue,
        selections,
        path,
        parentType,
      );
      if (updated === null) {
        if (!hadErrors) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Cannot return null for non-nullable ${describeLast(path, (type.type as { ofType: OutputType }).ofType, parentType)}.`,
              { path: Array.from(path) },
            ),
          );
        }
        isInvalid = true;
        hadErrors = true;
        return updated;
      }
      isInvalid = false;
      hadErrors = false;
      return updated;
    }
    case 'list': {
      if (inputValue === null) {
        isInvalid = false;
        hadErrors = false;
        return null;
      }
      if (!Array.isArray(inputValue))
        throw new Error(
          `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${type.type}`,
        );
      if (outputValue !== undefined && !Array.isArray(outputValue))
        throw new Error(
          `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${type.type}`,
        );
      const existing = outputValue as unknown[] | undefined;
      if (existing && existing.length !== inputValue.length)
        throw new Error(
          `[${inputValue}].length (${inputValue.length}) !== [${existing}].length (${existing.length})`,
        );
      const updated = new Array<unknown>(inputValue.length);
      let nullify = false;
      let errors = false;
      for (let idx = 0; idx < inputValue.length; idx++) {
        path.push(idx);
        updated[idx] = updateOutputValue(
          run,
          existing ? existing[idx] : undefined,
          type.ofType,
          inputValue[idx],
          selections,
          path,
          parentType,
        );
        path.pop();
        if (isInvalid) nullify = true;
        if (hadErrors) errors = true;
      }
      isInvalid = false;
      hadErrors = errors;
      return nullify ? null : updated;
    }
    case 'composite': {
      if (inputValue === null) {
        isInvalid = false;
        hadErrors = false;
        return null;
      }
      if (!selections) throw new Error(`Invalid empty selection set for composite type ${type.type}`);
      if (typeof inputValue !== 'object')
        throw new Error(
          `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.type}`,
        );
      if (outputValue !== undefined && typeof outputValue !== 'object')
        throw new Error(
          `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${type.type}`,
        );
      const input = inputValue as Record<string, unknown>;
      const inputTypename = input.__typename;
      if (inputTypename !== undefined && typeof inputTypename !== 'string')
        throw new Error(`Invalid non-string value ${String(inputTypename)} for __typename at ${path}`);
      let objType: CompositeType = type.type;
      if (inputTypename) {
        const named = typeNamed(run, inputTypename);
        if (!named || !isCompositeType(named)) {
          run.errors.push(
            ERRORS.INVALID_GRAPHQL.err(
              `Invalid __typename found for object at ${describeLast(path, type.type, parentType)}.`,
              {
                path: Array.from(path),
              },
            ),
          );
          isInvalid = false;
          hadErrors = true;
          return null;
        }
        objType = named;
      }
      const output = (outputValue as Record<string, unknown> | undefined) ?? Object.create(null);
      const bubble = applySelectionSet(run, input, selections, output, path, objType);
      isInvalid = false;
      hadErrors = bubble;
      return bubble ? null : output;
    }
    case 'leaf': {
      if (inputValue === null) {
        isInvalid = false;
        hadErrors = false;
        return null;
      }
      if (outputValue !== undefined)
        throw new Error(`Excepted output to be undefined but got ${type.type} for type ${type.type}`);
      const valid = type.valid(inputValue);
      if (!valid) {
        run.errors.push(
          ERRORS.INVALID_GRAPHQL.err(
            `Invalid value found for ${describeLast(path, type.type, parentType)}.`,
            {
              path: Array.from(path),
            },
          ),
        );
      }
      isInvalid = false;
      hadErrors = !valid;
      return valid ? inputValue : null;
    }
  }
}

export interface ShapeResult {
  data: Record<string, unknown> | null | undefined;
  errors: GraphQLError[];
}

/**
 * computeResponse for a compiled operation. Throws (like computeResponse) on data that breaks the plan's
 * assumptions; the caller turns that into an error response.
 */
export function shapeResponse(
  shape: CompiledShape,
  input: Record<string, unknown> | null | undefined,
  variables: Record<string, unknown> | undefined,
): ShapeResult {
  if (!input) return { data: input, errors: [] };
  let types = typeCaches.get(shape.schema);
  if (!types) {
    types = new Map();
    typeCaches.set(shape.schema, types);
  }
  const run: Run = {
    schema: shape.schema,
    types,
    variables: shape.readsVariables ? { __proto__: null, ...shape.defaults, ...variables } : undefined,
    errors: [],
  };
  const data = Object.create(null) as Record<string, unknown>;
  const bubble = applySelectionSet(run, input, shape.selections, data, [], shape.root);
  return { data: bubble ? null : data, errors: run.errors };
}
