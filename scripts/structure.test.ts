import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deepImports, findCycles, importGraph, listSources, longFiles, relativeTo } from './structure.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rel = relativeTo(root);
const sourceDirs = ['gateway/src', 'services/kit/src', 'services/accounts/src', 'services/inventory/src']
  .concat(['services/products/src', 'services/reviews/src'])
  .map((d) => join(root, d));

/** A throwaway tree: path → source text. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'structure-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the checks themselves', () => {
  it('finds a cycle through a type-only import, and none in a chain', () => {
    const dir = tree({
      'a/index.ts': "export * from './a.ts';",
      'a/a.ts': "import type { B } from '../b/index.ts'; export type A = B;",
      'b/index.ts': "import { x } from '../a/index.ts'; export type B = 1; export { x };",
      'c/index.ts': "import type { A } from '../a/index.ts'; export type C = A;",
    });
    const cycles = findCycles(importGraph(listSources([dir]))).map((c) => c.map(relativeTo(dir)));
    expect(cycles).toEqual([['a/a.ts', 'a/index.ts', 'b/index.ts']]);
  });

  it('flags an import past a folder index, but not one inside the folder', () => {
    const dir = tree({
      'pool/index.ts': "export * from './pool.ts';",
      'pool/pool.ts': "import { s } from './strategies/index.ts'; export const p = s;",
      'pool/strategies/index.ts': "export * from './rr.ts';",
      'pool/strategies/rr.ts': 'export const s = 1;',
      'pool/bad.ts': "import { s } from './strategies/rr.ts'; export const b = s;",
      'server/main.ts':
        "import { p } from '../pool/pool.ts'; import { s } from '../pool/index.ts'; export { p, s };",
    });
    const found = deepImports(importGraph(listSources([dir]))).map(([a, b]) => [a, b].map(relativeTo(dir)));
    expect(found.sort()).toEqual([
      ['pool/bad.ts', 'pool/strategies/rr.ts'],
      ['server/main.ts', 'pool/pool.ts'],
    ]);
  });
});

describe('the source tree', () => {
  const files = listSources(sourceDirs);
  const graph = importGraph(files);

  it('has sources to check', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('has no import cycle', () => {
    expect(findCycles(graph).map((c) => c.map(rel).join(' <-> '))).toEqual([]);
  });

  it('imports another folder only through its index.ts', () => {
    expect(deepImports(graph).map(([from, to]) => `${rel(from)} -> ${rel(to)}`)).toEqual([]);
  });

  it('keeps every source file to 500 lines, the config schema aside (one concern, one zod schema)', () => {
    const gatewayAndKit = files.filter((f) => /\/(gateway|services\/kit)\/src\//.test(f));
    const long = longFiles(gatewayAndKit, 500).filter(([f]) => !f.endsWith('gateway/src/config/schema.ts'));
    expect(long.map(([f, n]) => `${rel(f)}: ${n} lines`)).toEqual([]);
  });
});
