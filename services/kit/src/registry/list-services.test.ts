import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listServices } from './index.ts';

describe('listServices', () => {
  const root = mkdtempSync(join(tmpdir(), 'tollgate-services-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds the sample subgraphs and skips kit', () => {
    // a checkout may hold services of its own (npm run service:new) beside the four samples
    const names = listServices().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['accounts', 'inventory', 'products', 'reviews']));
    expect(names).not.toContain('kit');
    expect(names).toEqual([...names].sort());
  });

  it('counts a folder only when it has schema.graphql and src/main.ts', () => {
    const make = (name: string, files: string[]) => {
      for (const file of files) {
        mkdirSync(join(root, name, 'src'), { recursive: true });
        writeFileSync(join(root, name, file), '');
      }
    };
    make('zeta', ['schema.graphql', 'src/main.ts']);
    make('alpha', ['schema.graphql', 'src/main.ts']);
    make('lib', ['src/main.ts']);
    make('draft', ['schema.graphql']);
    expect(listServices(root)).toEqual([
      { name: 'alpha', dir: join(root, 'alpha'), main: join(root, 'alpha', 'src', 'main.ts') },
      { name: 'zeta', dir: join(root, 'zeta'), main: join(root, 'zeta', 'src', 'main.ts') },
    ]);
  });
});
