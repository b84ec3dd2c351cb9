import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IMAGE_NODE_OPTIONS } from './targets.ts';

describe('bench targets', () => {
  it("run with the gateway image's NODE_OPTIONS, so the bench measures what ships", () => {
    const dockerfile = readFileSync(new URL('../../../gateway/Dockerfile', import.meta.url), 'utf8');
    const set = /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile)?.[1]?.trim();
    expect(set).toBe(IMAGE_NODE_OPTIONS);
  });
});
