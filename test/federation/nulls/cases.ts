import type { Case } from '../lib/types.ts';

// o1 → c1 Carla (vip), o2 → null customer, o3 → c404 (b: null entity), o4 → c500 (b: error)
export const cases: Case[] = [
  {
    name: 'a null key: the entity is null and not fetched',
    query: '{ order(id: "o2") { id customer { id name } } }',
    expected: { data: { order: { id: 'o2', customer: null } } },
  },
  {
    name: 'keys only, no fetch to the other subgraph',
    query: '{ orders { customer { id } } }',
    expected: {
      data: {
        orders: [
          { customer: { id: 'c1' } },
          { customer: null },
          { customer: { id: 'c404' } },
          { customer: { id: 'c500' } },
        ],
      },
    },
  },
  {
    name: 'a known entity',
    query: '{ order(id: "o1") { customer { name vip } } }',
    expected: { data: { order: { customer: { name: 'Carla', vip: true } } } },
  },
  {
    name: 'a null entity: its nullable fields are null, with no error',
    query: '{ order(id: "o3") { customer { id name } } }',
    expected: { data: { order: { customer: { id: 'c404', name: null } } } },
  },
  {
    name: 'a null entity: a non-null field nulls the entity, with an error',
    query: '{ order(id: "o3") { id customer { vip } } }',
    expected: { data: { order: { id: 'o3', customer: null } } },
    errors: true,
  },
  {
    name: 'a failed entity fetch: nullable fields null, with an error',
    query: '{ order(id: "o4") { customer { id name } } }',
    expected: { data: { order: { customer: { id: 'c500', name: null } } } },
    errors: true,
  },
  {
    name: 'a failed entity fetch: a non-null field nulls the entity',
    query: '{ order(id: "o4") { customer { id vip } } }',
    expected: { data: { order: { customer: null } } },
    errors: true,
  },
  {
    name: 'a list mixing every kind of null',
    query: '{ orders { id customer { name } } }',
    expected: {
      data: {
        orders: [
          { id: 'o1', customer: { name: 'Carla' } },
          { id: 'o2', customer: null },
          { id: 'o3', customer: { name: null } },
          { id: 'o4', customer: { name: null } },
        ],
      },
    },
    errors: true,
  },
  {
    name: 'a root entity that does not exist',
    query: '{ order(id: "nope") { id customer { name } } }',
    expected: { data: { order: null } },
  },
  {
    name: 'a non-null root field that is null nulls the data',
    query: '{ broken { id } }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'a non-null root field that is null nulls its siblings too',
    query: '{ order(id: "o1") { id } broken { id } }',
    expected: { data: null },
    errors: true,
  },
];
