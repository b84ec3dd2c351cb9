import type { Case } from '../lib/types.ts';

// b1 (cid 1/2, tag T) has a1 (pId p1, A1, cid a1-1/a1-2, score 11) and a2 (p2, A2, a2-1/a2-2, 22);
// nameInB is "B:" + name, greeting "hi " + name; b1's items (e) are [a2, a1] by composite key only.
export const cases: Case[] = [
  {
    name: 'one subgraph only',
    query: '{ b { id a { id name } } }',
    expected: {
      data: {
        b: {
          id: 'b1',
          a: [
            { id: 'a1', name: 'A1' },
            { id: 'a2', name: 'A2' },
          ],
        },
      },
    },
  },
  {
    name: 'a field behind a composite key another subgraph supplies',
    query: '{ b { tag } }',
    expected: { data: { b: { tag: 'T' } } },
  },
  {
    name: 'a field behind a second key another subgraph supplies',
    query: '{ b { a { score } } }',
    expected: { data: { b: { a: [{ score: 11 }, { score: 22 }] } } },
  },
  {
    name: 'a composite key field and a field beside it',
    query: '{ b { a { nameInB cid { one two } } } }',
    expected: {
      data: {
        b: {
          a: [
            { nameInB: 'B:A1', cid: { one: 'a1-1', two: 'a1-2' } },
            { nameInB: 'B:A2', cid: { one: 'a2-1', two: 'a2-2' } },
          ],
        },
      },
    },
  },
  {
    name: 'every subgraph, every key',
    query: '{ b { id tag a { id name nameInB score } } }',
    expected: {
      data: {
        b: {
          id: 'b1',
          tag: 'T',
          a: [
            { id: 'a1', name: 'A1', nameInB: 'B:A1', score: 11 },
            { id: 'a2', name: 'A2', nameInB: 'B:A2', score: 22 },
          ],
        },
      },
    },
  },
  {
    name: 'keys asked for alongside what they unlock',
    query: '{ b { cid { one } tag a { pId score } } }',
    expected: {
      data: {
        b: {
          cid: { one: '1' },
          tag: 'T',
          a: [
            { pId: 'p1', score: 11 },
            { pId: 'p2', score: 22 },
          ],
        },
      },
    },
  },
  {
    name: 'a chain of three keys: composite → id → pId',
    query: '{ b { items { score } } }',
    expected: { data: { b: { items: [{ score: 22 }, { score: 11 }] } } },
  },
  {
    name: 'a chain of keys with names from two subgraphs',
    query: '{ b { items { id name nameInB } } }',
    expected: {
      data: {
        b: {
          items: [
            { id: 'a2', name: 'A2', nameInB: 'B:A2' },
            { id: 'a1', name: 'A1', nameInB: 'B:A1' },
          ],
        },
      },
    },
  },
  {
    // Apollo's plan runs the fetch that needs name (and pId) before the fetches that get them; Tollgate's
    // executor runs such fetches again once their inputs are in (completeFetches). The hive planner
    // cannot plan it ("Expected a single parent", router-query-planner 0.0.38) and falls back to apollo.
    name: 'a chain of keys ending in a @requires',
    query: '{ b { items { greeting } } }',
    expected: { data: { b: { items: [{ greeting: 'hi A2' }, { greeting: 'hi A1' }] } } },
  },
  {
    // Apollo's plan runs the fetch that needs name (and pId) before the fetches that get them; Tollgate's
    // executor runs such fetches again once their inputs are in (completeFetches). The hive planner
    // cannot plan it ("Expected a single parent", router-query-planner 0.0.38) and falls back to apollo.
    name: 'the whole mashup',
    query: '{ b { tag a { greeting score } items { cid { two } pId score greeting } } }',
    expected: {
      data: {
        b: {
          tag: 'T',
          a: [
            { greeting: 'hi A1', score: 11 },
            { greeting: 'hi A2', score: 22 },
          ],
          items: [
            { cid: { two: 'a2-2' }, pId: 'p2', score: 22, greeting: 'hi A2' },
            { cid: { two: 'a1-2' }, pId: 'p1', score: 11, greeting: 'hi A1' },
          ],
        },
      },
    },
  },
];
