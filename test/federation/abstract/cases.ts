import type { Case } from '../lib/types.ts';

// Book b1 'Dune' (score 10, price 9), Dvd d1 'Alien' (score 20), Gadget g1 'Phone' (shop only, price 99);
// Book and Gadget implement Priced in shop only; b1's related (extras) is [d1], d1's is [].
// topNode (extras) is b1; pinned (refs, not resolvable) is [d1, b1]; things is [d1, b1];
// shopThings is [b1, g1].
export const cases: Case[] = [
  {
    name: 'entity interface: __typename of each',
    query: '{ nodes { id __typename } }',
    expected: {
      data: {
        nodes: [
          { id: 'b1', __typename: 'Book' },
          { id: 'd1', __typename: 'Dvd' },
        ],
      },
    },
  },
  {
    name: 'entity interface: fragments per type',
    query: '{ nodes { id ... on Book { title } ... on Dvd { dvdTitle: title } } }',
    expected: {
      data: {
        nodes: [
          { id: 'b1', title: 'Dune' },
          { id: 'd1', dvdTitle: 'Alien' },
        ],
      },
    },
  },
  {
    name: 'entity interface: a field an @interfaceObject adds',
    query: '{ nodes { id score } }',
    expected: {
      data: {
        nodes: [
          { id: 'b1', score: 10 },
          { id: 'd1', score: 20 },
        ],
      },
    },
  },
  {
    name: 'entity interface: one node, @interfaceObject field and a fragment',
    query: '{ node(id: "d1") { score ... on Dvd { title } } }',
    expected: { data: { node: { score: 20, title: 'Alien' } } },
  },
  {
    name: 'entity interface: a node that does not exist',
    query: '{ node(id: "zz") { id score } }',
    expected: { data: { node: null } },
  },
  {
    name: 'resolvable @interfaceObject as the entry: its own field',
    query: '{ topNode { id score } }',
    expected: { data: { topNode: { id: 'b1', score: 10 } } },
  },
  {
    name: 'resolvable @interfaceObject as the entry: __typename',
    query: '{ topNode { __typename id } }',
    expected: { data: { topNode: { __typename: 'Book', id: 'b1' } } },
  },
  {
    name: 'resolvable @interfaceObject as the entry: a fragment on an implementation',
    query: '{ topNode { score ... on Book { title } ... on Dvd { id } } }',
    expected: { data: { topNode: { score: 10, title: 'Dune' } } },
  },
  {
    name: 'non-resolvable @interfaceObject: ids only',
    query: '{ pinned { id } }',
    expected: { data: { pinned: [{ id: 'd1' }, { id: 'b1' }] } },
  },
  {
    name: 'non-resolvable @interfaceObject: __typename and fragments',
    query: '{ pinned { __typename ... on Book { title } ... on Dvd { title } } }',
    expected: {
      data: {
        pinned: [
          { __typename: 'Dvd', title: 'Alien' },
          { __typename: 'Book', title: 'Dune' },
        ],
      },
    },
  },
  {
    name: 'non-resolvable @interfaceObject: a field of another @interfaceObject',
    query: '{ pinned { id score } }',
    expected: {
      data: {
        pinned: [
          { id: 'd1', score: 20 },
          { id: 'b1', score: 10 },
        ],
      },
    },
  },
  {
    name: 'non-resolvable @interfaceObject: a field of one implementation from a fourth subgraph',
    query: '{ pinned { ... on Book { price } } }',
    expected: { data: { pinned: [{}, { price: 9 }] } },
  },
  {
    name: 'non-resolvable @interfaceObject: everything at once',
    query: '{ pinned { __typename id score ... on Book { title price } ... on Dvd { title } } }',
    expected: {
      data: {
        pinned: [
          { __typename: 'Dvd', id: 'd1', score: 20, title: 'Alien' },
          { __typename: 'Book', id: 'b1', score: 10, title: 'Dune', price: 9 },
        ],
      },
    },
  },
  {
    name: 'union: members from one subgraph, fields from others',
    query: '{ things { __typename ... on Book { title price } ... on Dvd { title score } } }',
    expected: {
      data: {
        things: [
          { __typename: 'Dvd', title: 'Alien', score: 20 },
          { __typename: 'Book', title: 'Dune', price: 9 },
        ],
      },
    },
  },
  {
    name: 'union whose members differ per subgraph',
    query: '{ shopThings { __typename ... on Book { title price } ... on Gadget { name } } }',
    expected: {
      data: {
        shopThings: [
          { __typename: 'Book', title: 'Dune', price: 9 },
          { __typename: 'Gadget', name: 'Phone' },
        ],
      },
    },
  },
  {
    name: 'union: a fragment on an interface some members implement',
    query: '{ shopThings { ... on Node { id score } } }',
    expected: { data: { shopThings: [{ id: 'b1', score: 10 }, {}] } },
  },
  {
    name: 'union: a fragment on a member that is not in the list',
    query: '{ shopThings { ... on Dvd { title } ... on Gadget { id } } }',
    expected: { data: { shopThings: [{}, { id: 'g1' }] } },
  },
  {
    name: 'value interface: a fragment on it in its own subgraph',
    query: '{ shopThings { __typename ... on Priced { price } } }',
    expected: {
      data: {
        shopThings: [
          { __typename: 'Book', price: 9 },
          { __typename: 'Gadget', price: 99 },
        ],
      },
    },
  },
  {
    name: 'value interface: a fragment on it in a subgraph that does not know it',
    query: '{ things { __typename ... on Priced { price } } }',
    expected: { data: { things: [{ __typename: 'Dvd' }, { __typename: 'Book', price: 9 }] } },
  },
  {
    name: 'value interface: reached through an entity interface',
    query: '{ nodes { id ... on Priced { price } } }',
    expected: { data: { nodes: [{ id: 'b1', price: 9 }, { id: 'd1' }] } },
  },
  {
    name: '@interfaceObject returning itself: __typename and fragments of the related nodes',
    query: '{ topNode { related { __typename id score ... on Dvd { title } } } }',
    expected: {
      data: { topNode: { related: [{ __typename: 'Dvd', id: 'd1', score: 20, title: 'Alien' }] } },
    },
  },
  {
    name: '@interfaceObject returning itself, from an implementation',
    query:
      '{ nodes { ... on Book { title related { ... on Dvd { title } } } ... on Dvd { related { id } } } }',
    expected: { data: { nodes: [{ title: 'Dune', related: [{ title: 'Alien' }] }, { related: [] }] } },
  },
  {
    name: 'non-resolvable @interfaceObject, then a resolvable one, then the interface',
    query: '{ pinned { id related { __typename ... on Dvd { title } } } }',
    expected: {
      data: {
        pinned: [
          { id: 'd1', related: [] },
          { id: 'b1', related: [{ __typename: 'Dvd', title: 'Alien' }] },
        ],
      },
    },
  },
];
