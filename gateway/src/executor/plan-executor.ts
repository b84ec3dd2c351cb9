// Runs a Tollgate query plan (planner/plan.ts, from either planner): the fetches, the representations
// they need, and the merge of what comes back. The semantics are @apollo/gateway's executeQueryPlan
// (deepMerge, representations from `requires`, rewrites, `_entities` merged back in order), extended to
// Hive's BatchFetch nodes and type-conditioned paths, with every subgraph error re-pathed to the client's
// path of the entity it concerns.
import { ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLErrorOptions, type GraphQLFormattedError } from 'graphql';
import type { BatchFetchNode, FetchNode, PlanNode, RequiresSelection, Rewrite } from '../planner/index.ts';
import { type Cursor, matches, moveInto, subCursor } from './cursor.ts';

type ResultMap = Record<string, unknown>;
type Path = (string | number)[];

/** A deferred part of the plan, run once the initial response is out. */
export interface DeferredTask {
  readonly label: string | undefined;
  readonly node: PlanNode;
  readonly cursor: Cursor;
}

export interface PlanRun {
  /** The data source of a subgraph, looked up when a fetch needs it. */
  service(name: string): GraphQLDataSource | undefined;
  readonly requestContext: GatewayGraphQLRequestContext;
  /** The request's variables with the operation's defaults under them. */
  readonly variables: Readonly<Record<string, unknown>>;
  readonly errors: GraphQLError[];
  /** Defer nodes' deferred parts, collected (not run) while the primary part runs. */
  readonly deferred: DeferredTask[];
  /** Entity fetches that ran before some of their entities' inputs had arrived (see completeFetches). */
  readonly incomplete: { fetch: FetchNode; cursor: Cursor }[];
  /** Set while building a representation when a field it needs is not in the data (yet). */
  missingInput?: boolean;
}

const hasOwn = Object.prototype.hasOwnProperty;

function getOwn(obj: object, key: string | number): unknown {
  return hasOwn.call(obj, key) ? (obj as Record<string | number, unknown>)[key] : undefined;
}

/** Makes `key` an own property of `obj` when it is only inherited (Apollo's defineOwn). */
function defineOwn(obj: object, key: string): void {
  if (!hasOwn.call(obj, key) && key in obj) {
    Object.defineProperty(obj, key, {
      configurable: true,
      enumerable: true,
      value: undefined,
      writable: true,
    });
  }
}

function isObject(value: unknown): value is ResultMap {
  return value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** @apollo/gateway's deepMerge. */
export function deepMerge(target: ResultMap, source: unknown): ResultMap {
  if (source === undefined || source === null) return target;
  const from = source as ResultMap;
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (value === undefined) continue;
    defineOwn(target, key);
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing as ResultMap, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        if (isObject(existing[i]) && isObject(value[i])) deepMerge(existing[i] as ResultMap, value[i]);
        else existing[i] = value[i];
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}

// --- rewrites and representations ------------------------------------------------------------------------

function applyAtPath(
  path: Rewrite['path'],
  from: number,
  value: unknown,
  fn: (obj: ResultMap) => void,
): void {
  if (Array.isArray(value)) {
    for (const item of value) applyAtPath(path, from, item, fn);
    return;
  }
  if (!isObject(value)) return;
  if (from === path.length) {
    fn(value);
    return;
  }
  const step = path[from]!;
  if (typeof step === 'string') applyAtPath(path, from + 1, getOwn(value, step), fn);
  else if (matches(value, step, true)) applyAtPath(path, from + 1, value, fn);
}

function applyRewrites(rewrites: readonly Rewrite[] | undefined, value: unknown): void {
  if (!rewrites) return;
  for (const rewrite of rewrites) {
    if (rewrite.path.length === 0) continue;
    const last = rewrite.path[rewrite.path.length - 1]!;
    if (typeof last !== 'string')
      throw new Error('Unexpected type condition as the last element of a rewrite path');
    const parent = rewrite.path.slice(0, -1);
    if (rewrite.kind === 'ValueSetter') {
      applyAtPath(parent, 0, value, (obj) => {
        defineOwn(obj, last);
        obj[last] = rewrite.setValueTo;
      });
    } else {
      applyAtPath(parent, 0, value, (obj) => {
        const at = getOwn(obj, last);
        if (at) {
          defineOwn(obj, rewrite.renameKeyTo);
          obj[rewrite.renameKeyTo] = at;
          obj[last] = undefined;
        }
      });
    }
  }
}

function variableIs(run: PlanRun, name: string): boolean {
  return run.variables[name] === true;
}

/** The representation of `source` for `selections` (Apollo's executeSelectionSet); null when a key is missing. */
function representation(
  run: PlanRun,
  source: ResultMap | null,
  selections: readonly RequiresSelection[],
): ResultMap | null {
  if (source === null) return null;
  // A plain object, not Object.create(null): V8 keeps it in fast mode, so building it and the body's
  // JSON.stringify take their fast paths (null-prototype objects are dictionaries). A `__proto__` key
  // would set the prototype there, so it alone is defined as an own property.
  const result: ResultMap = {};
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const { responseName, key } = selection;
      if (key === '__proto__') defineOwn(result, key);
      const sub = selection.selections;
      if (!hasOwn.call(source, responseName) || typeof source[responseName] === 'undefined') {
        run.missingInput = true;
        return null;
      }
      const value = source[responseName];
      if (Array.isArray(value)) {
        result[key] = value.map((v) => (sub ? representation(run, v as ResultMap | null, sub) : v));
      } else if (sub) {
        result[key] = representation(run, value as ResultMap | null, sub);
      } else {
        result[key] = value;
      }
    } else {
      if (selection.skipIf !== undefined && variableIs(run, selection.skipIf)) continue;
      if (selection.includeIf !== undefined && !variableIs(run, selection.includeIf)) continue;
      if (selection.typeCondition && !matches(source, selection.typeCondition, false)) continue;
      deepMerge(result, representation(run, source, selection.selections));
    }
  }
  return result;
}

// --- errors ----------------------------------------------------------------------------------------------

function downstreamServiceError(
  original: GraphQLFormattedError,
  serviceName: string,
  path: GraphQLErrorOptions['path'],
): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options: GraphQLErrorOptions = {
    originalError: original as Error,
    path,
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

// --- fetches ---------------------------------------------------------------------------------------------

export function fetchVariables(run: PlanRun, usages: readonly string[]): ResultMap {
  const variables: ResultMap = Object.create(null);
  const provided = run.requestContext.request.variables;
  if (provided) {
    for (const name of usages) {
      if (hasOwn.call(provided, name) && typeof provided[name] !== 'undefined')
        variables[name] = provided[name];
    }
  }
  return variables;
}

export interface Sent {
  data: ResultMap | null | undefined;
  errors: readonly GraphQLFormattedError[];
}

async function send(
  run: PlanRun,
  node: FetchNode | BatchFetchNode,
  variables: ResultMap,
  pathInIncomingRequest: Path,
): Promise<Sent> {
  const service = run.service(node.serviceName);
  if (!service) throw new Error(`Couldn't find service with name "${node.serviceName}"`);
  const response = await service.process({
    // GraphQLDataSourceRequestKind.INCOMING_OPERATION (a const enum @apollo/gateway does not export)
    kind: 'incoming operation' as GraphQLDataSourceProcessOptions['kind'] & 'incoming operation',
    request: { query: node.operation, variables, operationName: node.operationName },
    incomingRequestContext: run.requestContext,
    context: run.requestContext.context,
    document: node.document,
    pathInIncomingRequest,
  });
  return { data: response.data as ResultMap | null | undefined, errors: response.errors ?? [] };
}

interface Representations {
  list: ResultMap[];
  /** Index into the cursor's objects of each representation. */
  owners: number[];
  /** Indexes of the objects that lack a field their representation needs. */
  incomplete: number[];
}

function representationsOf(
  run: PlanRun,
  objects: readonly ResultMap[],
  requires: readonly RequiresSelection[],
  inputRewrites: readonly Rewrite[] | undefined,
): Representations {
  const list: ResultMap[] = [];
  const owners: number[] = [];
  const incomplete: number[] = [];
  objects.forEach((object, index) => {
    run.missingInput = false;
    const rep = representation(run, object, requires);
    if (rep?.__typename) {
      applyRewrites(inputRewrites, rep);
      list.push(rep);
      owners.push(index);
    } else if (run.missingInput) incomplete.push(index);
  });
  return { list, owners, incomplete };
}

function mergeEntities(
  received: unknown,
  expected: number,
  objects: readonly ResultMap[],
  owners: readonly number[],
  outputRewrites: readonly Rewrite[] | undefined,
  field: string,
): void {
  if (received === null || received === undefined) return;
  if (!Array.isArray(received)) throw new Error(`Expected "data.${field}" in response to be an array`);
  if (received.length !== expected)
    throw new Error(`Expected "data.${field}" to contain ${expected} elements`);
  for (let i = 0; i < expected; i++) {
    const entity = received[i] as ResultMap | null | undefined;
    const existing = objects[owners[i]!]!;
    if (entity && !entity.__typename) entity.__typename = existing.__typename;
    applyRewrites(outputRewrites, entity);
    deepMerge(existing, entity);
  }
}

/**
 * A subgraph error under an `_entities` field (or a BatchFetch alias), at the client's path: `<field>.<i>.…`
 * goes to the entity the i-th representation came from; an error on the whole field is every entity's.
 */
function entityError(
  run: PlanRun,
  error: GraphQLFormattedError,
  serviceName: string,
  path: readonly (string | number)[],
  owners: readonly number[],
  paths: readonly Path[],
): void {
  if (typeof path[1] === 'number') {
    const owner = owners[path[1]];
    const at = owner === undefined ? undefined : [...paths[owner]!, ...path.slice(2)];
    run.errors.push(downstreamServiceError(error, serviceName, at));
    return;
  }
  for (const owner of owners) run.errors.push(downstreamServiceError(error, serviceName, paths[owner]));
}

/**
 * Merges what a root (non-entity) fetch answered into the objects at its path, its errors re-pathed under
 * it. A subscription's events are merged this way too: each is the answer of the subscription's primary fetch.
 */
export function mergeRootFetch(
  run: PlanRun,
  fetch: FetchNode,
  sent: Sent,
  objects: readonly ResultMap[],
  path: Path,
): void {
  for (const error of sent.errors) {
    const at = error.path ? [...path, ...error.path] : undefined;
    run.errors.push(downstreamServiceError(error, fetch.serviceName, at));
  }
  if (sent.data) applyRewrites(fetch.outputRewrites, sent.data);
  for (const object of objects) deepMerge(object, sent.data);
}

/** Runs a fetch; returns how many entities (or 1 for a root fetch) it asked for. */
async function executeFetch(run: PlanRun, fetch: FetchNode, cursor: Cursor): Promise<number> {
  const objects = cursor.objects;
  if (objects.length < 1) return 0;
  const variables = fetchVariables(run, fetch.variableUsages);

  if (!fetch.requires) {
    const paths = cursor.paths();
    const sent = await send(run, fetch, variables, paths[0]!);
    mergeRootFetch(run, fetch, sent, objects, paths[0]!);
    return 1;
  }

  const reps = representationsOf(run, objects, fetch.requires, fetch.inputRewrites);
  if (reps.incomplete.length) run.incomplete.push({ fetch, cursor: subCursor(cursor, reps.incomplete) });
  if (reps.list.length < 1) return 0;
  if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);
  const sent = await send(run, fetch, { ...variables, representations: reps.list }, cursor.paths()[0] ?? []);
  if (sent.errors.length) {
    const paths = cursor.paths();
    for (const error of sent.errors) {
      const p = error.path;
      if (p && p[0] === '_entities') entityError(run, error, fetch.serviceName, p, reps.owners, paths);
      else run.errors.push(downstreamServiceError(error, fetch.serviceName, p ?? undefined));
    }
  }
  if (sent.data)
    mergeEntities(
      sent.data._entities,
      reps.list.length,
      objects,
      reps.owners,
      fetch.outputRewrites,
      '_entities',
    );
  return reps.list.length;
}

/**
 * Runs again, after the plan, the entity fetches that ran before some entities' inputs had arrived, as
 * long as that gets more entities fetched (each pass may complete the inputs of the next). A plan whose
 * fetches are in dependency order never leaves any; @apollo/query-planner 2.14 orders some wrongly
 * (entities joined through several keys, with a @requires among them), and this makes those plans
 * answer right instead of with nulls. Entities whose inputs never arrive (a failed fetch, a null key)
 * stop the passes.
 */
export async function completeFetches(run: PlanRun): Promise<void> {
  for (let pass = 0; pass < 10 && run.incomplete.length; pass++) {
    const todo = run.incomplete.splice(0);
    let fetched = 0;
    for (const { fetch, cursor } of todo) {
      try {
        fetched += await executeFetch(run, fetch, cursor);
      } catch (error) {
        run.errors.push(failed(error));
      }
    }
    if (fetched === 0) break;
  }
  run.incomplete.length = 0;
}

async function executeBatchFetch(run: PlanRun, batch: BatchFetchNode, cursor: Cursor): Promise<void> {
  const variables = fetchVariables(run, batch.variableUsages);
  const parts = batch.aliases.map((alias) => {
    const at = alias.paths.map((p) => moveInto(cursor, p));
    const objects = at.flatMap((c) => c.objects);
    const reps = representationsOf(run, objects, alias.requires, alias.inputRewrites);
    const paths = () => at.flatMap((c) => c.paths());
    return { alias, objects, reps, paths };
  });
  if (parts.every((p) => p.reps.list.length === 0)) return;
  for (const p of parts) {
    if (p.alias.representationsVariable in variables)
      throw new Error(`Variables cannot contain key "${p.alias.representationsVariable}"`);
    variables[p.alias.representationsVariable] = p.reps.list;
  }
  const sent = await send(run, batch, variables, []);
  for (const error of sent.errors) {
    const p = error.path;
    const part = p && parts.find((x) => x.alias.alias === p[0]);
    if (!part) {
      run.errors.push(downstreamServiceError(error, batch.serviceName, p ?? undefined));
      continue;
    }
    entityError(run, error, batch.serviceName, p, part.reps.owners, part.paths());
  }
  if (!sent.data) return;
  for (const p of parts) {
    if (p.reps.list.length === 0) continue;
    mergeEntities(
      sent.data[p.alias.alias],
      p.reps.list.length,
      p.objects,
      p.reps.owners,
      p.alias.outputRewrites,
      p.alias.alias,
    );
  }
}

// --- nodes -----------------------------------------------------------------------------------------------

function conditionValue(run: PlanRun, variable: string): boolean {
  const value = run.variables[variable];
  if (typeof value !== 'boolean')
    throw new Error(`Invalid non-boolean value ${String(value)} for Boolean! variable $${variable}`);
  return value;
}

function failed(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError(error instanceof Error ? error.message : String(error), {
    originalError: error instanceof Error ? error : undefined,
  });
}

export async function executeNode(run: PlanRun, node: PlanNode, cursor: Cursor): Promise<void> {
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(run, child, cursor)));
      return;
    case 'Flatten': {
      const inner = moveInto(cursor, node.path);
      if (inner.objects.length) await executeNode(run, node.node, inner);
      return;
    }
    case 'Fetch':
      try {
        await executeFetch(run, node, cursor);
      } catch (error) {
        run.errors.push(failed(error));
      }
      return;
    case 'BatchFetch':
      try {
        await executeBatchFetch(run, node, cursor);
      } catch (error) {
        run.errors.push(failed(error));
      }
      return;
    case 'Condition': {
      const branch = conditionValue(run, node.condition) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    case 'Defer':
      if (node.primary.node) await executeNode(run, node.primary.node, cursor);
      for (const d of node.deferred) if (d.node) run.deferred.push({ label: d.label, node: d.node, cursor });
      return;
  }
}
