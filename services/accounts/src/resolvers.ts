import type { Resolvers, SubgraphContext } from '@tollgate/kit';
import type { AccountsLoaders } from './loaders.ts';

type Context = SubgraphContext<AccountsLoaders>;

export const resolvers: Resolvers<Context> = {
  Query: {
    me: (_: unknown, __: unknown, { userId, loaders }: Context) =>
      userId === undefined ? null : loaders.userById.load(userId),
    user: (_: unknown, { id }: { id: string }, { loaders }: Context) => loaders.userById.load(id),
  },
  User: {
    __resolveReference: (ref: { id: string }, { loaders }: Context) => loaders.userById.load(ref.id),
  },
};
