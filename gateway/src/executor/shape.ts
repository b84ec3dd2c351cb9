// Result shaping, per request: turns the data a query plan fetched (extra key fields, subgraph order)
// into the response the operation asked for, with the operation compiled once by shape-compile.ts.
// Errors follow the GraphQL spec ("Handling Field Errors"): every null that a non-null violation causes
// has one error at the field's path, unless an error already covers that path (a failed fetch, a
// subgraph's own error); the null then propagates to the nearest nullable parent without further errors.
import {
  type CompositeType,
  isCompositeType,
  isObjectType,
  isSubtype,
  type NamedType,
  type OutputType,
  type Schema,
} from '@apollo/federation-internals';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../errors/index.ts';
import type {
  CompiledShape,
  Condition,
  DeferFragment,
  ShapeFragment,
  ShapeSelection,
  ShapeType,
} from './shape-compile.ts';

type Path = (string | number)[];

export interface Run {
  schema: Schema;
  types: Map<string, NamedType | undefined>;
  variables: Record<string, unknown> | undefined;
  errors: GraphQLError[];
  /** Whether `@defer` fragments are left out (delivered later) rather than shaped in place. */
  deferring: boolean;
  /** Paths (joined by pathKey) that already carry an error: no second error at or under them. */
  covered: ReadonlySet<string> | undefined;
  /** CompiledShape.plainObjects: output objects are `{}` rather than null-prototype ones. */
  plainObjects: boolean;
}

/** A new output object (see CompiledShape.plainObjects). */
export function outputObject(run: Run): Record<string, unknown> {
  return run.plainObjects ? {} : Object.create(null);
}

/** A path as a set key. */
export function pathKey(path: readonly (string | number)[]): string {
  return path.join('\u0001');
}

function isCovered(run: Run, path: Path): boolean {
  const covered = run.covered;
  if (!covered) return false;
  for (let n = 0; n <= path.length; n++) if (covered.has(pathKey(path.slice(0, n)))) return true;
  return false;
}

/** A subgraph answered something the schema does not allow here (a null for a non-null field, a bad value). */
function invalid(message: string, path: Path): GraphQLError {
  return new GraphQLError(message, {
    path: Array.from(path),
    extensions: { code: ErrorCode.SUBGRAPH_INVALID_RESPONSE },
  });
}

/** schema.type() per name, memoised per compiled operation's schema (the lookups repeat for every entity). */
function typeNamed(run: Run, name: string): NamedType | undefined {
  let type = run.types.get(name);
  if (type === undefined && !run.types.has(name)) {
    type = run.schema.type(name);
    run.types.set(name, type);
  }
  return type;
}

const hasOwn = Object.prototype.hasOwnProperty;

export function conditionValue(run: Run, c: Condition): boolean {
  if (typeof c === 'boolean') return c;
  const value = run.variables?.[c.variable];
  if (typeof value !== 'boolean')
    throw new Error(`Unexpected value ${String(value)} for variable $${c.variable} of @skip/@include/@defer`);
  return value;
}

function skipped(run: Run, s: ShapeSelection): boolean {
  return (
    (s.skip !== undefined && conditionValue(run, s.skip)) ||
    (s.include !== undefined && !conditionValue(run, s.include))
  );
}

/** Whether a `@defer` fragment is delivered later (its `if` is true) in this request. */
export function deferActive(run: Run, defer: DeferFragment): boolean {
  return conditionValue(run, defer.if);
}

export function fragmentApplies(
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
export function applySelectionSet(
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
      if (s.defer && run.deferring && deferActive(run, s.defer)) continue;
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
        if (!hadErrors && !isCovered(run, path)) {
          run.errors.push(
            invalid(
              `Cannot return null for non-nullable ${describeLast(path, (type.type as { ofType: OutputType }).ofType, parentType)}.`,
              path,
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
            invalid(
              `Invalid __typename found for object at ${describeLast(path, type.type, parentType)}.`,
              path,
            ),
          );
          isInvalid = false;
          hadErrors = true;
          return null;
        }
        objType = named;
      }
      const output = (outputValue as Record<string, unknown> | undefined) ?? outputObject(run);
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
          invalid(`Invalid value found for ${describeLast(path, type.type, parentType)}.`, path),
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

export interface ShapeOptions {
  /** Leave active `@defer` fragments out (they are shaped later, one part each). */
  deferring?: boolean;
  /** Errors already in the response (fetch failures, subgraph errors): their paths need no second error. */
  priorErrors?: readonly GraphQLError[];
}

const typeCaches = new WeakMap<Schema, Map<string, NamedType | undefined>>();

/** The per-request state of shaping one compiled operation. */
export function shapeRun(
  shape: CompiledShape,
  variables: Record<string, unknown> | undefined,
  options: ShapeOptions = {},
): Run {
  let types = typeCaches.get(shape.schema);
  if (!types) {
    types = new Map();
    typeCaches.set(shape.schema, types);
  }
  let covered: Set<string> | undefined;
  for (const e of options.priorErrors ?? []) {
    if (!e.path) continue;
    covered ??= new Set();
    covered.add(pathKey(e.path));
  }
  return {
    schema: shape.schema,
    types,
    variables: shape.readsVariables ? { __proto__: null, ...shape.defaults, ...variables } : undefined,
    errors: [],
    deferring: options.deferring ?? false,
    covered,
    plainObjects: shape.plainObjects,
  };
}

/**
 * computeResponse for a compiled operation. Throws (like computeResponse) on data that breaks the plan's
 * assumptions; the caller turns that into an error response.
 */
export function shapeResponse(
  shape: CompiledShape,
  input: Record<string, unknown> | null | undefined,
  variables: Record<string, unknown> | undefined,
  options: ShapeOptions = {},
): ShapeResult {
  if (!input) return { data: input, errors: [] };
  const run = shapeRun(shape, variables, options);
  const data = outputObject(run);
  const bubble = applySelectionSet(run, input, shape.selections, data, [], shape.root);
  return { data: bubble ? null : data, errors: run.errors };
}
