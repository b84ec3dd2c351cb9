import type { Case } from '../lib/types.ts';

// p1 Pen (code X1, ACTIVE), p2 Ink (code X2, SECRET)
export const cases: Case[] = [
  {
    name: 'accessible fields of a type with a hidden one',
    query: '{ products { id name } }',
    expected: {
      data: {
        products: [
          { id: 'p1', name: 'Pen' },
          { id: 'p2', name: 'Ink' },
        ],
      },
    },
  },
  {
    name: 'a hidden field is refused by validation',
    query: '{ products { id code } }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'a hidden field still feeds a @requires',
    query: '{ products { name label } }',
    expected: {
      data: {
        products: [
          { name: 'Pen', label: 'label-X1' },
          { name: 'Ink', label: 'label-X2' },
        ],
      },
    },
  },
  {
    name: 'a hidden root field is refused',
    query: '{ secretProducts { id } }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'an accessible enum value as an argument',
    query: '{ byStatus(status: ACTIVE) { name } }',
    expected: { data: { byStatus: [{ name: 'Pen' }] } },
  },
  {
    name: 'a hidden enum value as an argument is refused',
    query: '{ byStatus(status: SECRET) { name } }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'a hidden enum value as a variable is refused',
    query: 'query ($s: Status!) { byStatus(status: $s) { name } }',
    variables: { s: 'SECRET' },
    expected: { data: null },
    errors: true,
  },
];
