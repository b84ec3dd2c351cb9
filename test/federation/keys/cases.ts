import type { Case } from '../lib/types.ts';

export const cases: Case[] = [
  {
    name: 'one key: users joined by id',
    query: '{ users { id name posts } }',
    expected: {
      data: {
        users: [
          { id: 'u1', name: 'Ada', posts: 5 },
          { id: 'u2', name: 'Bob', posts: 2 },
          { id: 'u3', name: 'Cy', posts: 0 },
        ],
      },
    },
  },
  {
    name: 'second key: users joined by email',
    query: '{ users { name bio } }',
    expected: {
      data: {
        users: [
          { name: 'Ada', bio: 'math' },
          { name: 'Bob', bio: 'builds' },
          { name: 'Cy', bio: null },
        ],
      },
    },
  },
  {
    name: 'both keys of one type in one query',
    query: '{ users { posts bio } }',
    expected: {
      data: {
        users: [
          { posts: 5, bio: 'math' },
          { posts: 2, bio: 'builds' },
          { posts: 0, bio: null },
        ],
      },
    },
  },
  {
    name: 'enter by email, reach activity through the id key',
    query: '{ profile(email: "bob@x.org") { bio name id posts } }',
    expected: { data: { profile: { bio: 'builds', name: 'Bob', id: 'u2', posts: 2 } } },
  },
  {
    name: 'enter by id, reach profiles through the email key',
    query: '{ topPoster { posts bio } }',
    expected: { data: { topPoster: { posts: 5, bio: 'math' } } },
  },
  {
    name: 'a root entity that does not exist is null',
    query: '{ profile(email: "nobody@x.org") { bio name } }',
    expected: { data: { profile: null } },
  },
  {
    name: 'one user, fields from all three subgraphs',
    query: '{ user(id: "u3") { name bio posts } }',
    expected: { data: { user: { name: 'Cy', bio: null, posts: 0 } } },
  },
  {
    name: 'aliases on entities joined by different keys',
    query: '{ a: user(id: "u1") { n: name b: bio } b: user(id: "u2") { p: posts e: email } }',
    expected: { data: { a: { n: 'Ada', b: 'math' }, b: { p: 2, e: 'bob@x.org' } } },
  },
  {
    name: 'composite key',
    query: '{ seats { org number label floor } }',
    expected: {
      data: {
        seats: [
          { org: 'acme', number: 1, label: 'A1', floor: 1 },
          { org: 'acme', number: 2, label: 'A2', floor: 2 },
          { org: 'globex', number: 1, label: 'G1', floor: 101 },
        ],
      },
    },
  },
  {
    name: 'composite key, only the remote field asked',
    query: '{ seats { floor } }',
    expected: { data: { seats: [{ floor: 1 }, { floor: 2 }, { floor: 101 }] } },
  },
  {
    name: 'nested key',
    query: '{ wallets { owner { id } currency balance frozen } }',
    expected: {
      data: {
        wallets: [
          { owner: { id: 'u1' }, currency: 'EUR', balance: 10, frozen: false },
          { owner: { id: 'u1' }, currency: 'USD', balance: 20, frozen: true },
          { owner: { id: 'u2' }, currency: 'EUR', balance: 30, frozen: false },
        ],
      },
    },
  },
  {
    name: 'nested key, only the remote field asked',
    query: '{ wallets { frozen } }',
    expected: { data: { wallets: [{ frozen: false }, { frozen: true }, { frozen: false }] } },
  },
];
