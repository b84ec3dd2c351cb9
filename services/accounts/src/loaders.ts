import { loadOne } from '@tollgate/kit';

export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
}

export const loaders = {
  // Nothing in this service writes users, so the TTL alone bounds how long an outside edit goes unseen.
  userById: loadOne<UserRow>({
    sql: 'SELECT id, username, name, email FROM accounts.users WHERE id = ANY($1)',
    key: 'id',
    cache: { type: 'User', ttlSec: 300 },
  }),
};

export type AccountsLoaders = typeof loaders;
