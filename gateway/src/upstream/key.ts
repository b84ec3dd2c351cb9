/** What identifies a shareable upstream subscription: the subgraph and exactly what is sent to it. */
export function upstreamKey(
  subgraph: string,
  request: { query: string; variables?: Record<string, unknown>; operationName?: string },
): string {
  return JSON.stringify([subgraph, request.query, request.operationName ?? null, request.variables ?? {}]);
}

/** The WebSocket URL of a replica's HTTP GraphQL URL. */
export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/, 'ws$1:');
}

/** Delay before the n-th attempt (0-based) to find a replica again: 0, 50, 100, 200, 400 ms, capped at 500. */
export function backoffMs(attempt: number): number {
  return attempt === 0 ? 0 : Math.min(500, 25 * 2 ** attempt);
}
