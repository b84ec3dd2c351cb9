import type { Case } from '../lib/types.ts';

// me is u1 Ada, whose friend (from b) is u2 Bob, who has none; search is [User u1, Post x1].
export const cases: Case[] = [
  { name: 'on the query root', query: '{ __typename }', expected: { data: { __typename: 'Query' } } },
  {
    name: 'on the query root, aliased twice',
    query: '{ a: __typename b: __typename }',
    expected: { data: { a: 'Query', b: 'Query' } },
  },
  {
    name: 'on the mutation root',
    query: 'mutation { __typename }',
    expected: { data: { __typename: 'Mutation' } },
  },
  {
    name: 'on the mutation root beside a field',
    query: 'mutation { ping __typename }',
    expected: { data: { ping: true, __typename: 'Mutation' } },
  },
  {
    name: 'on an entity',
    query: '{ me { __typename } }',
    expected: { data: { me: { __typename: 'User' } } },
  },
  {
    name: 'the only field of an entity reached through another subgraph',
    query: '{ me { friend { __typename } } }',
    expected: { data: { me: { friend: { __typename: 'User' } } } },
  },
  {
    name: 'aliased, on nested entities across subgraphs',
    query: '{ me { t: __typename name friend { __typename name friend { __typename } } } }',
    expected: {
      data: { me: { t: 'User', name: 'Ada', friend: { __typename: 'User', name: 'Bob', friend: null } } },
    },
  },
  {
    name: 'on union members',
    query: '{ search { __typename } }',
    expected: { data: { search: [{ __typename: 'User' }, { __typename: 'Post' }] } },
  },
  {
    name: 'inside fragments on union members',
    query: '{ search { ... on User { __typename name } ... on Post { __typename id } } }',
    expected: {
      data: {
        search: [
          { __typename: 'User', name: 'Ada' },
          { __typename: 'Post', id: 'x1' },
        ],
      },
    },
  },
  {
    name: 'skipped __typename',
    query: '{ me { __typename @skip(if: true) id } }',
    expected: { data: { me: { id: 'u1' } } },
  },
  {
    name: 'at the root and deep in one query',
    query: '{ __typename me { __typename friend { __typename id } } }',
    expected: {
      data: { __typename: 'Query', me: { __typename: 'User', friend: { __typename: 'User', id: 'u2' } } },
    },
  },
];
