import { describe, expect, it } from 'vitest';
import { upstreamKey } from './key.ts';

describe('upstreamKey', () => {
  const request = { query: 'subscription { reviewAdded { id } }' };

  it('is the same for the same request and the same rule headers, in any order', () => {
    expect(upstreamKey('reviews', request, { 'x-a': '1', 'x-b': '2' })).toBe(
      upstreamKey('reviews', request, { 'x-b': '2', 'x-a': '1' }),
    );
    expect(upstreamKey('reviews', request)).toBe(upstreamKey('reviews', request, {}));
  });

  it('differs when the header rules give a caller other headers: no sharing across tenants', () => {
    expect(upstreamKey('reviews', request, { 'x-tenant': 'acme' })).not.toBe(
      upstreamKey('reviews', request, { 'x-tenant': 'globex' }),
    );
    expect(upstreamKey('reviews', request, { 'x-tenant': 'acme' })).not.toBe(upstreamKey('reviews', request));
  });
});
