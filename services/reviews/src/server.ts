import { fileURLToPath } from 'node:url';
import {
  createSubgraph as createKitSubgraph,
  loadTypeDefs,
  type ServiceDefinition,
  type Subgraph,
  type SubgraphDeps,
} from '@tollgate/kit';
import { loaders, type ReviewsLoaders } from './loaders.ts';
import { resolvers } from './resolvers.ts';

const dir = fileURLToPath(new URL('..', import.meta.url));

// No Query type of its own: buildSubgraphSchema adds Query { _entities _service }, which is all
// the gateway needs to reach Product.reviews and User.reviews.
export const definition: ServiceDefinition<ReviewsLoaders> = {
  name: 'reviews',
  dir,
  typeDefs: loadTypeDefs(dir),
  resolvers,
};

/** `deps.cache` defaults to a fresh in-process cache; pass the replica's shared one (see @tollgate/kit). */
export function createSubgraph(deps: SubgraphDeps): Subgraph {
  return createKitSubgraph(definition, { ...deps, loaders });
}
