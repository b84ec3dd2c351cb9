import { fileURLToPath } from 'node:url';
import {
  createSubgraph as createKitSubgraph,
  loadTypeDefs,
  type ServiceDefinition,
  type Subgraph,
  type SubgraphDeps,
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

/** `deps.cache` defaults to a fresh in-process cache; pass the replica's shared one (see @tollgate/kit). */
export function createSubgraph(deps: SubgraphDeps): Subgraph {
  return createKitSubgraph(definition, { ...deps, loaders });
}
