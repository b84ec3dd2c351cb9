import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DocumentNode, type GraphQLResolveInfo, parse } from 'graphql';
import type { Db } from '../db/index.ts';
import type { LoaderDefinitions, Loaders } from '../loaders/index.ts';
import type { PubSub } from '../pubsub/index.ts';
import type { ForwardedPrincipal } from '../signing/index.ts';

/** The per-request context every resolver gets. */
export interface SubgraphContext<L extends LoaderDefinitions = LoaderDefinitions> {
  db: Db;
  /**
   * Fresh for every request. Loaders declared with `cache` also share results across requests and
   * users through the replica's cache, keyed by their key alone: cache only what every caller may see.
   */
  loaders: Loaders<L>;
  /** The replica's pub/sub: `Subscription` fields subscribe to it, mutations publish to it. */
  pubsub: PubSub;
  /**
   * The caller as the gateway signed it; undefined for health checks and when signatures are off
   * (`createSubgraph({ signing })`), never taken from an unsigned header.
   */
  principal?: ForwardedPrincipal;
  /** `principal.id` when the caller is a user (not an API key or anonymous). */
  userId?: string;
  /**
   * The headers the gateway's `headers` rules added and signed (lower-case names): the only request
   * headers a resolver may trust. `{}` when signatures are off or no rule added one.
   */
  gatewayHeaders?: Readonly<Record<string, string>>;
}

// `never` parameters let resolvers annotate their own parent and argument types.
export type FieldResolver<C> = (parent: never, args: never, context: C, info: GraphQLResolveInfo) => unknown;
export type ReferenceResolver<C> = (reference: never, context: C, info: GraphQLResolveInfo) => unknown;

/**
 * A `Subscription` field: `subscribe` returns (or resolves to) an async iterable of events, and `resolve`
 * maps each event to the field's value (`(event, args, context, info)`; without it the event must be
 * `{ [fieldName]: value }`).
 */
export interface SubscriptionResolver<C> {
  subscribe: FieldResolver<C>;
  resolve?: FieldResolver<C>;
}

/** Resolvers by type and field; `__resolveReference` entries take `(reference, context, info)`. */
export interface Resolvers<C> {
  [typeName: string]: {
    [fieldName: string]: FieldResolver<C> | ReferenceResolver<C> | SubscriptionResolver<C>;
  };
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
