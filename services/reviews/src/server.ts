import { fileURLToPath } from 'node:url';
import {
  createSubgraph as createKitSubgraph,
  type Db,
  loadTypeDefs,
  type ServiceDefinition,
  type Subgraph,
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

export function createSubgraph(opts: { db: Db }): Subgraph {
  return createKitSubgraph(definition, { db: opts.db, loaders });
}
