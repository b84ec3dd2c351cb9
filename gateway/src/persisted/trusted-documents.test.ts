import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.ts';
import { createTrustedDocuments, type DocumentRequest, type TrustDecision } from './trusted-documents.ts';

const body = 'query Top($n: Int) {\n  topProducts(first: $n) {\n    upc\n    name\n  }\n}';
const sha = createHash('sha256').update(body).digest('hex');
const trusted = createTrustedDocuments(
  parseManifest({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [{ id: 'custom-id', body, name: 'Top', type: 'query' }],
  }),
);

const cases: [string, DocumentRequest, TrustDecision['kind']][] = [
  ['the manifest id alone', { id: 'custom-id' }, 'listed'],
  ['the SHA-256 of the listed text alone', { id: sha }, 'listed'],
  ['the id with its own text', { id: 'custom-id', query: body }, 'listed'],
  ['the id with its text reformatted', { id: 'custom-id', query: body.replace(/\n\s*/g, ' ') }, 'listed'],
  ['the id with another text', { id: 'custom-id', query: '{ topProducts { price } }' }, 'mismatch'],
  ['the listed text, exactly', { query: body }, 'listed-text'],
  [
    'the listed text, other whitespace, commas and comments',
    { query: `# hi\n${body.replace(/\n\s*/g, ', ')}` },
    'listed-text',
  ],
  ['the listed text with an unknown APQ hash', { id: 'f'.repeat(64), query: body }, 'listed-text'],
  ['an unknown id', { id: 'nope' }, 'unknown-id'],
  ['an unknown text', { query: '{ topProducts { price } }' }, 'not-listed'],
  [
    'a text that differs in a string literal only',
    { query: body.replace('upc', 'upc(x: "a  b")') },
    'not-listed',
  ],
  ['garbage that does not lex', { query: '{ "unterminated' }, 'not-listed'],
  ['nothing at all', {}, 'unknown-id'],
];

describe('createTrustedDocuments', () => {
  it.each(cases)('%s → %s', (_name, request, kind) => {
    const decision = trusted.check(request);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'listed') expect(decision.query).toBe(body);
  });

  it('counts the registered operations', () => {
    expect(trusted.size).toBe(1);
  });
});
