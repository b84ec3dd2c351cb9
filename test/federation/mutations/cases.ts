import type { Case } from '../lib/types.ts';

// Every case starts with reset (0); add and multiply change the shared counter and return it.
export const cases: Case[] = [
  {
    name: 'add, multiply, add: in document order',
    query: 'mutation { r: reset a: add(n: 2) m: multiply(n: 5) b: add(n: 1) }',
    expected: { data: { r: 0, a: 2, m: 10, b: 11 } },
  },
  {
    name: 'multiply before add',
    query: 'mutation { r: reset m: multiply(n: 5) a: add(n: 2) }',
    expected: { data: { r: 0, m: 0, a: 2 } },
  },
  {
    name: 'back and forth between subgraphs',
    query: 'mutation { r: reset a: add(n: 3) m: multiply(n: 2) m2: multiply(n: 3) a2: add(n: 1) }',
    expected: { data: { r: 0, a: 3, m: 6, m2: 18, a2: 19 } },
  },
  {
    name: 'with variables',
    query: 'mutation ($n: Int!) { r: reset a: add(n: $n) m: multiply(n: $n) }',
    variables: { n: 3 },
    expected: { data: { r: 0, a: 3, m: 9 } },
  },
  {
    name: 'mutations returning entities with fields from the other subgraph',
    query: 'mutation { r: reset x: bump(n: 4) { value doubled } y: bump(n: 1) { value doubled } }',
    expected: { data: { r: 0, x: { value: 4, doubled: 8 }, y: { value: 5, doubled: 10 } } },
  },
  {
    name: 'an entity mutation between scalar ones',
    query: 'mutation { r: reset a: add(n: 1) x: bump(n: 1) { id doubled } m: multiply(n: 10) }',
    expected: { data: { r: 0, a: 1, x: { id: 'c2', doubled: 4 }, m: 20 } },
  },
  {
    name: '__typename between mutations',
    query: 'mutation { r: reset a: add(n: 7) __typename m: multiply(n: 2) }',
    expected: { data: { r: 0, a: 7, __typename: 'Mutation', m: 14 } },
  },
  {
    name: 'the same mutation three times',
    query: 'mutation { r: reset x: add(n: 1) y: add(n: 1) z: add(n: 1) }',
    expected: { data: { r: 0, x: 1, y: 2, z: 3 } },
  },
];
