import type { Case } from '../lib/types.ts';

// Size (input only) is S M in the supergraph; Tone (output only) is WARM COOL NEUTRAL; Filter is { term }.
export const cases: Case[] = [
  { name: 'input enum: a shared value', query: '{ sized(size: S) }', expected: { data: { sized: 'a:S' } } },
  {
    name: 'input enum: a shared value, to the other subgraph',
    query: '{ sizedB(size: M) }',
    expected: { data: { sizedB: 'b:M' } },
  },
  {
    name: 'input enum: a value only one subgraph has is refused',
    query: '{ sized(size: L) }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'input enum: a value only the other subgraph has is refused',
    query: '{ sizedB(size: XL) }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'input enum as a variable',
    query: 'query ($s: Size!) { sized(size: $s) sizedB(size: $s) }',
    variables: { s: 'M' },
    expected: { data: { sized: 'a:M', sizedB: 'b:M' } },
  },
  {
    name: 'input enum as a variable, a value not in the intersection',
    query: 'query ($s: Size!) { sized(size: $s) }',
    variables: { s: 'XL' },
    expected: { data: null },
    errors: true,
  },
  {
    name: 'output enum: values from both subgraphs',
    query: '{ toneA toneB }',
    expected: { data: { toneA: 'COOL', toneB: 'NEUTRAL' } },
  },
  {
    name: 'input object: the shared field',
    query: '{ findA(filter: { term: "x" }) findB(filter: { term: "y" }) }',
    expected: { data: { findA: 'a:x:none', findB: 'b:y:none' } },
  },
  {
    name: 'input object: a field only one subgraph has is refused',
    query: '{ findA(filter: { term: "x", limit: 2 }) }',
    expected: { data: null },
    errors: true,
  },
  {
    name: 'input object as a variable',
    query: 'query ($f: Filter!) { findA(filter: $f) findB(filter: $f) }',
    variables: { f: { term: 'v' } },
    expected: { data: { findA: 'a:v:none', findB: 'b:v:none' } },
  },
  {
    name: 'input object as a variable with a field not in the intersection',
    query: 'query ($f: Filter!) { findB(filter: $f) }',
    variables: { f: { term: 'v', tag: 't' } },
    expected: { data: null },
    errors: true,
  },
];
