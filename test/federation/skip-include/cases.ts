import type { Case } from '../lib/types.ts';

// p1 Pen 2, p2 Ink 5 (name from catalog, price from pricing)
const Q = 'query ($s: Boolean!) { products { id price @skip(if: $s) } }';
export const cases: Case[] = [
  {
    name: '@skip(if: true) on a local field',
    query: '{ products { id name @skip(if: true) } }',
    expected: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
  },
  {
    name: '@include(if: false) on a remote field',
    query: '{ products { id price @include(if: false) } }',
    expected: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
  },
  {
    name: '@skip from a variable, false',
    query: Q,
    variables: { s: false },
    expected: {
      data: {
        products: [
          { id: 'p1', price: 2 },
          { id: 'p2', price: 5 },
        ],
      },
    },
  },
  {
    name: '@skip from a variable, true',
    query: Q,
    variables: { s: true },
    expected: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
  },
  {
    name: '@include with a default variable',
    query: 'query ($i: Boolean = true) { product(id: "p2") { price @include(if: $i) } }',
    expected: { data: { product: { price: 5 } } },
  },
  {
    name: '@include on an inline fragment',
    query: 'query ($i: Boolean!) { products { id ... on Product @include(if: $i) { price } } }',
    variables: { i: false },
    expected: { data: { products: [{ id: 'p1' }, { id: 'p2' }] } },
  },
  {
    name: '@skip on a named fragment spread',
    query: '{ products { name ...P @skip(if: true) } } fragment P on Product { price }',
    expected: { data: { products: [{ name: 'Pen' }, { name: 'Ink' }] } },
  },
  {
    name: '@skip(if: false) and @include(if: true) together keep the field',
    query: '{ product(id: "p1") { price @skip(if: false) @include(if: true) } }',
    expected: { data: { product: { price: 2 } } },
  },
  {
    name: '@skip(if: true) wins over @include(if: true)',
    query: '{ product(id: "p1") { name price @skip(if: true) @include(if: true) } }',
    expected: { data: { product: { name: 'Pen' } } },
  },
  {
    name: 'a skipped root field',
    query: '{ products @skip(if: true) { id } one: product(id: "p1") { name } }',
    expected: { data: { one: { name: 'Pen' } } },
  },
  {
    name: 'the key is skipped but the join still happens',
    query: '{ products { id @skip(if: true) price } }',
    expected: { data: { products: [{ price: 2 }, { price: 5 }] } },
  },
  {
    name: 'the same field skipped in one selection and kept in another',
    query: '{ product(id: "p2") { price @skip(if: true) ... on Product { price } } }',
    expected: { data: { product: { price: 5 } } },
  },
];
