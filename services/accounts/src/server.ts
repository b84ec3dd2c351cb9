import { fileURLToPath } from 'node:url';
import {
  createSubgraph as createKitSubgraph,
  type Db,
  loadTypeDefs,
  type ServiceDefinition,
  type Subgraph,
} from '@tollgate/kit';
import { type AccountsLoaders, loaders } from './loaders.ts';
import { resolvers } from './resolvers.ts';

const dir = fileURLToPath(new URL('..', import.meta.url));

export const definition: ServiceDefinition<AccountsLoaders> = {
  name: 'accounts',
  dir,
  typeDefs: loadTypeDefs(dir),
  resolvers,
};

export function createSubgraph(opts: { db: Db }): Subgraph {
  return createKitSubgraph(definition, { db: opts.db, loaders });
}
