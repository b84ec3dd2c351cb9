import type { Case } from '../lib/types.ts';

// The skip-include subgraphs: p1 Pen 2, p2 Ink 5. No multipart accept: every case expects the full data.
const both = {
  products: [
    { id: 'p1', name: 'Pen', price: 2 },
    { id: 'p2', name: 'Ink', price: 5 },
  ],
};
export const cases: Case[] = [
  {
    name: 'a deferred remote field',
    query: '{ products { id name ... @defer { price } } }',
    expected: { data: both },
  },
  {
    name: 'a labelled deferred fragment',
    query: '{ products { id name ... @defer(label: "price") { price } } }',
    expected: { data: both },
  },
  {
    name: '@defer(if: false)',
    query: '{ products { id name ... @defer(if: false) { price } } }',
    expected: { data: both },
  },
  {
    name: 'nested deferred fragments',
    query: '{ products { id ... @defer { name ... @defer { price } } } }',
    expected: { data: both },
  },
  {
    name: 'a deferred named fragment',
    query: '{ products { id ...P @defer } } fragment P on Product { name price }',
    expected: { data: both },
  },
  {
    name: 'a deferred root field',
    query: '{ ... @defer { products { id name price } } }',
    expected: { data: both },
  },
  {
    name: 'a deferred local field on one entity',
    query: '{ product(id: "p2") { price ... @defer { name } } }',
    expected: { data: { product: { price: 5, name: 'Ink' } } },
  },
  {
    name: '@defer beside @skip',
    query: '{ product(id: "p1") { id ... @defer { name @skip(if: true) price } } }',
    expected: { data: { product: { id: 'p1', price: 2 } } },
  },
];
