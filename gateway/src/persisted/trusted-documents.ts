import { createHash } from 'node:crypto';
import { stripIgnoredCharacters } from 'graphql';
import type { Manifest } from './manifest.ts';

/** What a request carries: the query text, an id (hash or document id), or both. */
export interface DocumentRequest {
  query?: string;
  id?: string;
}

/**
 * - `listed`: the id names a registered operation; run `query`, its registered text.
 * - `listed-text`: no id (or one not listed) but the text is a registered operation's.
 * - `unknown-id`: only an id, and no registered operation has it.
 * - `not-listed`: text that no registered operation has.
 * - `mismatch`: a registered id sent with a different text.
 */
export type TrustDecision =
  | { kind: 'listed'; query: string }
  | { kind: 'listed-text' }
  | { kind: 'unknown-id' }
  | { kind: 'not-listed' }
  | { kind: 'mismatch' };

export interface TrustedDocuments {
  check(request: DocumentRequest): TrustDecision;
  readonly size: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The text with insignificant whitespace, commas and comments removed; undefined when it does not lex. */
function canonical(text: string): string | undefined {
  try {
    return stripIgnoredCharacters(text);
  } catch {
    return undefined;
  }
}

/**
 * The trusted-documents check (pure; no Apollo types). A request names a registered operation by its
 * manifest id or by the SHA-256 of its text (what APQ clients send), or sends the text itself, which
 * matches when it equals a registered text up to ignored characters (whitespace, commas, comments).
 */
export function createTrustedDocuments(manifest: Manifest): TrustedDocuments {
  const byId = new Map<string, string>();
  const texts = new Set<string>();
  for (const op of manifest.values()) {
    byId.set(op.id, op.body);
    byId.set(sha256(op.body), op.body);
    texts.add(op.body);
    const c = canonical(op.body);
    if (c !== undefined) texts.add(c);
  }
  const listedText = (query: string) => {
    if (texts.has(query)) return true;
    const c = canonical(query);
    return c !== undefined && texts.has(c);
  };
  return {
    size: manifest.size,
    check({ query, id }) {
      const registered = id === undefined ? undefined : byId.get(id);
      if (registered !== undefined) {
        if (query === undefined || query === registered) return { kind: 'listed', query: registered };
        return canonical(query) === canonical(registered)
          ? { kind: 'listed', query: registered }
          : { kind: 'mismatch' };
      }
      if (query === undefined) return { kind: 'unknown-id' };
      return listedText(query) ? { kind: 'listed-text' } : { kind: 'not-listed' };
    },
  };
}
