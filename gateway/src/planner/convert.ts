// What both plan converters share: type conditions expanded against the supergraph, and fetch operations
// parsed once per plan.
import { type GraphQLSchema, isAbstractType, isInterfaceType, parse } from 'graphql';
import type { TypeCondition } from './plan.ts';

/** A plan that Tollgate cannot run (a node or field it does not know): the operation gets this error. */
export class PlanConversionError extends Error {}

const conditionCaches = new WeakMap<GraphQLSchema, Map<string, TypeCondition>>();

/**
 * The object (and interface) type names a value of type condition `names` may have: each name itself
 * plus, for an abstract type, its possible types and the interfaces implementing it (an
 * `@interfaceObject` entity carries its interface's name as `__typename`).
 */
export function typeCondition(schema: GraphQLSchema, names: readonly string[]): TypeCondition {
  let cache = conditionCaches.get(schema);
  if (!cache) {
    cache = new Map();
    conditionCaches.set(schema, cache);
  }
  const key = names.join(',');
  let condition = cache.get(key);
  if (!condition) {
    const types = new Set<string>();
    for (const name of names) {
      types.add(name);
      const type = schema.getType(name);
      if (type && isAbstractType(type)) {
        for (const t of schema.getPossibleTypes(type)) types.add(t.name);
        if (isInterfaceType(type))
          for (const i of schema.getImplementations(type).interfaces) types.add(i.name);
      }
    }
    condition = { types };
    cache.set(key, condition);
  }
  return condition;
}

export function parseOperation(operation: string, serviceName: string) {
  try {
    return parse(operation, { noLocation: true });
  } catch (error) {
    throw new PlanConversionError(
      `the planner produced an operation for subgraph ${serviceName} that does not parse: ${(error as Error).message}`,
    );
  }
}
