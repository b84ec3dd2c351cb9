import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IMAGE_NODE_OPTIONS } from './targets.ts';

describe('bench targets', () => {
  it("TOLLGATE_BENCH_NODE_OPTIONS=image gives every target the gateway image's NODE_OPTIONS", () => {
    const dockerfile = readFileSync(new URL('../../../gateway/Dockerfile', import.meta.url), 'utf8');
    const set = /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile)?.[1]?.trim();
    expect(set).toBe(IMAGE_NODE_OPTIONS);
  });
});
