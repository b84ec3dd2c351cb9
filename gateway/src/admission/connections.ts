import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RefusalCounter } from './refusals.ts';

/** Open connections and what the cap did, since start. */
export interface ConnectionStats {
  open: number;
  /** Requests answered 503 + `Connection: close` because their connection was over server.maxConnections. */
  refused: number;
  /** Connections destroyed on accept, over the hard limit (server.maxConnectionsHard). */
  dropped: number;
}

export interface ConnectionLimits {
  /** Connections served normally; a request on one beyond it gets 503 and its connection closed. 0: no cap. */
  maxConnections: number;
  /** Connections accepted at all; beyond it node destroys them on accept. @default 2 × maxConnections */
  maxConnectionsHard?: number | undefined;
}

interface Deps {
  refusals: RefusalCounter;
  stats: ConnectionStats;
  shed(res: ServerResponse, reason: 'connections', message: string): void;
}

// What node writes itself when no 'clientError' listener exists (lib/_http_server.js), kept as it is.
const CLIENT_ERROR_RESPONSES: Record<string, { status: number; head: string; reason: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    head: 'HTTP/1.1 431 Request Header Fields Too Large',
    reason: 'header_size',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    head: 'HTTP/1.1 413 Payload Too Large',
    reason: 'chunk_extensions',
  },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, head: 'HTTP/1.1 408 Request Timeout', reason: 'request_timeout' },
};

/**
 * The connection cap of one listener and the count of the refusals node answers itself. Beyond
 * `maxConnections` a request is still read and answered, fast: 503 OVERLOADED with `Connection: close`
 * (a client sees a refusal it can retry elsewhere rather than a reset or a wait in the kernel's accept
 * queue); beyond the hard limit node destroys the connection on accept. Takes over the server's
 * 'request' listeners that exist now, so call it once the handler is attached (one line where a listener
 * is created). Its 431 (headers too large), 408 (request timeout) and 400 (unparsable request) answers
 * are node's own, counted.
 */
export function guardConnections(server: Server, limits: ConnectionLimits, deps: Deps): void {
  const { stats, refusals } = deps;
  const soft = limits.maxConnections;
  const hard = soft > 0 ? Math.max(soft, limits.maxConnectionsHard ?? soft * 2) : 0;
  if (hard > 0) server.maxConnections = hard;
  const excess = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    stats.open++;
    if (soft > 0 && stats.open > soft) excess.add(socket);
    socket.once('close', () => stats.open--);
  });
  server.on('drop', () => {
    stats.dropped++;
  });
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (soft > 0) {
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (excess.has(req.socket)) {
        stats.refused++;
        refusals.count(503, 'connections');
        res.shouldKeepAlive = false;
        res.setHeader('connection', 'close');
        req.resume();
        return deps.shed(
          res,
          'connections',
          `The gateway is at its limit of ${soft} connections; retry shortly`,
        );
      }
      for (const handler of handlers) handler.call(server, req, res);
    });
  }
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const known = CLIENT_ERROR_RESPONSES[error.code ?? ''];
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const answer = known ?? { status: 400, head: 'HTTP/1.1 400 Bad Request', reason: 'malformed' };
      refusals.count(answer.status, answer.reason);
      socket.write(`${answer.head}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy(error);
  });
}
