import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeLargeSupergraph, largeOperations, largeSubgraphs } from './large-supergraph.ts';

describe('large supergraph', () => {
  it('is deterministic', () => {
    expect(largeSubgraphs(30)).toEqual(largeSubgraphs(30));
  });

  it('composes with ≥ 50 subgraphs and ≥ 500 types, and its operations validate against it', () => {
    const subgraphs = largeSubgraphs();
    expect(subgraphs.length).toBeGreaterThanOrEqual(50);
    const supergraph = Supergraph.build(composeLargeSupergraph());
    const api = supergraph.apiSchema();
    const types = api.types().filter((t) => !t.isBuiltIn);
    expect(types.length).toBeGreaterThanOrEqual(500);
    const kinds = new Set(types.map((t) => t.kind));
    expect(kinds).toEqual(
      new Set(['ObjectType', 'InterfaceType', 'UnionType', 'EnumType', 'InputObjectType']),
    );
    const sdl = subgraphs.map((s) => s.sdl).join('\n');
    for (const directive of ['@requires(', '@external', '@interfaceObject', '@key(fields: "sku")'])
      expect(sdl).toContain(directive);
    expect(sdl).toMatch(/\[\[\w+!\]!\]!/);
    // Every entity is resolved by its owner and three contributing subgraphs.
    expect(subgraphs.filter((s) => /type E05 @key/.test(s.sdl)).length).toBeGreaterThanOrEqual(4);
    for (const op of largeOperations()) {
      const operation = operationFromDocument(api, parse(op.query), { operationName: op.operationName });
      expect(operation.selectionSet.isEmpty()).toBe(false);
    }
  }, 60_000);
});
