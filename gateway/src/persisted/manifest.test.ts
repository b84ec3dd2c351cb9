import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PERSISTED_MANIFEST_INVALID } from './errors.ts';
import { loadManifest, parseManifest } from './manifest.ts';

const apollo = {
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: [
    { id: 'a1', body: 'query A { a }', name: 'A', type: 'query' },
    { id: 'b2', body: 'mutation B { b }', name: 'B', type: 'mutation' },
  ],
};

describe('parseManifest', () => {
  it('reads the Apollo manifest format', () => {
    const m = parseManifest(apollo);
    expect([...m.keys()]).toEqual(['a1', 'b2']);
    expect(m.get('b2')).toEqual({ id: 'b2', body: 'mutation B { b }', name: 'B', type: 'mutation' });
  });

  it('reads a plain id → document object', () => {
    const m = parseManifest({ x: '{ a }', y: '{ b }' });
    expect(m.get('y')?.body).toBe('{ b }');
    expect(m.size).toBe(2);
  });

  it('accepts the same id twice with the same body', () => {
    const ops = [apollo.operations[0], apollo.operations[0]];
    expect(parseManifest({ ...apollo, operations: ops }).size).toBe(1);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /expected a JSON object/],
    ['another format', { ...apollo, format: 'relay' }, /unknown format "relay"/],
    ['another version', { ...apollo, version: 2 }, /unsupported version 2/],
    ['operations not a list', { ...apollo, operations: {} }, /operations: expected an array/],
    [
      'an id that is not a string',
      { ...apollo, operations: [{ id: 1, body: '{a}' }] },
      /operations\[0\]\.id/,
    ],
    ['a body that is not a string', { ...apollo, operations: [{ id: 'x' }] }, /operations\[0\]\.body/],
    ['an empty body', { ...apollo, operations: [{ id: 'x', body: '  ' }] }, /empty body/],
    [
      'one id, two bodies',
      { ...apollo, operations: [apollo.operations[0], { id: 'a1', body: '{ other }' }] },
      /a1 is listed twice/,
    ],
    ['a map value that is not a string', { x: 1 }, /x: expected the document as a string/],
  ];
  it.each(bad)('refuses %s, naming the problem', (_name, json, message) => {
    expect(() => parseManifest(json, 'm.json')).toThrow(message);
    try {
      parseManifest(json, 'm.json');
    } catch (error) {
      expect((error as { code: string }).code).toBe(PERSISTED_MANIFEST_INVALID);
      expect((error as Error).message).toMatch(/^m\.json: /);
    }
  });
});

describe('loadManifest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-manifest-'));
  it('loads a file, and names the file when it is missing or not JSON', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(apollo));
    expect(loadManifest(good).size).toBe(2);
    expect(() => loadManifest(join(dir, 'missing.json'))).toThrow(/missing\.json: ENOENT/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"format":');
    expect(() => loadManifest(broken)).toThrow(/broken\.json: not valid JSON/);
  });
});
