import { describe, expect, it } from 'vitest';
import { documentIdToExtensions } from './document-id.ts';

const pq = (id: string) => ({ persistedQuery: { version: 1, sha256Hash: id } });

describe('documentIdToExtensions', () => {
  it('turns a body documentId into extensions.persistedQuery, keeping other extensions', () => {
    const out = documentIdToExtensions({
      search: '',
      body: { documentId: 'abc', variables: { n: 1 }, extensions: { trace: true } },
    });
    expect(out.body).toEqual({ variables: { n: 1 }, extensions: { trace: true, ...pq('abc') } });
  });

  it('maps every operation of a batch', () => {
    const out = documentIdToExtensions({ search: '', body: [{ documentId: 'a' }, { query: '{ x }' }] });
    expect(out.body).toEqual([{ extensions: pq('a') }, { query: '{ x }' }]);
  });

  it('leaves an explicit persistedQuery extension alone', () => {
    const out = documentIdToExtensions({ search: '', body: { documentId: 'a', extensions: pq('b') } });
    expect(out.body).toEqual({ extensions: pq('b') });
  });

  it('maps a GET documentId parameter', () => {
    const out = documentIdToExtensions({ search: '?documentId=abc&variables=%7B%7D', body: undefined });
    const params = new URLSearchParams(out.search);
    expect(params.get('documentId')).toBeNull();
    expect(JSON.parse(params.get('extensions')!)).toEqual(pq('abc'));
    expect(params.get('variables')).toBe('{}');
  });

  it.each([
    ['no documentId', { search: '?query=%7Bx%7D', body: undefined }],
    ['a documentId that is not a string', { search: '', body: { documentId: 5 } }],
    ['a body that is not an object', { search: '', body: 'text' }],
    ['a GET with two documentIds', { search: '?documentId=a&documentId=b', body: undefined }],
  ])('passes %s through unchanged', (_name, request) => {
    expect(documentIdToExtensions(request)).toEqual(request);
  });
});
