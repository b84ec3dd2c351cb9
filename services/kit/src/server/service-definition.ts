import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DocumentNode, type GraphQLResolveInfo, parse } from 'graphql';
import type { Db } from '../db/index.ts';
import type { LoaderDefinitions, Loaders } from '../loaders/index.ts';

/** The per-request context every resolver gets. */
export interface SubgraphContext<L extends LoaderDefinitions = LoaderDefinitions> {
  db: Db;
  /** Fresh for every request, so nothing is cached across users or requests. */
  loaders: Loaders<L>;
  /** The caller, when the gateway names one. */
  userId?: string;
}

// `never` parameters let resolvers annotate their own parent and argument types.
export type FieldResolver<C> = (parent: never, args: never, context: C, info: GraphQLResolveInfo) => unknown;
export type ReferenceResolver<C> = (reference: never, context: C, info: GraphQLResolveInfo) => unknown;

/** Resolvers by type and field; `__resolveReference` entries take `(reference, context, info)`. */
export interface Resolvers<C> {
  [typeName: string]: { [fieldName: string]: FieldResolver<C> | ReferenceResolver<C> };
}

export interface ServiceDefinition<L extends LoaderDefinitions = LoaderDefinitions> {
  /** Also the PostgreSQL schema the service owns and its key in `tollgate_migrations`. */
  name: string;
  /** Service root holding `schema.graphql`, `migrations/` and `seed.sql`. */
  dir: string;
  typeDefs: DocumentNode;
  resolvers: Resolvers<SubgraphContext<L>>;
}

/** Reads and parses `<dir>/schema.graphql`. */
export function loadTypeDefs(dir: string): DocumentNode {
  return parse(readFileSync(join(dir, 'schema.graphql'), 'utf8'));
}
