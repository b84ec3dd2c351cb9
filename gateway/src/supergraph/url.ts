import { SupergraphError } from './compose.ts';

export interface SupergraphUrlSource {
  url: string;
  /** Sent with each fetch (auth for a registry or a CDN). */
  headers: Readonly<Record<string, string>>;
  /** One fetch, headers and body. */
  timeoutMs: number;
}

interface Validators {
  sdl: string;
  etag?: string;
  lastModified?: string;
}

// The last body of each source and its validators, so a poll is a conditional GET and a 304 means "the
// one you have". Kept per process like the composition cache: one URL, one supergraph.
const lastBodies = new Map<string, Validators>();

/** The URL as logs and /health/ready show it: no credentials, no query string (tokens live there). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Fetches a supergraph SDL from `source.url` with If-None-Match / If-Modified-Since after the first time;
 * a 304 gives back the body fetched before. Throws SupergraphError on a network error, a timeout, a
 * non-2xx answer or an empty body.
 */
export async function fetchSupergraphUrl(source: SupergraphUrlSource): Promise<string> {
  const key = JSON.stringify([source.url, source.headers]);
  const known = lastBodies.get(key);
  const headers: Record<string, string> = {
    accept: 'application/graphql, text/plain;q=0.9, */*;q=0.1',
    ...source.headers,
  };
  if (known?.etag) headers['if-none-match'] = known.etag;
  if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
  const where = `supergraph ${shownUrl(source.url)}`;
  let response: Response;
  let body: string;
  try {
    const signal = AbortSignal.timeout(source.timeoutMs);
    response = await fetch(source.url, { headers, signal, redirect: 'follow' });
    body = response.status === 304 ? '' : await response.text();
  } catch (error) {
    const reason =
      error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
        ? `no answer within ${source.timeoutMs} ms`
        : ((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
    throw new SupergraphError('SUPERGRAPH_UNAVAILABLE', `${where}: ${reason}`);
  }
  if (response.status === 304 && known) return known.sdl;
  if (response.status < 200 || response.status > 299)
    throw new SupergraphError('SUPERGRAPH_UNAVAILABLE', `${where}: answered ${response.status}`);
  if (!body.trim()) throw new SupergraphError('SUPERGRAPH_INVALID', `${where}: answered an empty body`);
  const etag = response.headers.get('etag') ?? undefined;
  const lastModified = response.headers.get('last-modified') ?? undefined;
  lastBodies.set(key, { sdl: body, ...(etag && { etag }), ...(lastModified && { lastModified }) });
  return body;
}
