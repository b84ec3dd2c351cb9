import { loadOne } from '@tollgate/kit';

export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
}

export const loaders = {
  userById: loadOne<UserRow>({
    sql: 'SELECT id, username, name, email FROM accounts.users WHERE id = ANY($1)',
    key: 'id',
  }),
};

export type AccountsLoaders = typeof loaders;
