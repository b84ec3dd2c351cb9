/** An HTTP GraphQL request as the gateway's handler holds it before Apollo Server sees it. */
export interface RawGraphQLRequest {
  /** The query string of the URL, with its `?`, or empty. */
  search: string;
  /** The parsed JSON body (an object, or an array of them when batching), or undefined for GET. */
  body: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function mapOne(op: unknown): unknown {
  if (!isRecord(op) || typeof op.documentId !== 'string') return op;
  const { documentId, ...rest } = op;
  const extensions = isRecord(rest.extensions) ? rest.extensions : {};
  if (extensions.persistedQuery !== undefined) return rest;
  return { ...rest, extensions: { ...extensions, persistedQuery: { version: 1, sha256Hash: documentId } } };
}

/**
 * Accepts the `documentId` of the GraphQL-over-HTTP persisted documents draft (body field or GET
 * parameter) by turning it into Apollo's `extensions.persistedQuery`, which the rest of the gateway reads.
 * Pure; anything else passes through unchanged.
 */
export function documentIdToExtensions(request: RawGraphQLRequest): RawGraphQLRequest {
  const body = Array.isArray(request.body) ? request.body.map(mapOne) : mapOne(request.body);
  let search = request.search;
  if (search.includes('documentId=')) {
    const params = new URLSearchParams(search);
    const id = params.get('documentId');
    if (id !== null && params.getAll('documentId').length === 1 && !params.has('extensions')) {
      params.delete('documentId');
      params.set('extensions', JSON.stringify({ persistedQuery: { version: 1, sha256Hash: id } }));
      search = `?${params.toString()}`;
    }
  }
  return { search, body };
}
