import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configReference } from './docs.ts';

describe('docs/config.md', () => {
  it('is what the schema generates (run `npm run docs:config` after changing the schema)', () => {
    const onDisk = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(configReference());
  });

  it('documents every key with a description', () => {
    const rows = configReference()
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    expect(rows.length).toBeGreaterThan(30);
    for (const row of rows) expect(row, row).not.toMatch(/\|\s*\|$/);
  });
});
