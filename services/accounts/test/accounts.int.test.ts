import { startTestSubgraph, type TestSubgraph } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as accounts from '../src/server.ts';

interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
}

describe('accounts subgraph', () => {
  let t: TestSubgraph;

  beforeAll(async () => {
    // Signed like the gateway signs, so `me` has a verified user to resolve.
    t = await startTestSubgraph(accounts, {
      deps: { signing: { secret: 'accounts-test-signing-secret-0123456789' } },
    });
  });
  afterAll(() => t?.close());

  const usersFromSql = (ids: string[]) =>
    t.db.query<UserRow>('SELECT id, username, name, email FROM accounts.users WHERE id = ANY($1)', [ids]);

  it('seeds users 1..100 deterministically', async () => {
    const rows = await t.db.query<{ n: string; min_u: string; e7: string }>(
      `SELECT count(*) AS n, min(username) AS min_u, (SELECT email FROM accounts.users WHERE id = '7') AS e7
       FROM accounts.users`,
    );
    expect(rows).toEqual([{ n: '100', min_u: 'user1', e7: 'user7@example.com' }]);
  });

  it('resolves user(id) from the table, and null for an unknown id', async () => {
    const res = await t.request('{ a: user(id: "7") { id username name email } b: user(id: "9999") { id } }');
    const [row] = await usersFromSql(['7']);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { a: row, b: null } });
  });

  it('resolves me from the signed user principal, and null for anyone else', async () => {
    const named = await t.requestAs(
      { id: '42', kind: 'user', scopes: [], plan: 'free' },
      '{ me { id username } }',
    );
    const anonymous = await t.request('{ me { id } }');
    const apiKey = await t.requestAs({ id: '42', kind: 'apikey', scopes: [], plan: 'free' }, '{ me { id } }');
    // an unsigned header names nobody
    const claimed = await t.request('{ me { id } }', {}, { 'x-user-id': '42' });
    expect(named.body).toEqual({ data: { me: { id: '42', username: 'user42' } } });
    for (const res of [anonymous, apiKey, claimed]) expect(res.body).toEqual({ data: { me: null } });
  });

  it('resolves User entities in key order with one statement whatever the batch size', async () => {
    const query = `query ($r: [_Any!]!) {
      _entities(representations: $r) { ... on User { id username name email } }
    }`;
    const run = async (n: number) => {
      // Reverse order plus an unknown id, so key order and missing keys are both checked.
      const ids = [...Array.from({ length: n - 1 }, (_, i) => String(n - i)), 'nobody'];
      const before = t.db.statements;
      const res = await t.request(query, { r: ids.map((id) => ({ __typename: 'User', id })) });
      const statements = t.db.statements - before;
      const rows = new Map((await usersFromSql(ids)).map((r) => [r.id, r]));
      expect(res.body).toEqual({ data: { _entities: ids.map((id) => rows.get(id) ?? null) } });
      return statements;
    };
    expect(await run(5)).toBe(1);
    expect(await run(50)).toBe(1);
  });

  it('publishes its Federation SDL', async () => {
    const res = await t.request('{ _service { sdl } }');
    const sdl = (res.body.data!._service as { sdl: string }).sdl;
    expect(sdl).toContain('type User');
    expect(sdl).toContain('@key(fields: "id")');
    expect(sdl).toContain('me: User');
  });

  it('counts the GraphQL requests it served in /health', async () => {
    const health = async () => (await fetch(t.url.replace('/graphql', '/health'))).json();
    const before = (await health()) as { requests: number };
    await t.request('{ me { id } }');
    expect(await health()).toEqual({ status: 'ok', service: 'accounts', requests: before.requests + 1 });
  });
});
