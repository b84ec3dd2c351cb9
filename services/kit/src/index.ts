// @tollgate/kit: what every subgraph shares (server bootstrap, database access, batched loaders).

export * from './db/index.ts';
export * from './loaders/index.ts';
export * from './registry/index.ts';
export * from './server/index.ts';
