import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type CorsOptions, type CorsPolicy, createCorsPolicy, decideCors, upgradeAllowed } from './cors.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const one = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value.join(', ') : value;

/**
 * Keeps `Vary: Origin` on the response whatever the handler sets: Apollo Server writes its own
 * `vary: accept` with writeHead, which would replace a header set earlier rather than add to it.
 */
function keepVary(res: ServerResponse, vary: string): void {
  const merge = (other: unknown): string => {
    const given = Array.isArray(other) ? other.join(', ') : other === undefined ? '' : String(other);
    const names = given.split(',').map((s) => s.trim());
    const have = new Set(names.map((s) => s.toLowerCase()));
    for (const v of vary.split(',').map((s) => s.trim())) if (!have.has(v.toLowerCase())) names.push(v);
    return names.filter(Boolean).join(', ');
  };
  res.setHeader('vary', vary);
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) =>
    name.toLowerCase() === 'vary' ? setHeader(name, merge(value)) : setHeader(name, value);
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const at = typeof args[1] === 'string' ? 2 : 1;
    const headers = args[at];
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const record = { ...(headers as OutgoingHttpHeaders) };
      for (const k of Object.keys(record))
        if (k.toLowerCase() === 'vary') {
          record[k] = merge(record[k]);
          args[at] = record;
        }
    }
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}

/**
 * Wraps the gateway's request handler with CORS (server.cors): preflights and plain OPTIONS are answered
 * here and never reach Apollo Server (whose CSRF check would answer a preflight 400); other requests
 * get the CORS headers of their origin, set before the handler writes its own.
 */
export function withCors(handler: Handler, options: CorsOptions): Handler {
  const policy = createCorsPolicy(options);
  return async (req, res) => {
    const decision = decideCors(policy, {
      method: req.method ?? 'GET',
      origin: one(req.headers.origin),
      requestMethod: one(req.headers['access-control-request-method']),
      requestHeaders: one(req.headers['access-control-request-headers']),
    });
    if (decision.kind === 'preflight' && !decision.allowed) {
      const body = JSON.stringify({ error: `CORS preflight refused: ${decision.reason}` });
      res.writeHead(403, {
        ...decision.headers,
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
      });
      return void res.end(body);
    }
    if (decision.kind !== 'actual') {
      res.writeHead(decision.status, { ...decision.headers, 'content-length': '0' });
      return void res.end();
    }
    for (const [name, value] of Object.entries(decision.headers)) {
      if (name === 'vary') keepVary(res, value);
      else res.setHeader(name, value);
    }
    return handler(req, res);
  };
}

/**
 * Refuses (403, before any WebSocket frame) an upgrade whose Origin is neither the gateway's own nor
 * allowed by server.cors.origins, so a page of another site cannot open a subscription socket.
 */
export function guardUpgrade(
  options: CorsOptions,
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const policy: CorsPolicy = createCorsPolicy(options);
  return (req, socket, head) => {
    if (upgradeAllowed(policy, one(req.headers.origin), req.headers.host)) return upgrade(req, socket, head);
    const body = 'WebSocket origin not allowed (server.cors.origins)\n';
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
  };
}
