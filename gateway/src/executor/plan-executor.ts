// Runs an Apollo query plan: the fetches, the representations they need, and the merge of what comes back.
// A port of @apollo/gateway's executeQueryPlan.ts (executeNode / executeFetch) with the same semantics and
// errors, minus what a request does not need: usage-reporting trace nodes (protobuf objects built per plan
// node even when nothing reports them) and an OpenTelemetry span per plan node (ours are per fetch, in
// the pool's data source).
import { ERRORS, errorCodeDef, type VariableDefinitions } from '@apollo/federation-internals';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type {
  FetchDataRewrite,
  FetchNode,
  PlanNode,
  QueryPlanSelectionNode,
  ResponsePath,
  SubscriptionNode,
} from '@apollo/query-planner';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  type GraphQLErrorOptions,
  type GraphQLFormattedError,
  type GraphQLSchema,
  isAbstractType,
  isInterfaceType,
  isObjectType,
} from 'graphql';

type ResultMap = Record<string, unknown>;

export interface PlanRun {
  /** The data source of a subgraph, looked up when a fetch needs it. */
  service(name: string): GraphQLDataSource | undefined;
  readonly requestContext: GatewayGraphQLRequestContext;
  /** The supergraph as graphql-js (rewrites and `requires` type conditions use it, as Apollo does). */
  readonly supergraphSchema: GraphQLSchema;
  /** The operation's variable definitions (for Condition nodes' defaults). */
  readonly variableDefinitions: VariableDefinitions;
  readonly errors: GraphQLError[];
}

interface Cursor {
  path: ResponsePath;
  data: ResultMap | ResultMap[];
  fullResult: ResultMap;
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

// --- data rewrites (dataRewrites.ts) ---------------------------------------------------------------------

const FRAGMENT_PREFIX = '... on ';

function isObjectOfType(
  schema: GraphQLSchema,
  obj: ResultMap,
  typeCondition: string,
  defaultOnUnknownObjectType = false,
): boolean {
  const objTypename = obj.__typename;
  if (!objTypename) return defaultOnUnknownObjectType;
  if (typeCondition === objTypename) return true;
  const type = schema.getType(String(objTypename));
  if (!type) return false;
  const conditionalType = schema.getType(typeCondition);
  if (!conditionalType) return false;
  if (isAbstractType(conditionalType)) {
    return (isObjectType(type) || isInterfaceType(type)) && schema.isSubType(conditionalType, type);
  }
  return false;
}

function applyAtPath(
  schema: GraphQLSchema,
  path: readonly string[],
  from: number,
  value: unknown,
  fn: (obj: ResultMap) => void,
): void {
  if (Array.isArray(value)) {
    for (const item of value) applyAtPath(schema, path, from, item, fn);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (from === path.length) {
    fn(value as ResultMap);
    return;
  }
  const element = path[from]!;
  if (element.startsWith(FRAGMENT_PREFIX)) {
    if (isObjectOfType(schema, value as ResultMap, element.slice(FRAGMENT_PREFIX.length), true))
      applyAtPath(schema, path, from + 1, value, fn);
  } else {
    applyAtPath(schema, path, from + 1, getOwn(value, element), fn);
  }
}

function applyRewrites(
  schema: GraphQLSchema,
  rewrites: readonly FetchDataRewrite[] | undefined,
  value: unknown,
): void {
  if (!rewrites) return;
  for (const rewrite of rewrites) {
    if (rewrite.path.length === 0) continue;
    const last = rewrite.path[rewrite.path.length - 1]!;
    if (last.startsWith(FRAGMENT_PREFIX))
      throw new Error(`Unexpected fragment as last element of ${rewrite.path}`);
    const parent = rewrite.path.slice(0, -1);
    applyAtPath(
      schema,
      parent,
      0,
      value,
      rewrite.kind === 'ValueSetter'
        ? (obj) => {
            defineOwn(obj, last);
            obj[last] = rewrite.setValueTo;
          }
        : (obj) => {
            const at = getOwn(obj, last);
            if (at) {
              defineOwn(obj, rewrite.renameKeyTo);
              obj[rewrite.renameKeyTo] = at;
              obj[last] = undefined;
            }
          },
    );
  }
}

// --- representations (executeSelectionSet) ---------------------------------------------------------------

function executeSelectionSet(
  schema: GraphQLSchema,
  source: ResultMap | null,
  selections: readonly QueryPlanSelectionNode[],
): ResultMap | null {
  if (source === null) return null;
  const result: ResultMap = Object.create(null);
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ?? selection.name;
      const sub = selection.selections;
      if (!hasOwn.call(source, responseName) || typeof source[responseName] === 'undefined') return null;
      const value = source[responseName];
      if (Array.isArray(value)) {
        result[responseName] = value.map((v) =>
          sub ? executeSelectionSet(schema, v as ResultMap | null, sub) : v,
        );
      } else if (sub) {
        result[responseName] = executeSelectionSet(schema, value as ResultMap | null, sub);
      } else {
        result[responseName] = value;
      }
    } else if (selection.kind === 'InlineFragment') {
      if (!selection.typeCondition) continue;
      if (isObjectOfType(schema, source, selection.typeCondition)) {
        deepMerge(result, executeSelectionSet(schema, source, selection.selections));
      }
    }
  }
  return result;
}

// --- cursors ---------------------------------------------------------------------------------------------

/**
 * Apollo's flattenResultsAtPath (flatMap at each `@`, so an element's array result is spliced in one
 * level and anything else, null and undefined included, is kept), walking the path by index instead of
 * destructuring a new rest array at every step.
 */
function flattenResultsAtPath(value: unknown, path: ResponsePath, from: number): unknown {
  if (from === path.length) return value;
  if (value === undefined || value === null) return value;
  const current = path[from];
  if (current === '@') {
    const out: unknown[] = [];
    for (const element of value as unknown[]) {
      const r = flattenResultsAtPath(element, path, from + 1);
      if (Array.isArray(r)) for (const x of r) out.push(x);
      else out.push(r);
    }
    return out;
  }
  if (typeof current !== 'string') throw new Error(`Unexpected ${typeof current} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${current}`);
  return flattenResultsAtPath(getOwn(value as object, current), path, from + 1);
}

function moveIntoCursor(cursor: Cursor, pathInCursor: ResponsePath): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, pathInCursor, 0) as Cursor['data'] | null | undefined;
  return data ? { path: cursor.path.concat(pathInCursor), data, fullResult: cursor.fullResult } : undefined;
}

// --- errors ----------------------------------------------------------------------------------------------

/** executeQueryPlan.ts generateHydratedPaths: `["foo", "@", "bar"]` → every concrete path in the data. */
function generateHydratedPaths(
  parent: (string | number)[],
  path: ResponsePath,
  data: unknown,
  result: (string | number)[][],
): void {
  const head = path[0];
  if (data == null) return;
  if (head == null) {
    result.push(parent.slice());
  } else if (head === '@') {
    if (!Array.isArray(data)) throw new Error('expected array when encountering `@`');
    data.forEach((value, i) => {
      parent.push(i);
      generateHydratedPaths(parent, path.slice(1), value, result);
      parent.pop();
    });
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      data.forEach((value, i) => {
        parent.push(i);
        generateHydratedPaths(parent, path, value, result);
        parent.pop();
      });
    } else if (hasOwn.call(data, head)) {
      parent.push(head);
      generateHydratedPaths(parent, path.slice(1), (data as ResultMap)[head], result);
      parent.pop();
    }
  } else {
    throw new Error(`unknown path part "${String(head)}"`);
  }
}

function errorPathGenerator(fetch: FetchNode, cursor: Cursor) {
  let hydrated: (string | number)[][] | undefined;
  return (errorPath: GraphQLErrorOptions['path']): GraphQLErrorOptions['path'] => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        generateHydratedPaths([], cursor.path, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath.slice()] : undefined;
  };
}

function downstreamServiceError(
  original: GraphQLFormattedError,
  serviceName: string,
  pathOf: (path: GraphQLErrorOptions['path']) => GraphQLErrorOptions['path'],
): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options: GraphQLErrorOptions = {
    originalError: original as Error,
    path: pathOf(original.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

// --- execution -------------------------------------------------------------------------------------------

function conditionValue(run: PlanRun, variable: string): boolean {
  const values = run.requestContext.request.variables;
  let value = values ? getOwn(values, variable) : undefined;
  if (value === undefined) value = run.variableDefinitions.definition(variable)?.defaultValue;
  if (typeof value !== 'boolean')
    throw new Error(`Invalid non-boolean value ${String(value)} for Boolean! variable $${variable}`);
  return value;
}

async function executeFetch(run: PlanRun, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = run.service(fetch.serviceName);
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);

  const entities: ResultMap[] = Array.isArray(cursor.data)
    ? cursor.data.filter((e) => e !== null && e !== undefined)
    : [cursor.data];
  if (entities.length < 1) return;

  const variables: ResultMap = Object.create(null);
  const provided = run.requestContext.request.variables;
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages) {
      if (hasOwn.call(provided, name) && typeof provided[name] !== 'undefined')
        variables[name] = provided[name];
    }
  }

  const send = async (vars: ResultMap): Promise<ResultMap | null | undefined> => {
    const response = await service.process({
      // GraphQLDataSourceRequestKind.INCOMING_OPERATION (a const enum @apollo/gateway does not export)
      kind: 'incoming operation' as GraphQLDataSourceProcessOptions['kind'] & 'incoming operation',
      request: { query: fetch.operation, variables: vars, operationName: fetch.operationName },
      incomingRequestContext: run.requestContext,
      context: run.requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: cursor.path,
    });
    if (response.errors) {
      const pathOf = errorPathGenerator(fetch, cursor);
      for (const error of response.errors)
        run.errors.push(downstreamServiceError(error, fetch.serviceName, pathOf));
    }
    return response.data as ResultMap | null | undefined;
  };

  if (!fetch.requires) {
    const received = await send(variables);
    if (received) applyRewrites(run.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }

  const representations: ResultMap[] = [];
  const representationToEntity: number[] = [];
  entities.forEach((entity, index) => {
    const representation = executeSelectionSet(run.supergraphSchema, entity, fetch.requires!);
    if (representation?.__typename) {
      applyRewrites(run.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      representationToEntity.push(index);
    }
  });
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);

  const received = await send({ ...variables, representations });
  if (!received) return;
  const receivedEntities = received._entities;
  if (!Array.isArray(receivedEntities))
    throw new Error(`Expected "data._entities" in response to be an array`);
  if (receivedEntities.length !== representations.length)
    throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);

  // Apollo iterates over `entities.length` here; entries past the representations are undefined and merge
  // nothing, so stopping at the representations is the same result.
  for (let i = 0; i < representations.length; i++) {
    const receivedEntity = receivedEntities[i] as ResultMap | null | undefined;
    const existing = entities[representationToEntity[i]!]!;
    if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = existing.__typename;
    applyRewrites(run.supergraphSchema, fetch.outputRewrites, receivedEntity);
    deepMerge(existing, receivedEntity);
  }
}

async function executeNode(run: PlanRun, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(run, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(run, child, cursor)));
      return;
    case 'Flatten':
      return executeNode(run, node.node, moveIntoCursor(cursor, node.path));
    case 'Fetch':
      try {
        await executeFetch(run, node, cursor);
      } catch (error) {
        run.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const branch = conditionValue(run, node.condition) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(run, branch, cursor);
      return;
    }
    default:
      throw new Error(`${node.kind} plan nodes are not supported by the gateway`);
  }
}

/** Executes the plan's root node; returns the unshaped data (what Apollo calls `unfilteredData`). */
export async function executePlanNode(run: PlanRun, node: PlanNode | undefined): Promise<ResultMap> {
  const data: ResultMap = Object.create(null);
  if (node) await executeNode(run, node, { path: [], data, fullResult: data });
  return data;
}

/** Whether the plan has nodes only Apollo's executor handles (@defer, subscriptions). */
export function planNeedsApollo(node: PlanNode | SubscriptionNode | undefined): boolean {
  if (!node) return false;
  switch (node.kind) {
    case 'Sequence':
    case 'Parallel':
      return node.nodes.some(planNeedsApollo);
    case 'Flatten':
      return planNeedsApollo(node.node);
    case 'Fetch':
      return false;
    case 'Condition':
      return planNeedsApollo(node.ifClause) || planNeedsApollo(node.elseClause);
    default:
      return true;
  }
}
