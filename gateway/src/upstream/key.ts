/**
 * What identifies a shareable upstream subscription: the subgraph and exactly what is sent to it, the
 * header rules' headers included (in a fixed order, so the same headers make the same key).
 */
export function upstreamKey(
  subgraph: string,
  request: { query: string; variables?: Record<string, unknown>; operationName?: string },
  headers: Readonly<Record<string, string>> = {},
): string {
  const sent = Object.entries(headers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    subgraph,
    request.query,
    request.operationName ?? null,
    request.variables ?? {},
    sent,
  ]);
}

/** The WebSocket URL of a replica's HTTP GraphQL URL. */
export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/, 'ws$1:');
}

/** Delay before the n-th attempt (0-based) to find a replica again: 0, 50, 100, 200, 400 ms, capped at 500. */
export function backoffMs(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(500, 25 * 2 ** attempt);
}
