import { parse, print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { applyDenials, authorizeOperation, buildAccessRules } from './authorize.ts';
import type { Principal } from './principal.ts';

const SDL = `
  schema @link(url: "https://specs.apollo.dev/link/v1.0")
    @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
    @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY) { query: Query mutation: Mutation }
  directive @link(url: String, as: String, for: String, import: [String]) repeatable on SCHEMA
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
  type Query { me: User users: [User!]! secret: Secret audit: [Entry!]! }
  type Mutation { addReview(body: String!): Review! @authenticated }
  type User { id: ID! name: String! email: String @requiresScopes(scopes: [["read:email"], ["admin"]]) ssn: String! @requiresScopes(scopes: [["pii", "admin"]]) }
  type Secret @authenticated { value: String }
  type Entry { id: ID! note: String @authenticated }
  type Review { id: ID! }
`;
const rules = buildAccessRules(SDL);
const user = (scopes: string[]): Principal => ({ id: 'u1', kind: 'user', scopes, plan: 'free' });
const anonymous: Principal = { id: 'anonymous', kind: 'anonymous', scopes: [], plan: 'anonymous' };
const run = (query: string, principal: Principal) =>
  authorizeOperation(parse(query), undefined, rules, principal);

describe('authorizeOperation', () => {
  it('leaves an operation alone when everything is allowed', () => {
    expect(run('{ me { name email } }', user(['read:email']))).toBeUndefined();
    expect(run('{ me { email } }', user(['admin']))).toBeUndefined(); // either scope set suffices
    expect(run('{ me { ssn } }', user(['pii', 'admin']))).toBeUndefined();
  });

  it('removes a field lacking a scope, with FORBIDDEN at its path', () => {
    const r = run('{ me { name mail: email } }', user([]))!;
    expect(print(r.document)).not.toContain('email');
    expect(print(r.document)).toContain('name');
    expect(r.denials).toEqual([
      { path: ['me', 'mail'], code: 'FORBIDDEN', message: 'Missing scope for User.email' },
    ]);
    expect(r.empty).toBe(false);
  });

  it('answers UNAUTHENTICATED to an anonymous caller, also for scoped fields', () => {
    expect(run('{ me { email } users { id } }', anonymous)!.denials).toEqual([
      expect.objectContaining({ path: ['me'], code: 'UNAUTHENTICATED' }),
    ]);
  });

  it('requires every scope of a set (AND) and moves the null of a non-null field to its parent', () => {
    const r = run('{ me { name ssn } }', user(['pii']))!;
    expect(print(r.document)).not.toContain('me');
    expect(r.denials).toEqual([expect.objectContaining({ path: ['me'], code: 'FORBIDDEN' })]);
    expect(r.empty).toBe(true);
  });

  it('applies a type rule to every field returning the type, and works through named fragments', () => {
    const r = run(
      'query { ...Q audit { id ...E } } fragment Q on Query { secret { value } } fragment E on Entry { note }',
      anonymous,
    )!;
    expect(r.denials.map((d) => d.path)).toEqual([['secret'], ['audit', 'note']]);
    expect(print(r.document)).toContain('audit');
    expect(print(r.document)).not.toMatch(/secret|note|fragment/);
  });

  it('marks an operation with nothing left as empty', () => {
    expect(run('mutation { addReview(body: "x") { id } }', anonymous)!.empty).toBe(true);
  });
});

describe('applyDenials', () => {
  it('puts null at every concrete path, through lists, and skips null parents', () => {
    const data = { audit: [{ id: '1' }, { id: '2' }], me: null };
    const errors = applyDenials(data, [
      { path: ['audit', 'note'], code: 'UNAUTHENTICATED', message: 'no' },
      { path: ['me', 'email'], code: 'FORBIDDEN', message: 'no' },
    ]);
    expect(data).toEqual({
      audit: [
        { id: '1', note: null },
        { id: '2', note: null },
      ],
      me: null,
    });
    expect(errors.map((e) => e.path)).toEqual([
      ['audit', 0, 'note'],
      ['audit', 1, 'note'],
    ]);
  });
});
