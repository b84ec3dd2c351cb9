import { HEADER_VALUE } from './reserved.ts';

/**
 * The claim at `path` in a principal's claims: the claim of that exact name first (namespaced claims such
 * as `https://acme.example/tenant` have dots of their own), else a dot path into nested objects
 * (`org.id` → `claims.org.id`). Undefined when absent.
 */
export function claimAt(claims: Readonly<Record<string, unknown>> | undefined, path: string): unknown {
  if (!claims) return undefined;
  if (Object.hasOwn(claims, path)) return claims[path];
  let node: unknown = claims;
  for (const step of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, step))
      return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * A claim as a header value: a string, number or boolean as written; a list of them joined with `, `
 * (one field line holding a list, RFC 9110 §5.3). Objects, null, empty lists and values a header cannot
 * carry (line breaks, non-ASCII) give undefined: the header is left out rather than mangled.
 */
export function claimHeaderValue(value: unknown): string | undefined {
  let text: string | undefined;
  if (Array.isArray(value)) {
    const parts = value.map(scalar);
    if (!parts.length || parts.some((p) => p === undefined || p === '')) return undefined;
    text = parts.join(', ');
  } else {
    text = scalar(value);
  }
  return text !== undefined && HEADER_VALUE.test(text) ? text : undefined;
}
