import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';

export type Resolvers = GraphQLResolverMap<unknown>;

/** One subgraph of a feature: its SDL and resolvers. `down` ones are composed but never started. */
export interface SubgraphDef {
  name: string;
  sdl: string;
  resolvers: Resolvers;
  /** Composed into the supergraph, but its replica URL has nothing listening. */
  down?: boolean;
}

export interface Case {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Worked out from the subgraphs' data, never copied from a gateway's answer. */
  expected: { data: unknown };
  /** Whether the response carries `errors` (default false). */
  errors?: boolean;
  /** Why @apollo/query-planner gets this case wrong: on apollo the result must differ from `expected`. */
  apolloFails?: string;
}

export interface Feature {
  name: string;
  subgraphs: SubgraphDef[];
  cases: Case[];
}

/** A key-value lookup that throws nothing: `undefined` becomes `null`, as a resolver should answer. */
export function byKey<T>(rows: readonly T[], match: (row: T) => boolean): T | null {
  return rows.find(match) ?? null;
}
