import type { Case } from '../lib/types.ts';

// reviews r1 'great' by u1 Ada (Paris, Rue 1), r2 'meh' by u2 Bob (Oslo, Gate 2), r3 'ok' by u1
export const cases: Case[] = [
  {
    name: 'provided field',
    query: '{ reviews { body author { name } } }',
    expected: {
      data: {
        reviews: [
          { body: 'great', author: { name: 'Ada' } },
          { body: 'meh', author: { name: 'Bob' } },
          { body: 'ok', author: { name: 'Ada' } },
        ],
      },
    },
  },
  {
    name: 'nested provides',
    query: '{ reviews { author { name address { city } } } }',
    expected: {
      data: {
        reviews: [
          { author: { name: 'Ada', address: { city: 'Paris' } } },
          { author: { name: 'Bob', address: { city: 'Oslo' } } },
          { author: { name: 'Ada', address: { city: 'Paris' } } },
        ],
      },
    },
  },
  {
    name: 'nested provides, a field beside it that is not provided',
    query: '{ reviews { author { address { city street } } } }',
    expected: {
      data: {
        reviews: [
          { author: { address: { city: 'Paris', street: 'Rue 1' } } },
          { author: { address: { city: 'Oslo', street: 'Gate 2' } } },
          { author: { address: { city: 'Paris', street: 'Rue 1' } } },
        ],
      },
    },
  },
  {
    name: '@external field without provides is fetched from its owner',
    query: '{ reviews { plainAuthor { name address { city } } } }',
    expected: {
      data: {
        reviews: [
          { plainAuthor: { name: 'Ada', address: { city: 'Paris' } } },
          { plainAuthor: { name: 'Bob', address: { city: 'Oslo' } } },
          { plainAuthor: { name: 'Ada', address: { city: 'Paris' } } },
        ],
      },
    },
  },
  {
    name: '@external and provided paths side by side',
    query: '{ reviews { author { name } plainAuthor { name } } }',
    expected: {
      data: {
        reviews: [
          { author: { name: 'Ada' }, plainAuthor: { name: 'Ada' } },
          { author: { name: 'Bob' }, plainAuthor: { name: 'Bob' } },
          { author: { name: 'Ada' }, plainAuthor: { name: 'Ada' } },
        ],
      },
    },
  },
  {
    name: 'into the providing subgraph and back out',
    query: '{ me { name reviews { body author { id name address { street } } } } }',
    expected: {
      data: {
        me: {
          name: 'Ada',
          reviews: [
            { body: 'great', author: { id: 'u1', name: 'Ada', address: { street: 'Rue 1' } } },
            { body: 'ok', author: { id: 'u1', name: 'Ada', address: { street: 'Rue 1' } } },
          ],
        },
      },
    },
  },
  {
    name: 'provides on a field returning an interface',
    query: '{ pick { id title } }',
    expected: { data: { pick: { id: 'b1', title: 'Dune' } } },
  },
  {
    name: 'provides on an interface, a field it does not provide',
    query: '{ pick { title ... on Book { pages } } }',
    expected: { data: { pick: { title: 'Dune', pages: 412 } } },
  },
  {
    name: 'provides on a field returning a union',
    query: '{ picks { __typename ... on Book { title } ... on Movie { title } } }',
    expected: {
      data: {
        picks: [
          { __typename: 'Movie', title: 'Alien' },
          { __typename: 'Book', title: 'Dune' },
        ],
      },
    },
  },
  {
    name: 'provides on a union, fields it does not provide',
    query: '{ picks { ... on Book { title pages } ... on Movie { minutes } } }',
    expected: { data: { picks: [{ minutes: 117 }, { title: 'Dune', pages: 412 }] } },
  },
  {
    name: 'interface list from the owner',
    query: '{ items { __typename title ... on Movie { minutes } } }',
    expected: {
      data: {
        items: [
          { __typename: 'Book', title: 'Dune' },
          { __typename: 'Movie', title: 'Alien', minutes: 117 },
        ],
      },
    },
  },
];
